"""Table Storage behind the domain's verbs; the azure-data-tables types stay in this folder.

tables     the plumbing: clients, tables created on first need, errors, conditional writes
records    what the stores hand out: a state as read, its claim and its version
snapshots  SNAPSHOT_TABLE: one row per fetch (enforcement_columns: its enforcement status)
alerts     ALERT_TABLE, a tenant's partition: its metric states and its `_checked` marker
monitor    ALERT_TABLE, the monitor's own rows: fetch health, the source switch, digests
"""
