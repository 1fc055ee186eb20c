"""The pure core: plain data and decisions, no I/O, no settings, no clock (`now` is passed).

report (the Report model), snapshot (keys, queue messages), coverage (limits, readings),
alerting (the alert lifecycle), trends, conditional_access + enforcement (is MFA required),
enforcement_status (the verdicts as a snapshot keeps them: counts, no ids).
"""
