"""The use cases: gather, call the pure core, apply. One per entry point, plus their rules.

fetching (FetchReport, ContinueFetch), checking (CheckThresholds), digest (WeeklyDigest),
announcing (claim, then post, then record: every post goes through it), failures (what a run
that fails for good says in Teams), enforcing (what a fetch reads of MFA enforcement),
admin_names (ALERT_NAME_ADMINS: names asked of Graph for the card about to show them).
"""
