"""CheckThresholds' use case: judge one snapshot and tell people what changed.

Gather (snapshot, the one before it, alert states) → decide (pure, `shared.alerting`) → apply
(post one message, store the states). Processing the same queue message twice posts nothing
new: the tenant's alert states record the newest snapshot whose check completed, and a snapshot
that is not newer than that is skipped. A post that fails stores the states as not told and
raises, so the host retries the message (and the next snapshot would post it anyway).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from shared.alerting import Decision, decide_metrics
from shared.bootstrap import App
from shared.cards import coverage_message
from shared.coverage import Reading, missing_statuses, readings
from shared.errors import NotificationError
from shared.snapshot import SnapshotKey

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CheckOutcome:
    readings: list[Reading]
    decision: Decision | None  # None when the snapshot had been checked already
    posted: bool


def check_snapshot(app: App, message: str) -> CheckOutcome:
    key = SnapshotKey.from_message(message)
    snapshot = app.snapshots.get_snapshot(key)
    states, checked = app.alerts.get_states(key.tenant_id)
    thresholds = app.settings.thresholds
    if checked is not None and checked.is_newer_or_same(key):
        log.info("snapshot %s was already checked (or a newer one was); nothing to do", key.row_key)
        return CheckOutcome(readings=[], decision=None, posted=False)

    previous = app.snapshots.previous_snapshot(key)
    current = readings(snapshot.report, thresholds, previous.report if previous else None)
    _log_readings(snapshot.report.total_users, current)
    for status in missing_statuses(snapshot.report, thresholds):
        log.warning("THRESHOLDS names %r, which this report does not carry: not checked", status)

    now = snapshot.fetched_at  # the alert clock is the snapshot's: a replay decides the same
    decision = decide_metrics(
        states,
        current,
        now=now,
        repeat=app.settings.alert_repeat,
        drop_points=app.settings.drop_alert_points,
        detail=key.row_key,
    )
    if not decision.events:
        app.alerts.save_states(key.tenant_id, decision.states, checked=key)
        return CheckOutcome(readings=current, decision=decision, posted=False)
    try:
        app.notifier.post_message(coverage_message(snapshot, current, decision.events))
    except NotificationError:
        app.alerts.save_states(key.tenant_id, decision.states, checked=None)
        raise
    app.alerts.save_states(key.tenant_id, decision.delivered(now), checked=key)
    return CheckOutcome(readings=current, decision=decision, posted=True)


def _log_readings(total: int, current: list[Reading]) -> None:
    if total == 0:
        log.warning("the report counts 0 users: coverage ratios are undefined, nothing is checked")
    for reading in current:
        ratio = "undefined" if reading.ratio is None else f"{reading.ratio:.1%}"
        threshold = "none" if reading.threshold is None else f"{reading.threshold:.1%}"
        log.info(
            "%s: %s (%d of %d), threshold %s%s",
            reading.status,
            ratio,
            reading.count,
            reading.total,
            threshold,
            " BELOW" if reading.breached else "",
        )
