"""CheckThresholds' use case: judge one snapshot and tell people what changed.

Gather (snapshot, the previous one, alert states and the tenant's daily series) → decide
(pure, `shared.core.alerting`, `shared.core.trends`) → apply (post one message, store the
states and the series with this snapshot's day in it). Each snapshot is checked once: the
tenant's alert states record the newest snapshot whose check completed, and a snapshot that is
not newer than that is skipped, so a redelivered message posts nothing new and an older
snapshot checked after a newer one never moves the states backwards.

States are written conditionally (ETags), and a check with something to say claims the tenant
before posting (shared/usecases/announcing.py): when another check wrote first (Flex
Consumption runs checks in parallel), this one re-reads the states and decides again; one that
finds the tenant claimed waits. A post that fails releases the claim at once, keeps the states
as not told and raises, so the queue retries the message (and the next snapshot would post it
anyway).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace

from shared.bootstrap import App
from shared.core.alerting import Decision, decide_metrics
from shared.core.coverage import Reading, missing_statuses, readings
from shared.core.snapshot import Snapshot, SnapshotKey
from shared.core.trends import DailySeries, Trend, series_trends
from shared.errors import CheckInProgressError
from shared.messages.coverage import coverage_message
from shared.messages.trace import coverage_trace
from shared.settings import Settings
from shared.stores.alerts import TenantAlerts, TenantLedger
from shared.stores.records import Claim, Record
from shared.stores.snapshots import SnapshotStore
from shared.usecases.admin_names import AdminNames
from shared.usecases.announcing import Plan, announce
from shared.usecases.series import rebuilt_series

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CheckOutcome:
    readings: list[Reading]
    decision: Decision | None  # None when the snapshot had been checked already
    posted: bool


@dataclass(frozen=True)
class _CheckPlan(Plan[TenantAlerts]):
    decision: Decision | None = None


def check_snapshot(app: App, message: str) -> CheckOutcome:
    key = SnapshotKey.from_message(message)
    snapshot = app.snapshots.get_snapshot(key)
    previous = app.snapshots.previous_snapshot(key)  # the change column: one single-row query
    settings = app.settings_for(key.tenant_id)  # TENANTS: the tenant's own thresholds
    current = readings(
        snapshot.report,
        settings.thresholds,
        previous.report if previous else None,
        settings.maximums,
    )
    _log_readings(snapshot, current)
    # Asked of the tenant's Graph only for a card that names admins.
    names = AdminNames(app.admin_lookup_for(key.tenant_id))

    def decide(alerts: TenantAlerts) -> _CheckPlan | None:
        return _decide(settings, snapshot, current, alerts, names)

    outcome = announce(
        _SeriesLedger(app.alerts.ledger(key.tenant_id), app.snapshots, snapshot),
        decide,
        post=app.notifier_for(key.tenant_id).post_message,
        owner=key.row_key,
        clock=app.clock,
        sleep=app.sleep,
        busy=_posting,
    )
    if outcome.plan is None:
        return CheckOutcome(readings=[], decision=None, posted=False)
    return CheckOutcome(readings=current, decision=outcome.plan.decision, posted=outcome.posted)


@dataclass(frozen=True)
class _SeriesLedger:
    """The tenant's states, with the daily series rebuilt from the snapshots when none is
    stored yet (and this snapshot is still to be checked): the write then stores it."""

    ledger: TenantLedger
    snapshots: SnapshotStore
    snapshot: Snapshot

    def read(self) -> Record[TenantAlerts]:
        record = self.ledger.read()
        alerts = record.state
        done = alerts.checked is not None and alerts.checked.is_newer_or_same(self.snapshot.key)
        if alerts.series is not None or done:
            return record
        series = rebuilt_series(self.snapshots, self.snapshot)
        return replace(record, state=replace(alerts, series=series))

    def write(
        self, prior: Record[TenantAlerts], state: TenantAlerts, *, claim: Claim | None
    ) -> Record[TenantAlerts]:
        return self.ledger.write(prior, state, claim=claim)


def _posting(claim: Claim) -> CheckInProgressError:
    return CheckInProgressError(f"the check of snapshot {claim.owner} is posting its card")


def _decide(
    settings: Settings,
    snapshot: Snapshot,
    current: list[Reading],
    prior: TenantAlerts,
    names: AdminNames,
) -> _CheckPlan | None:
    key = snapshot.key
    if prior.checked is not None and prior.checked.is_newer_or_same(key):
        log.info("snapshot %s was already checked (or a newer one was); nothing to do", key.row_key)
        return None
    missing = missing_statuses(snapshot.report, settings.thresholds, settings.maximums)
    for status in missing:
        log.error("THRESHOLDS names %r, which this report does not carry: not checked", status)
    now = snapshot.fetched_at  # the alert clock is the snapshot's: a replay decides the same
    decision = decide_metrics(
        dict(prior.states),
        current,
        now=now,
        repeat=settings.alert_repeat,
        drop_points=settings.drop_alert_points,
        detail=key.row_key,
        missing=missing,
        no_users=snapshot.report.total_users == 0,
        enforcement=snapshot.enforcement,
    )
    kept = {name: state for name, state in prior.states.items() if name not in decision.cleared}
    series = (prior.series or DailySeries()).with_snapshot(snapshot)
    if not decision.events:
        done = TenantAlerts({**kept, **decision.states}, key, series)
        return _CheckPlan(done, done, decision=decision)
    # Held while posting: the states as not yet told, closed ones kept (a post that fails
    # leaves them to be told by the retry), the snapshot not yet marked checked.
    holding = TenantAlerts({**prior.states, **decision.states}, prior.checked, series)
    told = TenantAlerts({**kept, **decision.delivered(now)}, key, series)
    trend: Mapping[str, Trend] = series_trends(series)
    named = names.for_card(decision.events)
    message = coverage_message(
        snapshot, current, decision.events, named.names, trend, admin_names_problem=named.problem
    )
    return _CheckPlan(holding, told, message, decision=decision)


def _log_readings(snapshot: Snapshot, current: list[Reading]) -> None:
    """One machine-readable trace per metric (shared/messages/trace.py: the README's format,
    which Azure Monitor's workbook and coverage alert parse)."""
    if snapshot.report.total_users == 0:
        log.warning(
            "the report counts 0 users: coverage ratios are undefined, nothing is checked "
            "(an alert says so)"
        )
    for reading in current:
        log.info("%s", coverage_trace(snapshot.key.tenant_id, reading, snapshot.source))
