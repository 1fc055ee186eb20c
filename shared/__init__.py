"""The Entra registration monitor's own code; the function folders only call into it.

core/ (pure), sources/ (the report sources behind one port), messages/, notify/, stores/,
usecases/; at the top: bootstrap (composition root), settings, errors, redaction, retry.
"""
