"""The weekly digest with TENANTS: every tenant's headline in one card (gather, then pure).

Gathered in a handful of queries whatever the number of tenants, plus one per tenant for its
alert states: the snapshots of the last 30 days (one query), every tenant's fetch health (one).
Posted under the digest's claim like the one-tenant digest (shared/usecases/digest.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from shared.bootstrap import App
from shared.core.coverage import readings
from shared.core.snapshot import Snapshot
from shared.core.trends import HISTORY_DAYS
from shared.messages.model import Message
from shared.messages.rollup import TenantSummary, rollup_message


def rollup_of(app: App, now: datetime) -> Message:
    newest: dict[str, Snapshot] = {}
    previous: dict[str, Snapshot] = {}
    # Newest first (row keys sort so): the first seen per tenant is its newest.
    for snapshot in app.snapshots.recent_snapshots(since=now - timedelta(days=HISTORY_DAYS)):
        tenant = snapshot.key.tenant_id
        if tenant not in newest:
            newest[tenant] = snapshot
        elif tenant not in previous:
            previous[tenant] = snapshot
    failing = {t for t, state in app.monitor.tenants_fetch_health().items() if state.firing}
    summaries = []
    for tenant in app.settings.tenants:
        settings = app.settings_for(tenant)
        headline = None
        if tenant in newest:
            before = previous.get(tenant)
            current = readings(
                newest[tenant].report,
                settings.thresholds,
                before.report if before else None,
                settings.maximums,
            )
            limited = [r for r in current if r.threshold is not None] or current
            headline = limited[0] if limited else None
        states = app.alerts.get_states(tenant).state.states
        firing = tuple(sorted(name for name, state in states.items() if state.firing))
        summaries.append(
            TenantSummary(
                label=app.fleet.profile(tenant).label,
                headline=headline,
                firing=firing,
                fetch_failing=tenant in failing,
            )
        )
    return rollup_message(now=now, tenants=summaries)
