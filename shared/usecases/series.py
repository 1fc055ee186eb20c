"""The daily series a snapshot's trends are drawn from (shared/core/trends.py).

Each check keeps the tenant's series beside its alert states (shared/stores/alerts.py), so a
check reads a few KB for its trends however often the report is fetched. A tenant whose
checks ran before the series existed (or whose series row is unreadable) has it rebuilt once
from the snapshot table: one single-row query per day of the last 30 that has a snapshot,
each reading only the count columns needed.
"""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta, timezone

from shared.core.snapshot import Snapshot
from shared.core.trends import HISTORY_DAYS, DailySeries, daily_series
from shared.stores.snapshots import SnapshotStore

log = logging.getLogger(__name__)


def series_with(
    snapshots: SnapshotStore, snapshot: Snapshot, stored: DailySeries | None
) -> DailySeries:
    """`stored` (rebuilt from the snapshot table if None) with `snapshot` as its newest point."""
    if stored is None:
        stored = rebuilt_series(snapshots, snapshot)
    return stored.with_snapshot(snapshot)


def rebuilt_series(snapshots: SnapshotStore, snapshot: Snapshot) -> DailySeries:
    """The series of the snapshots before `snapshot`, read from the snapshot table."""
    today = snapshot.fetched_at.astimezone(timezone.utc).date()
    since = datetime.combine(today - timedelta(days=HISTORY_DAYS), time(), tzinfo=timezone.utc)
    older = list(
        snapshots.last_of_each_day(snapshot.key, since, statuses=list(snapshot.report.counts))
    )
    log.info(
        "tenant %s has no daily series stored yet: built from %d days of snapshots",
        snapshot.key.tenant_id,
        len(older),
    )
    return daily_series(older)
