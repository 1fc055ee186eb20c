"""FetchReport's use case: fetch the report, store a snapshot, say whether fetching works.

Gather (state, report) → decide (pure, `shared.alerting`) → apply (store, notify). A failing
fetch is announced once in Teams, then only as a reminder every ALERT_REPEAT_HOURS, and once
more when fetching works again; the error is still raised so the host records the failure.
"""

from __future__ import annotations

import logging

from shared.alerting import FETCH_HEALTH, AlertState, decide_fetch_health
from shared.bootstrap import App
from shared.cards import fetch_health_message
from shared.errors import CredentialError, GraphError, NotificationError, ReportFormatError
from shared.snapshot import Snapshot, snapshot_key

log = logging.getLogger(__name__)


def fetch_and_store(app: App) -> str:
    """Fetch and store one snapshot; return the queue message that names it."""
    now = app.clock()
    health = app.alerts.get_fetch_health()
    try:
        fetched = app.graph.fetch_report()
    except (CredentialError, GraphError, ReportFormatError) as exc:
        log.error("FetchReport failed: %s", exc)
        _announce_fetch_health(app, health, error=f"{type(exc).__name__}: {exc}")
        raise
    report = fetched.report
    snapshot = Snapshot(key=snapshot_key(fetched.tenant_id, now), fetched_at=now, report=report)
    app.snapshots.save_snapshot(snapshot)
    log.info(
        "stored snapshot %s/%s: %d users, %s",
        snapshot.key.tenant_id,
        snapshot.key.row_key,
        report.total_users,
        ", ".join(f"{status}={count}" for status, count in report.counts.items()) or "no statuses",
    )
    _announce_fetch_health(app, health, error=None)
    return snapshot.key.to_message()


def _announce_fetch_health(app: App, prior: AlertState | None, *, error: str | None) -> None:
    now = app.clock()
    decision = decide_fetch_health(prior, error=error, now=now, repeat=app.settings.alert_repeat)
    stored = decision.states
    try:
        for event in decision.events:
            app.notifier.post_message(fetch_health_message(event, now))
        stored = decision.delivered(now)
    except NotificationError as exc:
        # Not raised: a failed fetch raises its own error right after this, and a working fetch
        # must still hand its snapshot over. The state stays "not told", so the next run posts
        # this notice again.
        log.error("could not announce the fetch health in Teams (will retry next run): %s", exc)
    app.alerts.save_fetch_health(stored[FETCH_HEALTH])
