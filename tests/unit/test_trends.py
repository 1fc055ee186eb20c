"""Trends over the stored history (pure): 7- and 30-day changes, the sparkline, the series."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from fractions import Fraction

from shared.core.report import Report
from shared.core.snapshot import Snapshot, snapshot_key
from shared.core.trends import HISTORY_DAYS, SPARK_POINTS, Trend, daily_series, sparkline, trends
from shared.stores.series import decode_series, encode_series

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


def at(when: datetime, mfa: int) -> Snapshot:
    return Snapshot(snapshot_key("t", when), when, Report("r", 1000, {"mfaRegistered": mfa}))


def test_minutes_of_jitter_at_either_end_still_find_the_week_and_the_month_before() -> None:
    # 30 days ago the run started 4 minutes late, today on time; a week ago 3 minutes early.
    history = [at(NOW - timedelta(days=30) + timedelta(minutes=4), 900)]
    history += [at(NOW - timedelta(days=d), 930) for d in range(29, 7, -1)]
    history += [at(NOW - timedelta(days=7, minutes=-3), 940)]
    history += [at(NOW - timedelta(days=d), 950) for d in range(6, 0, -1)]
    history += [at(NOW, 960)]

    trend = trends(list(reversed(history)))["mfaRegistered"]

    assert trend.change_7d == 2 and trend.change_30d == 6


def test_a_day_without_a_run_compares_with_the_newest_day_before_it() -> None:
    history = [at(NOW - timedelta(days=8), 940), at(NOW - timedelta(days=1), 950), at(NOW, 960)]

    assert trends(list(reversed(history)))["mfaRegistered"].change_7d == 2  # 8 days, not "–"


def test_a_fetch_every_15_minutes_gives_the_trends_of_a_daily_fetch() -> None:
    def mfa(when: datetime) -> int:  # the report changes once a day
        return 900 + 2 * (when.date() - (NOW - timedelta(days=30)).date()).days

    daily_runs = [at(NOW - timedelta(days=d), mfa(NOW - timedelta(days=d))) for d in range(31)]
    start = (NOW - timedelta(days=30)).replace(hour=0, minute=0, second=0)
    quarter_hours = [start + timedelta(minutes=15 * i) for i in range(30 * 96 + 25)]
    frequent = [at(when, mfa(when)) for when in reversed(quarter_hours) if when <= NOW]

    assert _same(trends(frequent), trends(daily_runs))


def _same(a: dict[str, Trend], b: dict[str, Trend]) -> bool:
    """Equal changes and sparkline (the chart's instants differ: the days' last runs)."""
    return all(
        (x.change_7d, x.change_30d, x.sparkline) == (y.change_7d, y.change_30d, y.sparkline)
        and [r for _, r in x.series] == [r for _, r in y.series]
        for x, y in zip(a.values(), b.values(), strict=True)
    ) and list(a) == list(b)


def test_the_series_keeps_each_day_s_newest_snapshot_and_31_days() -> None:
    series = daily_series([at(NOW - timedelta(days=d), 900 + d) for d in range(40)])
    series = series.with_snapshot(at(NOW - timedelta(hours=1), 1))  # older than today's point

    assert len(series.points) == HISTORY_DAYS + 1
    assert series.points[-1].counts == {"mfaRegistered": 900}  # today's newest kept
    assert series.points[0].day == (NOW - timedelta(days=30)).date()


def test_the_stored_series_reads_back_as_written_and_an_unreadable_one_is_rebuilt() -> None:
    series = daily_series(daily([900 + d for d in range(31)]))

    [text] = encode_series(series)

    assert decode_series([text], row="r") == series
    assert len(text) < 2_000
    assert decode_series(['{"v": 2}'], row="r") is None
    assert decode_series(["not json"], row="r") is None


def test_a_series_of_hundreds_of_long_status_names_spreads_over_several_properties() -> None:
    counts = {f"status{i:03d}" + "x" * 90: i for i in range(400)}
    series = daily_series(
        Snapshot(
            snapshot_key("t", NOW - timedelta(days=d)),
            NOW - timedelta(days=d),
            Report("r", 1000, counts),
        )
        for d in range(31)
    )

    chunks = encode_series(series)

    assert len(chunks) > 1 and all(len(c) <= 32_000 for c in chunks)
    assert decode_series(chunks, row="r") == series


def test_a_population_s_trend_is_over_its_own_total_and_survives_the_stored_series() -> None:
    # 20 admins, 1000 users: 10 -> 16 admins registered is +30 points for the admins, not +0.6.
    snapshots = []
    for days_ago, admins in ((7, 10), (0, 16)):
        when = NOW - timedelta(days=days_ago)
        report = Report("r", 1000, {"mfaRegistered.admins": admins}, {"admins": 20})
        snapshots.append(Snapshot(snapshot_key("t", when), when, report))
    series = daily_series(snapshots)

    [text] = encode_series(series)
    stored = decode_series([text], row="r")

    assert stored == series
    assert trends(snapshots)["mfaRegistered.admins"].change_7d == Fraction(30)


def test_after_a_two_week_gap_the_7_day_change_is_unknown_not_one_over_20_days() -> None:
    history = [at(NOW - timedelta(days=20), 900), at(NOW - timedelta(days=1), 950), at(NOW, 960)]

    trend = trends(list(reversed(history)))["mfaRegistered"]

    assert trend.change_7d is None  # shown as "–"
