"""Issue #8's pure parts: the ways the monitor could go quiet while coverage is bad.

Each test names the numbered case it guards. Function-level tests of the same cases (through
function.json, Azurite and the stand-ins) are in tests/functions/test_never_silent.py.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from fractions import Fraction
from types import SimpleNamespace

import pytest

from shared.core.alerting import CONFIG_HEALTH, AlertState, Notice, decide_metrics
from shared.core.coverage import parse_thresholds, readings
from shared.core.report import Report
from shared.core.snapshot import Snapshot, snapshot_key
from shared.messages.coverage import coverage_message
from shared.schedule import check_ncrontab
from shared.usecases.fetching import Attempt

T0 = datetime(2026, 11, 1, 6, 0, tzinfo=timezone.utc)
DAY = timedelta(hours=24)


def decide(prior, report, thresholds, **kw):
    current = readings(report, thresholds)
    missing = [s for s in thresholds if s not in report.counts]
    decision = decide_metrics(
        prior,
        current,
        now=kw.pop("now", T0),
        repeat=DAY,
        drop_points=kw.pop("drop", None),
        detail="snap",
        missing=missing,
    )
    return current, decision


# 1. Snapshot identity per fetch


def test_two_fetches_in_the_same_hour_or_microsecond_get_two_keys_newest_first() -> None:
    first = snapshot_key("t", T0)
    same_time = snapshot_key("t", T0)
    later = snapshot_key("t", T0 + timedelta(minutes=5))

    assert len({first, same_time, later}) == 3
    assert later.is_newer_or_same(first) and not first.is_newer_or_same(later)
    assert first.is_newer_or_same(first)


def test_new_keys_sort_after_the_hourly_keys_of_earlier_versions_by_time() -> None:
    # Earlier versions keyed by hour: 9_999_999_999 - the hour's epoch seconds.
    hour_epoch = int(T0.timestamp())
    old_key = f"{9_999_999_999 - hour_epoch:010d}-2026-11-01T06Z"
    next_day = snapshot_key("t", T0 + DAY).row_key
    hour_before = snapshot_key("t", T0 - timedelta(hours=1)).row_key

    assert sorted([hour_before, old_key, next_day]) == [next_day, old_key, hour_before]


# 2. Counts above the total are real data


def test_a_count_above_the_total_is_a_ratio_above_one_and_shown_as_it_is() -> None:
    # Microsoft's example: registered 23423 of 23123 (the total counts enabled users only).
    report = Report("r", 23123, {"registered": 23423, "mfaRegistered": 33})
    thresholds = {"registered": Fraction(9, 10), "mfaRegistered": Fraction(95, 100)}
    current, decision = decide({}, report, thresholds)

    assert current[0].ratio == Fraction(23423, 23123) and not current[0].breached
    assert current[0].exceeds_total
    snapshot = Snapshot(snapshot_key("t", T0), T0, report)
    message = coverage_message(snapshot, current, decision.events)
    (row,) = [r for r in message.rows if r.metric == "Registered for SSPR"]
    assert row.coverage == "101.3%"  # not capped at 100%, and said why
    assert row.users == "23,423 of 23,123 (the total counts enabled users only)"


def test_the_card_says_when_a_firing_count_exceeds_the_total() -> None:
    # Not realistic for "registered", but the note must come with any notice whose count does.
    report = Report("r", 100, {"mfaRegistered": 101})
    current, decision = decide(
        {"mfaRegistered": AlertState("mfaRegistered", firing=True, told_firing=True, since=T0)},
        report,
        {"mfaRegistered": Fraction(1)},
        now=T0 + DAY,
    )
    message = coverage_message(
        Snapshot(snapshot_key("t", T0), T0, report), current, decision.events
    )

    assert [e.notice for e in decision.events] == [Notice.RESOLVED]
    assert "more than the total, which counts enabled users only" in message.lines[0]


# 3. THRESHOLDS that cannot be mistyped into silence


@pytest.mark.parametrize(
    ("text", "status"),
    [("mfaregistered=95%", "mfaRegistered"), ("MFAREGISTERED=95%", "mfaRegistered")],
)
def test_status_names_in_thresholds_ignore_case(text: str, status: str) -> None:
    assert list(parse_thresholds(text)) == [status]


def test_an_unknown_status_is_refused_with_a_suggestion_and_the_list() -> None:
    with pytest.raises(ValueError) as error:
        parse_thresholds("capable=90%,mfaRegisterd=95%")

    said = str(error.value)
    assert "'mfaRegisterd'" in said and "did you mean 'mfaRegistered'?" in said
    assert "registered, enabled, capable" in said


def test_a_thresholded_status_missing_from_the_report_fires_a_configuration_alert() -> None:
    report = Report("r", 100, {"registered": 90})
    _, decision = decide({}, report, {"mfaRegistered": Fraction(95, 100)})

    (event,) = decision.events
    assert event.state.name == CONFIG_HEALTH and event.notice is Notice.FIRING
    assert event.state.detail == "mfaRegistered"
    message = coverage_message(Snapshot(snapshot_key("t", T0), T0, report), [], decision.events)
    assert "mfaRegistered" in message.title and "THRESHOLDS" in message.lines[0]
    assert message.severity == "attention"


def test_the_configuration_alert_reminds_then_resolves_like_any_alert() -> None:
    report = Report("r", 100, {"registered": 90})
    thresholds = {"mfaRegistered": Fraction(95, 100)}
    states: dict[str, AlertState] = {}
    notices = []
    for day, counts in enumerate([{}, {}, {}, {"mfaRegistered": 99}]):
        this = Report("r", 100, {**report.counts, **counts})
        _, decision = decide(states, this, thresholds, now=T0 + day * DAY)
        states.update(decision.delivered(T0 + day * DAY))
        notices.append([(e.state.name, e.notice) for e in decision.events])

    config = [n for n in notices]
    assert config[0] == [(CONFIG_HEALTH, Notice.FIRING)]
    assert config[1] == [(CONFIG_HEALTH, Notice.REMINDER)]
    assert (CONFIG_HEALTH, Notice.RESOLVED) in config[3]


# 4. Nothing disappears while firing


@pytest.mark.parametrize(
    ("report", "thresholds", "reason"),
    [
        (
            Report("r", 100, {"capable": 95}),
            {"mfaRegistered": Fraction(95, 100), "capable": Fraction(9, 10)},
            "the report no longer carries this status",
        ),
        (
            Report("r", 100, {"mfaRegistered": 80, "capable": 95}),
            {"capable": Fraction(9, 10)},
            "THRESHOLDS no longer names this status",
        ),
    ],
)
def test_a_firing_metric_that_is_no_longer_checked_gets_one_closing_notice(
    report: Report, thresholds: dict[str, Fraction], reason: str
) -> None:
    firing = AlertState("mfaRegistered", firing=True, since=T0, told_firing=True, last_told=T0)
    current, decision = decide({"mfaRegistered": firing}, report, thresholds, now=T0 + DAY)

    closed = [e for e in decision.events if e.notice is Notice.CLOSED]
    assert [(e.state.name, e.reason) for e in closed] == [("mfaRegistered", reason)]
    assert decision.cleared == ["mfaRegistered"]
    assert "mfaRegistered" not in decision.delivered(T0 + DAY)
    message = coverage_message(Snapshot(snapshot_key("t", T0), T0, report), current, closed)
    assert "no longer checked" in message.title.lower() and reason in message.lines[0]


def test_a_metric_that_was_ok_is_cleared_without_a_notice() -> None:
    ok = AlertState("mfaRegistered", firing=False, since=T0)
    _, decision = decide(
        {"mfaRegistered": ok}, Report("r", 100, {"capable": 95}), {"capable": Fraction(9, 10)}
    )

    assert decision.events == [] and decision.cleared == ["mfaRegistered"]


def test_a_re_added_metric_starts_fresh() -> None:
    report = Report("r", 100, {"mfaRegistered": 80})
    thresholds = {"mfaRegistered": Fraction(95, 100)}
    states: dict[str, AlertState] = {}
    _, first = decide(states, report, thresholds)
    states.update(first.delivered(T0))
    _, removed = decide(states, report, {}, now=T0 + DAY)
    for name in removed.cleared:
        del states[name]
    _, again = decide(states, report, thresholds, now=T0 + 31 * DAY)

    assert [e.notice for e in again.events] == [Notice.FIRING]
    assert again.events[0].started == T0 + 31 * DAY


# 6. Exact comparisons


def test_a_metric_exactly_at_any_one_decimal_threshold_is_ok() -> None:
    firing_at_equality = []
    for permille in range(1, 1000):
        text = f"{permille // 10}.{permille % 10}%"
        threshold = parse_thresholds(f"mfaRegistered={text}")["mfaRegistered"]
        (reading,) = readings(
            Report("r", 1000, {"mfaRegistered": permille}), {"mfaRegistered": threshold}
        )
        if reading.breached:
            firing_at_equality.append(text)

    assert firing_at_equality == []


@pytest.mark.parametrize(
    ("count", "threshold", "title"),
    [
        (9496, "95%", "Registered for MFA at 94.9%, below 95%"),  # not "at 95%, below 95%"
        (9504, "95.05%", "Registered for MFA at 95.04%, below 95.05%"),
        (5669, "56.7%", "Registered for MFA at 56.6%, below 56.7%"),
    ],
)
def test_what_the_card_prints_for_a_breach_never_reads_as_at_the_threshold(
    count: int, threshold: str, title: str
) -> None:
    report = Report("r", 10000, {"mfaRegistered": count})
    current, decision = decide({}, report, parse_thresholds(f"mfaRegistered={threshold}"))
    message = coverage_message(
        Snapshot(snapshot_key("t", T0), T0, report), current, decision.events
    )

    assert message.title == title


def test_a_metric_exactly_at_its_threshold_is_ok_and_shown_as_equal() -> None:
    report = Report("r", 10000, {"mfaRegistered": 5670, "capable": 1})
    thresholds = parse_thresholds("mfaRegistered=56.7%,capable=50%")
    current, decision = decide({}, report, thresholds)
    message = coverage_message(
        Snapshot(snapshot_key("t", T0), T0, report), current, decision.events
    )

    assert [e.reading.status for e in decision.events if e.reading] == ["capable"]
    (row,) = [r for r in message.rows if r.metric == "Registered for MFA"]
    assert (row.coverage, row.users, row.threshold, row.state) == (
        "56.7%",
        "5,670 of 10,000",
        "56.7%",
        "ok",
    )


def test_a_drop_of_exactly_the_configured_points_is_announced() -> None:
    before = Report("p", 1000, {"mfaRegistered": 851})
    current = readings(Report("r", 1000, {"mfaRegistered": 850}), {}, before)
    decision = decide_metrics(
        {}, current, now=T0, repeat=DAY, drop_points=Fraction(1, 10), detail="s"
    )

    assert [e.notice for e in decision.events] == [Notice.DROP]


# 7. Only the host's last try announces a fetch failure


@pytest.mark.parametrize(
    ("retry_context", "final"),
    [
        (None, True),  # no retry context: the run is its own last try
        (SimpleNamespace(retry_count=0, max_retry_count=2), False),
        (SimpleNamespace(retry_count=1, max_retry_count=2), False),
        (SimpleNamespace(retry_count=2, max_retry_count=2), True),
        (SimpleNamespace(retry_count=0, max_retry_count=0), True),
    ],
)
def test_only_the_last_try_counts_as_a_final_failure(retry_context: object, final: bool) -> None:
    assert Attempt.from_retry_context(retry_context).final is final


# 10. FETCH_SCHEDULE


@pytest.mark.parametrize(
    "schedule", ["0 0 6 * * *", "0 */30 * * * *", "0 0 8 * * Mon", "0 0 6 1-5 Jan-Mar 1,3"]
)
def test_valid_ncrontab_schedules_pass(schedule: str) -> None:
    assert check_ncrontab(schedule) == schedule


@pytest.mark.parametrize(
    ("schedule", "says"),
    [
        ("0 0 25 * * *", "hour 25 is outside 0-23"),
        ("0 60 6 * * *", "minute 60 is outside 0-59"),
        ("0 0 6 0 * *", "day 0 is outside 1-31"),
        ("0 0 6 * 13 *", "month 13 is outside 1-12"),
        ("0 0 6 * * 7", "day of the week 7 is outside 0-6"),
        ("0 0 6 * *", "has 5 fields; NCRONTAB needs 6"),
        ("0 0 9-6 * * *", "hour range '9-6' runs backwards"),
        ("0 0 */0 * * *", "hour step must be at least 1"),
        ("0 0 six * * *", "hour 'six' is not a number"),
    ],
)
def test_invalid_schedules_are_refused_naming_the_field(schedule: str, says: str) -> None:
    with pytest.raises(ValueError) as error:
        check_ncrontab(schedule)

    assert says in str(error.value)
