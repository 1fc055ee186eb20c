"""Trends over the stored history (pure): 7- and 30-day changes and the sparkline."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from fractions import Fraction

from shared.core.report import Report
from shared.core.snapshot import Snapshot, snapshot_key
from shared.core.trends import SPARK_POINTS, sparkline, trends

NOW = datetime(2026, 11, 23, 6, 0, 4, tzinfo=timezone.utc)


def daily(mfa: list[int], *, total: int = 1000, end: datetime = NOW) -> list[Snapshot]:
    """One snapshot a day, the last on `end`, returned newest first (as the store reads them)."""
    snapshots = []
    for days_ago, count in enumerate(reversed(mfa)):
        when = end - timedelta(days=days_ago)
        report = Report("r", total, {"mfaRegistered": count, "capable": 900})
        snapshots.append(Snapshot(snapshot_key("t", when), when, report))
    return snapshots


def test_changes_over_7_and_30_days_are_exact_percentage_points() -> None:
    # 31 days: 31 snapshots, from 900 (30 days ago) rising by 2 a day to 960 today.
    history = daily([900 + 2 * day for day in range(31)])

    trend = trends(history)["mfaRegistered"]

    assert trend.change_7d == Fraction(14, 10)  # 946 -> 960 of 1000
    assert trend.change_30d == Fraction(6)  # 900 -> 960
    assert trends(history)["capable"].change_7d == 0


def test_without_a_snapshot_old_enough_the_change_is_unknown() -> None:
    trend = trends(daily([900, 910, 920]))["mfaRegistered"]

    assert trend.change_7d is None and trend.change_30d is None
    assert trend.sparkline == "▁▅█"


def test_a_run_that_starts_seconds_early_still_compares_with_last_week() -> None:
    history = daily([900] * 7 + [950])
    early = Snapshot(
        snapshot_key("t", NOW - timedelta(seconds=3)),
        NOW - timedelta(seconds=3),
        Report("r", 1000, {"mfaRegistered": 960}),
    )

    trend = trends([early, *history[1:]])["mfaRegistered"]

    assert trend.change_7d == 6  # against the snapshot 7 days (less 3 s) before


def test_the_sparkline_draws_the_last_two_weeks_oldest_first() -> None:
    history = daily(list(range(900, 940)))  # 40 days, rising

    line = trends(history)["mfaRegistered"].sparkline

    assert len(line) == SPARK_POINTS
    assert line[0] == "▁" and line[-1] == "█"
    assert list(line) == sorted(line)


def test_a_flat_series_sits_mid_height_and_a_zero_user_snapshot_is_a_dot() -> None:
    assert sparkline([Fraction(9, 10)] * 4) == "▅▅▅▅"
    assert sparkline([Fraction(985, 1000), Fraction(984, 1000)]) == "▅▄"  # a wobble, not a fall
    assert sparkline([Fraction(1, 2), None, Fraction(1)]) == "▁·█"
    assert sparkline([None, None]) == "··"


def test_a_first_snapshot_has_no_trend_to_draw() -> None:
    trend = trends(daily([900]))["mfaRegistered"]

    assert trend.sparkline == "" and trend.points == 0
    assert trends([]) == {}
