"""The weekly digest with TENANTS: every tenant's headline in one card (gather, then pure).

Gathered in one query for every tenant's fetch health, plus three single-row or one-partition
queries per tenant: its newest snapshot, the one before it, and its alert states. (One query
over every tenant's snapshots would come back partition by partition, capped at a page: the
last tenants would be missing.)
Posted under the digest's claim like the one-tenant digest (shared/usecases/digest.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from shared.bootstrap import App
from shared.core.coverage import readings
from shared.core.snapshot import stale_days
from shared.core.trends import HISTORY_DAYS
from shared.messages.model import Message
from shared.messages.rollup import TenantSummary, rollup_message


def rollup_of(app: App, now: datetime) -> Message:
    since = now - timedelta(days=HISTORY_DAYS)
    failing = {t for t, state in app.monitor.tenants_fetch_health().items() if state.firing}
    summaries = []
    for tenant in app.settings.tenants:
        settings = app.settings_for(tenant)
        headline = None
        newest = app.snapshots.newest_snapshot(since, tenant_id=tenant)
        if newest is not None:
            before = app.snapshots.previous_snapshot(newest.key)
            current = readings(
                newest.report,
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
                stale_days=stale_days(newest, now),
            )
        )
    return rollup_message(now=now, tenants=summaries)
