"""How each metric moved over the stored history (pure: no I/O, no clock).

A trend is computed from a tenant's snapshots, newest first (the order Table Storage returns
them in, see shared/core/snapshot.py): the change over 7 and over 30 days, in percentage points, and
a sparkline of the last SPARK_POINTS snapshots drawn with the eight block characters, which
every Teams client and terminal shows (an Adaptive Card 1.4 has no chart element).

"Over 7 days" compares the newest snapshot with the newest one fetched at least 7 days before
it, less SCHEDULE_JITTER: a daily run that starts a few seconds early still finds last week's.
Without a snapshot that old, the change is unknown (None), never a guess from a shorter span.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction

from shared.core.alerting import SCHEDULE_JITTER
from shared.core.coverage import ratio_of
from shared.core.snapshot import Snapshot

HISTORY_DAYS = 30  # the longest span a trend reports: what the history query reads
SPARK_POINTS = 14  # two weeks of daily snapshots
_BLOCKS = "▁▂▃▄▅▆▇█"
_NO_RATIO = "·"  # a snapshot of zero users has no ratio
MIN_SPAN = Fraction(1, 100)  # the sparkline's least height: one percentage point


@dataclass(frozen=True)
class Trend:
    """One metric's movement: percentage points over 7 and 30 days, and its recent shape."""

    status: str
    change_7d: Fraction | None  # None: no snapshot 7 days old, or no ratio then or now
    change_30d: Fraction | None
    sparkline: str  # oldest to newest; "" with fewer than two snapshots
    points: int  # how many snapshots the sparkline draws
    # Every snapshot of the history, oldest first: (fetched at, ratio), for a chart.
    series: tuple[tuple[datetime, Fraction | None], ...] = ()


def trends(history: Sequence[Snapshot]) -> dict[str, Trend]:
    """Per status of the newest snapshot, its trend over `history` (newest first)."""
    if not history:
        return {}
    newest = history[0]
    week = _at_least(history, timedelta(days=7))
    month = _at_least(history, timedelta(days=HISTORY_DAYS))
    recent = list(reversed(history[:SPARK_POINTS]))
    result: dict[str, Trend] = {}
    for status in newest.report.counts:
        now = ratio_of(newest.report, status)
        ratios = [ratio_of(snapshot.report, status) for snapshot in recent]
        result[status] = Trend(
            status=status,
            change_7d=_change(now, week, status),
            change_30d=_change(now, month, status),
            sparkline=sparkline(ratios) if len(ratios) > 1 else "",
            points=len(ratios) if len(ratios) > 1 else 0,
            series=tuple((s.fetched_at, ratio_of(s.report, status)) for s in reversed(history)),
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


def _at_least(history: Sequence[Snapshot], age: timedelta) -> Snapshot | None:
    """The newest snapshot fetched at least `age` (less the schedule's jitter) before the first."""
    cutoff = history[0].fetched_at - age + SCHEDULE_JITTER
    return next((s for s in history[1:] if s.fetched_at <= cutoff), None)


def _change(now: Fraction | None, then: Snapshot | None, status: str) -> Fraction | None:
    before = ratio_of(then.report, status) if then is not None else None
    if now is None or before is None:
        return None
    return (now - before) * 100
