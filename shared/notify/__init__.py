"""Where messages go: the Teams Workflows webhook, or the log when none is set (teams.py)."""
