"""How each metric moved over the last 30 days (pure: no I/O, no clock).

Trends come from a tenant's daily series: for each UTC day of the last HISTORY_DAYS (and
today), the newest snapshot fetched that day, reduced to its counts (the numerators) and total
(the denominator). It is the same whether the report is fetched once a day or every 15
minutes, it stays a few KB however long the history is, and each check keeps it up to date
(shared/usecases/checking.py stores it beside the alert states).

"Over 7 days" compares the newest point (today's: the snapshot being checked) with the point of
the UTC day 7 days before it, or, if that day has none (a run that slipped past midnight, a
missed run), with the point of the day before that (at most MAX_SLIP older: after a longer gap
the change is unknown, never a "7-day" change over twenty days). Comparing days, not instants,
tolerates any jitter within the day at both ends: a run a few minutes late today, or a few
minutes late a week ago, still finds last week's. Without a point that old the change is
unknown (None), never a guess from a shorter span. The sparkline draws the last SPARK_POINTS
days with the eight block characters, which every Teams client and terminal shows (an Adaptive
Card 1.4 has no chart element).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from fractions import Fraction

from shared.core.coverage import ratio_of
from shared.core.report import Report
from shared.core.snapshot import Snapshot

HISTORY_DAYS = 30  # the longest span a trend reports: the series keeps this many days before today
SPARK_POINTS = 14  # two weeks of days
_BLOCKS = "▁▂▃▄▅▆▇█"
_NO_RATIO = "·"  # a snapshot of zero users has no ratio
# How much older than its day a change's far end may be: a run that slipped past midnight, or
# one missed run; past that the change is unknown ("–"), not a change over a longer span.
MAX_SLIP = timedelta(days=1)
MIN_SPAN = Fraction(1, 100)  # the sparkline's least height: one percentage point


@dataclass(frozen=True)
class DayPoint:
    """The newest snapshot of one UTC day, as far as a trend needs it."""

    fetched_at: datetime
    total: int
    counts: Mapping[str, int] = field(default_factory=dict)
    # Each population's own total (`mfaRegistered.admins` is over the admins, not everyone).
    totals: Mapping[str, int] = field(default_factory=dict)

    @property
    def day(self) -> date:
        return self.fetched_at.astimezone(timezone.utc).date()

    def ratio(self, status: str) -> Fraction | None:
        return ratio_of(Report(None, self.total, self.counts, self.totals), status)


@dataclass(frozen=True)
class DailySeries:
    """One point per UTC day that has a snapshot, oldest first, at most HISTORY_DAYS + 1."""

    points: tuple[DayPoint, ...] = ()

    @property
    def newest(self) -> DayPoint | None:
        return self.points[-1] if self.points else None

    def with_snapshot(self, snapshot: Snapshot) -> DailySeries:
        """The series with `snapshot` as its day's point (unless that day already holds a newer
        one), and without the days more than HISTORY_DAYS before the newest."""
        point = point_of(snapshot)
        kept = [p for p in self.points if p.day != point.day]
        same_day = [p for p in self.points if p.day == point.day]
        if same_day and same_day[0].fetched_at > point.fetched_at:
            point = same_day[0]
        points = sorted([*kept, point], key=lambda p: p.fetched_at)
        first_day = points[-1].day - timedelta(days=HISTORY_DAYS)
        return DailySeries(tuple(p for p in points if p.day >= first_day))


def point_of(snapshot: Snapshot) -> DayPoint:
    report = snapshot.report
    return DayPoint(
        snapshot.fetched_at, report.total_users, dict(report.counts), dict(report.totals)
    )


def daily_series(snapshots: Iterable[Snapshot]) -> DailySeries:
    """The series of `snapshots` (in any order)."""
    series = DailySeries()
    for snapshot in sorted(snapshots, key=lambda s: s.fetched_at):
        series = series.with_snapshot(snapshot)
    return series


@dataclass(frozen=True)
class Trend:
    """One metric's movement: percentage points over 7 and 30 days, and its recent shape."""

    status: str
    change_7d: Fraction | None  # None: no point 7 days old, or no ratio then or now
    change_30d: Fraction | None
    sparkline: str  # oldest to newest, a block a day; "" with fewer than two days
    points: int  # how many days the sparkline draws
    # Every day of the series, oldest first: (fetched at, ratio), for a chart.
    series: tuple[tuple[datetime, Fraction | None], ...] = ()


def trends(history: Sequence[Snapshot]) -> dict[str, Trend]:
    """Per status of the newest snapshot, its trend over `history` (newest first)."""
    return series_trends(daily_series(history))


def series_trends(series: DailySeries) -> dict[str, Trend]:
    """Per status of the series' newest point, its trend over the series."""
    newest = series.newest
    if newest is None:
        return {}
    week = _days_before(series, 7)
    month = _days_before(series, HISTORY_DAYS)
    recent = series.points[-SPARK_POINTS:]
    result: dict[str, Trend] = {}
    for status in newest.counts:
        now = newest.ratio(status)
        ratios = [point.ratio(status) for point in recent]
        result[status] = Trend(
            status=status,
            change_7d=_change(now, week, status),
            change_30d=_change(now, month, status),
            sparkline=sparkline(ratios) if len(ratios) > 1 else "",
            points=len(ratios) if len(ratios) > 1 else 0,
            series=tuple((p.fetched_at, p.ratio(status)) for p in series.points),
        )
    return result


def sparkline(ratios: Sequence[Fraction | None]) -> str:
    """One block per ratio, scaled between the series' lowest and highest, or over one
    percentage point around them if they are closer: a flat series is drawn at mid height, so
    that "no change" looks neither like "at the bottom" nor like a fall."""
    known = [r for r in ratios if r is not None]
    if not known:
        return _NO_RATIO * len(ratios)
    low, high = min(known), max(known)
    # At least MIN_SPAN high, centred on the series: a wobble of 0.1 points stays a wobble.
    span = max(high - low, MIN_SPAN)
    base = (low + high - span) / 2
    top = len(_BLOCKS) - 1

    def block(ratio: Fraction | None) -> str:
        if ratio is None:
            return _NO_RATIO
        return _BLOCKS[round((ratio - base) / span * top)]

    return "".join(block(r) for r in ratios)


def _days_before(series: DailySeries, days: int) -> DayPoint | None:
    """The point of the UTC day `days` before the newest's, else of the day before that (at
    most MAX_SLIP older); else None: after a gap, a "7-day" change is not one over 20 days."""
    day = series.points[-1].day - timedelta(days=days)
    before = next((p for p in reversed(series.points[:-1]) if p.day <= day), None)
    return before if before is not None and day - before.day <= MAX_SLIP else None


def _change(now: Fraction | None, then: DayPoint | None, status: str) -> Fraction | None:
    before = then.ratio(status) if then is not None else None
    if now is None or before is None:
        return None
    return (now - before) * 100
