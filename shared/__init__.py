"""The Entra registration monitor's own code; FetchReport and CheckThresholds only call into it.

Pure core: report (parse), coverage (ratios), alerting (lifecycle), cards (messages), snapshot.
Edges: graph (Graph + identity), storage (Table Storage), teams (webhook), retry, redaction.
Wiring: settings, bootstrap (composition root); use cases: fetching, checking.
"""
