"""The alert lifecycle as a pure function of stored state, readings and `now`."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from shared.alerting import (
    FETCH_HEALTH,
    AlertState,
    Decision,
    Notice,
    decide_fetch_health,
    decide_metrics,
)
from shared.coverage import readings
from shared.report import Report

DAY = timedelta(hours=24)
T0 = datetime(2026, 11, 1, 6, 0, tzinfo=timezone.utc)
THRESHOLDS = {"mfaRegistered": 0.95}


def check(
    states: dict[str, AlertState],
    mfa: int,
    now: datetime,
    *,
    previous: int | None = None,
    drop: float | None = None,
) -> Decision:
    before = Report("p", 100, {"mfaRegistered": previous}) if previous is not None else None
    current = readings(Report("r", 100, {"mfaRegistered": mfa}), THRESHOLDS, before)
    return decide_metrics(states, current, now=now, repeat=DAY, drop_points=drop, detail="snap")


def run(states: dict[str, AlertState], mfa: int, now: datetime, **kw) -> list[Notice]:
    """One check whose notices are delivered: updates `states` like the app does."""
    decision = check(states, mfa, now, **kw)
    states.update(decision.delivered(now))
    return [event.notice for event in decision.events]


def test_a_first_breach_fires_once_then_stays_quiet() -> None:
    states: dict[str, AlertState] = {}

    assert run(states, 90, T0) == [Notice.FIRING]
    assert run(states, 90, T0 + timedelta(hours=1)) == []
    assert run(states, 89, T0 + timedelta(hours=12)) == []


def test_a_healthy_metric_is_never_announced() -> None:
    states: dict[str, AlertState] = {}

    assert run(states, 97, T0) == []
    assert run(states, 99, T0 + DAY) == []
    assert states["mfaRegistered"].firing is False


def test_a_still_firing_metric_reminds_after_the_repeat_interval() -> None:
    states: dict[str, AlertState] = {}
    run(states, 90, T0)

    decision = check(states, 90, T0 + DAY)

    [event] = decision.events
    assert event.notice is Notice.REMINDER
    assert event.started == T0  # the card says how long it has been firing


def test_a_daily_run_that_starts_a_little_early_still_reminds_daily() -> None:
    states: dict[str, AlertState] = {}
    run(states, 90, T0)

    assert run(states, 90, T0 + DAY - timedelta(seconds=5)) == [Notice.REMINDER]


def test_a_run_well_before_the_interval_does_not_remind() -> None:
    states: dict[str, AlertState] = {}
    run(states, 90, T0)

    assert run(states, 90, T0 + DAY - timedelta(hours=2)) == []


def test_recovery_resolves_once_with_when_it_started() -> None:
    states: dict[str, AlertState] = {}
    run(states, 90, T0)

    decision = check(states, 96, T0 + 2 * DAY)
    states.update(decision.delivered(T0 + 2 * DAY))

    [event] = decision.events
    assert (event.notice, event.started) == (Notice.RESOLVED, T0)
    assert run(states, 96, T0 + 3 * DAY) == []


def test_a_notice_that_was_not_delivered_is_sent_on_the_next_run() -> None:
    states: dict[str, AlertState] = {}
    first = check(states, 90, T0)
    states.update(first.states)  # the post failed: the states as if nothing was told

    assert run(states, 90, T0 + timedelta(hours=1)) == [Notice.FIRING]


def test_a_resolution_that_was_not_delivered_still_resolves_later() -> None:
    states: dict[str, AlertState] = {}
    run(states, 90, T0)
    states.update(check(states, 96, T0 + DAY).states)  # "resolved" failed to post

    assert run(states, 97, T0 + DAY + timedelta(hours=1)) == [Notice.RESOLVED]


def test_a_fall_of_at_least_the_configured_points_is_a_drop_alert_above_the_threshold() -> None:
    assert run({}, 96, T0, previous=100, drop=4) == [Notice.DROP]  # exactly 4 points
    assert run({}, 96, T0, previous=100, drop=5) == []  # not 5
    assert run({}, 97, T0, previous=95, drop=1) == []  # a rise is no drop


def test_a_fall_that_crosses_the_threshold_fires_and_is_a_drop() -> None:
    assert run({}, 94, T0, previous=100, drop=5) == [Notice.FIRING, Notice.DROP]


def test_without_drop_points_a_fall_is_not_announced() -> None:
    assert run({}, 96, T0, previous=100) == []


def test_the_monitor_reports_a_failing_fetch_once_then_its_recovery_once() -> None:
    state: AlertState | None = None
    told: list[Notice] = []
    for hours, error in [(0, "HTTP 503"), (1, "HTTP 503"), (2, None), (3, None)]:
        now = T0 + timedelta(hours=hours)
        decision = decide_fetch_health(state, error=error, now=now, repeat=DAY)
        told += [event.notice for event in decision.events]
        state = decision.delivered(now)[FETCH_HEALTH]

    assert told == [Notice.FIRING, Notice.RESOLVED]


def test_a_fetch_failing_for_days_is_repeated_on_the_same_rule() -> None:
    state: AlertState | None = None
    told: list[Notice] = []
    for day in range(3):
        now = T0 + day * DAY
        decision = decide_fetch_health(state, error="HTTP 500", now=now, repeat=DAY)
        told += [event.notice for event in decision.events]
        state = decision.delivered(now)[FETCH_HEALTH]

    assert told == [Notice.FIRING, Notice.REMINDER, Notice.REMINDER]
    assert state is not None and state.detail == "HTTP 500"
