"""The alert lifecycle as a pure function of stored state, readings and `now`."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from fractions import Fraction

from shared.core.alerting import (
    FETCH_HEALTH,
    NO_USERS,
    SCHEDULE_JITTER,
    AlertState,
    Decision,
    Notice,
    decide_fetch_health,
    decide_metrics,
)
from shared.core.coverage import parse_thresholds, readings
from shared.core.report import Report

DAY = timedelta(hours=24)
T0 = datetime(2026, 11, 1, 6, 0, tzinfo=timezone.utc)
THRESHOLDS = parse_thresholds("mfaRegistered=95%")


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


def fetch_run(state: AlertState | None, error: str | None, now: datetime, repeat=DAY):
    """One fetch whose notice (if any) is delivered; returns (notices, stored state)."""
    decision = decide_fetch_health(state, error=error, now=now, repeat=repeat)
    return [e.notice for e in decision.events], decision.delivered(now)[FETCH_HEALTH]


def test_a_reminder_is_due_exactly_at_the_interval_less_the_schedule_jitter() -> None:
    assert SCHEDULE_JITTER == timedelta(minutes=30)
    told: dict[str, AlertState] = {}
    run(told, 90, T0)

    early = check(told, 90, T0 + DAY - SCHEDULE_JITTER - timedelta(seconds=1))
    on_time = check(told, 90, T0 + DAY - SCHEDULE_JITTER)

    assert early.events == []
    assert [e.notice for e in on_time.events] == [Notice.REMINDER]


def test_with_a_short_interval_the_jitter_is_at_most_half_of_it() -> None:
    repeat = timedelta(minutes=30)
    state = decide_fetch_health(None, error="HTTP 503", now=T0, repeat=repeat).delivered(T0)

    before = decide_fetch_health(
        state[FETCH_HEALTH], error="HTTP 503", now=T0 + timedelta(minutes=14), repeat=repeat
    )
    due = decide_fetch_health(
        state[FETCH_HEALTH], error="HTTP 503", now=T0 + timedelta(minutes=15), repeat=repeat
    )

    assert before.events == []
    assert [e.notice for e in due.events] == [Notice.REMINDER]


def test_the_next_reminder_counts_from_the_last_one_and_states_when_it_began() -> None:
    states: dict[str, AlertState] = {}
    run(states, 90, T0)
    run(states, 90, T0 + DAY)

    quiet = check(states, 90, T0 + DAY + timedelta(hours=12))
    second = check(states, 90, T0 + 2 * DAY)

    assert quiet.events == []
    [event] = second.events
    assert (event.notice, event.started) == (Notice.REMINDER, T0)
    assert T0 + 2 * DAY - event.started == timedelta(days=2)  # the card's "for 2 days"


def test_a_firing_event_carries_its_reading_and_the_snapshot_that_caused_it() -> None:
    [event] = check({}, 90, T0).events

    assert event.notice is Notice.FIRING
    assert event.reading is not None
    assert (event.reading.status, event.reading.ratio, event.reading.threshold) == (
        "mfaRegistered",
        Fraction(9, 10),
        Fraction(95, 100),
    )
    assert (event.state.firing, event.state.since, event.state.detail) == (True, T0, "snap")


def test_recovery_is_resolved_with_how_long_it_fired() -> None:
    states: dict[str, AlertState] = {}
    run(states, 90, T0)
    run(states, 90, T0 + DAY)
    recovered_at = T0 + DAY + timedelta(hours=30)

    decision = check(states, 99, recovered_at)

    [event] = decision.events
    assert event.notice is Notice.RESOLVED
    assert recovered_at - event.started == timedelta(hours=54)
    assert decision.states["mfaRegistered"].firing is False
    assert decision.states["mfaRegistered"].since == recovered_at


def test_a_notice_not_delivered_is_not_recorded_as_told() -> None:
    decision = check({}, 90, T0)

    not_delivered = decision.states["mfaRegistered"]
    delivered = decision.delivered(T0)["mfaRegistered"]

    assert (not_delivered.firing, not_delivered.told_firing, not_delivered.last_told) == (
        True,
        False,
        None,
    )
    assert (delivered.firing, delivered.told_firing, delivered.last_told) == (True, True, T0)


def test_a_reminder_that_was_not_delivered_is_sent_on_the_next_run() -> None:
    states: dict[str, AlertState] = {}
    run(states, 90, T0)
    failed = check(states, 90, T0 + DAY)
    states.update(failed.states)  # the reminder's post failed

    assert states["mfaRegistered"].last_told == T0
    assert run(states, 90, T0 + DAY + timedelta(hours=1)) == [Notice.REMINDER]


def test_a_drop_alone_does_not_mark_anything_as_told() -> None:
    decision = check({}, 96, T0, previous=100, drop=2)

    assert [e.notice for e in decision.events] == [Notice.DROP]
    assert decision.delivered(T0) == decision.states
    assert decision.states["mfaRegistered"].last_told is None


def test_a_fall_of_less_than_the_drop_points_is_not_a_drop() -> None:
    assert run({}, 96, T0, previous=99, drop=3.5) == []
    assert run({}, 96, T0, previous=99, drop=3) == [Notice.DROP]


def test_statuses_without_a_threshold_keep_no_state_but_can_drop() -> None:
    previous = Report("p", 100, {"passkeyCapable": 50})
    current = readings(Report("r", 100, {"passkeyCapable": 40}), THRESHOLDS, previous)

    decision = decide_metrics({}, current, now=T0, repeat=DAY, drop_points=10, detail="s")

    assert decision.states == {}
    [event] = decision.events
    assert (event.notice, event.state.name, event.reading) == (
        Notice.DROP,
        "passkeyCapable",
        current[0],
    )


def test_a_tenant_of_zero_users_neither_fires_nor_resolves() -> None:
    firing = AlertState("mfaRegistered", firing=True, since=T0, told_firing=True, last_told=T0)
    current = readings(Report("r", 0, {"mfaRegistered": 0}), THRESHOLDS)

    decision = decide_metrics(
        {"mfaRegistered": firing}, current, now=T0 + DAY, repeat=DAY, drop_points=1, detail="s"
    )

    # The alert is kept as it was: neither fired, resolved, nor closed.
    assert (decision.states, decision.events, decision.cleared) == (
        {"mfaRegistered": firing},
        [],
        [],
    )


def test_a_failing_fetch_is_told_once_reminded_on_schedule_and_recovery_told_once() -> None:
    told: list[tuple[int, list[Notice]]] = []
    state: AlertState | None = None
    timeline = [(0, "HTTP 503"), (6, "HTTP 503"), (23, "HTTP 429"), (24, "HTTP 503"), (30, None)]
    timeline += [(31, None), (60, None)]
    for hours, error in timeline:
        notices, state = fetch_run(state, error, T0 + timedelta(hours=hours))
        told.append((hours, notices))

    assert told == [
        (0, [Notice.FIRING]),
        (6, []),
        (23, []),
        (24, [Notice.REMINDER]),
        (30, [Notice.RESOLVED]),
        (31, []),
        (60, []),
    ]


def test_the_fetch_state_keeps_the_newest_error_while_quiet() -> None:
    _, state = fetch_run(None, "HTTP 503", T0)

    notices, state = fetch_run(state, "CredentialError: no token", T0 + timedelta(hours=1))

    assert notices == []
    assert (state.detail, state.since) == ("CredentialError: no token", T0)


def test_a_fetch_recovery_event_says_when_the_failure_began() -> None:
    _, state = fetch_run(None, "HTTP 503", T0)

    [event] = decide_fetch_health(state, error=None, now=T0 + DAY, repeat=DAY).events

    assert (event.notice, event.started, event.state.detail) == (Notice.RESOLVED, T0, "HTTP 503")


def test_a_fetch_recovery_that_was_not_delivered_is_announced_next_run() -> None:
    _, state = fetch_run(None, "HTTP 503", T0)
    failed = decide_fetch_health(state, error=None, now=T0 + timedelta(hours=1), repeat=DAY)
    state = failed.states[FETCH_HEALTH]  # the "works again" post failed

    notices, state = fetch_run(state, None, T0 + timedelta(hours=2))

    assert [e.notice for e in failed.events] == [Notice.RESOLVED]
    assert notices == [Notice.RESOLVED]
    assert fetch_run(state, None, T0 + timedelta(hours=3))[0] == []


def test_a_fetch_that_always_worked_is_never_announced() -> None:
    notices, state = fetch_run(None, None, T0)

    assert notices == []
    assert (state.name, state.firing, state.told_firing) == (FETCH_HEALTH, False, False)


def test_a_fall_in_a_metric_people_want_low_is_no_sharp_drop() -> None:
    before = Report("p", 100, {"adminsWithoutMfa": 9, "mfaRegistered": 90})
    now = Report("r", 100, {"adminsWithoutMfa": 1, "mfaRegistered": 80})
    current = readings(now, {}, before)

    decision = decide_metrics({}, current, now=T0, repeat=DAY, drop_points=Fraction(5), detail="s")

    assert [(e.notice, e.reading.status) for e in decision.events if e.reading] == [
        (Notice.DROP, "mfaRegistered")
    ]


def _empty_check(states: dict[str, AlertState], total: int, now: datetime) -> list[Notice]:
    report = Report("r", total, {"mfaRegistered": min(total, 99)})
    decision = decide_metrics(
        states,
        readings(report, THRESHOLDS),
        now=now,
        repeat=DAY,
        drop_points=None,
        detail="snap",
        no_users=total == 0,
    )
    states.update(decision.delivered(now))
    return [event.notice for event in decision.events]


def test_a_report_of_no_users_fires_once_reminds_and_resolves_like_a_metric() -> None:
    states: dict[str, AlertState] = {}

    assert _empty_check(states, 0, T0) == [Notice.FIRING]
    assert _empty_check(states, 0, T0 + DAY / 2) == []
    assert _empty_check(states, 0, T0 + DAY) == [Notice.REMINDER]
    assert _empty_check(states, 100, T0 + 2 * DAY) == [Notice.RESOLVED]
    assert states[NO_USERS].firing is False


def test_no_state_is_kept_for_a_report_that_always_counted_users() -> None:
    states: dict[str, AlertState] = {}

    _empty_check(states, 100, T0)

    assert NO_USERS not in states
