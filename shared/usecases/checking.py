"""CheckThresholds' use case: judge one snapshot and tell people what changed.

Gather (snapshot, the 30 days before it, alert states) → decide (pure,
`shared.core.alerting`) → apply
(post one message, store the states). Each snapshot is checked once: the tenant's alert states
record the newest snapshot whose check completed, and a snapshot that is not newer than that is
skipped, so a redelivered message posts nothing new and an older snapshot checked after a newer
one never moves the states backwards.

States are written conditionally (ETags). When another check wrote first (Flex Consumption runs
checks in parallel), this one re-reads the states and decides again. A post that fails stores
the states as not told and raises, so the host retries the message (and the next snapshot
would post it anyway).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from shared.bootstrap import App
from shared.core.alerting import Decision, decide_metrics
from shared.core.coverage import Reading, missing_statuses, readings
from shared.core.snapshot import Snapshot, SnapshotKey, admin_names_of
from shared.core.trends import HISTORY_DAYS, Trend, trends
from shared.errors import CheckInProgressError, NotificationError, StateConflictError
from shared.messages.coverage import coverage_message

log = logging.getLogger(__name__)

# Re-reading and re-deciding after a conflict; more than a handful means something is wrong.
MAX_DECISIONS = 5
# A check posting its card holds the tenant for at most this long (a post takes seconds; a
# check that died meanwhile must not block the others for good). The others wait a little,
# then the queue's redelivery (every 2 minutes, host.json) tries again.
ANNOUNCING_LEASE = timedelta(minutes=5)
ANNOUNCING_WAIT = 2.0


@dataclass(frozen=True)
class CheckOutcome:
    readings: list[Reading]
    decision: Decision | None  # None when the snapshot had been checked already
    posted: bool


def check_snapshot(app: App, message: str) -> CheckOutcome:
    key = SnapshotKey.from_message(message)
    snapshot = app.snapshots.get_snapshot(key)
    # One bounded query gives the trends and, as its first entry, the previous snapshot.
    history = app.snapshots.history(
        key,
        since=snapshot.fetched_at - timedelta(days=HISTORY_DAYS),
        statuses=list(snapshot.report.counts),
    )
    # None fetched in 30 days: the previous one may still be older (the change column).
    previous = history[0] if history else app.snapshots.previous_snapshot(key)
    settings = app.settings
    current = readings(
        snapshot.report,
        settings.thresholds,
        previous.report if previous else None,
        settings.maximums,
    )
    _log_readings(snapshot.report.total_users, current)
    trend = trends([snapshot, *history])
    for attempt in range(1, MAX_DECISIONS + 1):
        try:
            return _decide_and_apply(app, snapshot, current, admin_names_of(message), trend)
        except (StateConflictError, CheckInProgressError) as exc:
            if attempt == MAX_DECISIONS:
                raise
            log.info("%s; deciding again (attempt %d)", exc, attempt + 1)
            if isinstance(exc, CheckInProgressError):
                app.sleep(ANNOUNCING_WAIT * attempt)  # it posts within seconds, then writes
    raise AssertionError("unreachable")  # the loop returns or raises


def _decide_and_apply(
    app: App,
    snapshot: Snapshot,
    current: list[Reading],
    admin_names: tuple[str, ...],
    trend: Mapping[str, Trend],
) -> CheckOutcome:
    key = snapshot.key
    prior = app.alerts.get_states(key.tenant_id)
    if prior.checked is not None and prior.checked.is_newer_or_same(key):
        log.info("snapshot %s was already checked (or a newer one was); nothing to do", key.row_key)
        return CheckOutcome(readings=[], decision=None, posted=False)
    wall_clock = app.clock()
    other = prior.announcing
    if other is not None and other != key and prior.announcing_since is not None:
        if wall_clock - prior.announcing_since < ANNOUNCING_LEASE:
            raise CheckInProgressError(f"the check of snapshot {other.row_key} is posting its card")

    missing = missing_statuses(snapshot.report, app.settings.thresholds, app.settings.maximums)
    for status in missing:
        log.error("THRESHOLDS names %r, which this report does not carry: not checked", status)
    now = snapshot.fetched_at  # the alert clock is the snapshot's: a replay decides the same
    decision = decide_metrics(
        prior.states,
        current,
        now=now,
        repeat=app.settings.alert_repeat,
        drop_points=app.settings.drop_alert_points,
        detail=key.row_key,
        missing=missing,
    )
    if not decision.events:
        app.alerts.save_states(
            key.tenant_id, prior, decision.states, cleared=decision.cleared, checked=key
        )
        return CheckOutcome(readings=current, decision=decision, posted=False)
    # Claim first, then post, then record what was told: a check that runs meanwhile finds the
    # claim and waits, instead of deciding from states that are about to change (it could
    # otherwise stay quiet after a stale "resolved" card went out). The claim is the states as
    # not yet told, so a post that fails leaves them to be told by the retry.
    claimed = app.alerts.save_states(
        key.tenant_id, prior, decision.states, checked=None, announcing=(key, wall_clock)
    )
    try:
        message = coverage_message(snapshot, current, decision.events, admin_names, trend)
        app.notifier.post_message(message)
    except NotificationError:
        # Not told: the retry (or the next snapshot) posts it. Closed states are kept for that.
        app.alerts.save_states(key.tenant_id, claimed, decision.states, checked=None)
        raise
    app.alerts.save_states(
        key.tenant_id, claimed, decision.delivered(now), cleared=decision.cleared, checked=key
    )
    return CheckOutcome(readings=current, decision=decision, posted=True)


def _log_readings(total: int, current: list[Reading]) -> None:
    if total == 0:
        log.warning("the report counts 0 users: coverage ratios are undefined, nothing is checked")
    for reading in current:
        ratio = "undefined" if reading.ratio is None else f"{float(reading.ratio):.2%}"
        threshold = "none" if reading.threshold is None else f"{float(reading.threshold):.2%}"
        if reading.maximum is not None:
            threshold = f"at most {reading.maximum} users"
        log.info(
            "%s: %s (%d of %d), threshold %s%s%s",
            reading.status,
            ratio,
            reading.count,
            reading.total,
            threshold,
            " BELOW" if reading.breached else "",
            " (more than the total, which counts enabled users only)"
            if reading.exceeds_total
            else "",
        )
