"""How the messages' figures read: percentages, changes, durations, a metric's row, a chart.

Shared by the builders of coverage and digest messages (pure). Numbers read as an admin reads
them: a percentage never contradicts its state, a duration in days and hours.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import timedelta
from fractions import Fraction

from shared.core.coverage import Reading, label
from shared.core.trends import Trend
from shared.messages.model import ChartSeries, Row

MAX_LABEL_CHARS = 60  # a status name is Graph's to choose: keep the metric column readable
MAX_CHART_SERIES = 4  # the thresholded metrics; more lines would not be told apart


def shorten(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters at a word boundary, with an ellipsis if cut."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space >= limit // 2:  # a word boundary not too far back; else cut the long word itself
        cut = cut[:space]
    return cut.rstrip(" ,;:.-–") + "…"


def chart_series(
    readings: Sequence[Reading], trends: Mapping[str, Trend]
) -> tuple[ChartSeries, ...]:
    """The thresholded metrics' coverage over the history, for a chart: days with a ratio."""
    series = []
    for reading in readings:
        trend = trends.get(reading.status)
        if reading.threshold is None or trend is None or len(trend.series) < 2:
            continue
        points = tuple(
            (f"{when:%d %b}", round(float(ratio) * 100, 2))
            for when, ratio in trend.series
            if ratio is not None
        )
        series.append(ChartSeries(shorten(label(reading.status), MAX_LABEL_CHARS), points))
    return tuple(series[:MAX_CHART_SERIES])


def metric_row(reading: Reading, trend: Trend | None = None) -> Row:
    users = f"{reading.count:,} of {reading.total:,}"
    if reading.exceeds_total:  # real data, not capped: say why it can happen
        users += " (the total counts enabled users only)"
    coverage = "undefined" if reading.ratio is None else percent(reading.ratio, reading.threshold)
    if reading.maximum is not None:
        coverage = f"{reading.count:,} users"
        threshold, state = f"max {reading.maximum:,}", "ABOVE" if reading.breached else "ok"
    elif reading.threshold is None:
        threshold, state = "–", "no threshold"
    else:
        threshold = threshold_text(reading.threshold)
        state = "undefined" if reading.ratio is None else "BELOW" if reading.breached else "ok"
    change = reading.change_points
    return Row(
        metric=shorten(label(reading.status), MAX_LABEL_CHARS),
        coverage=coverage,
        users=users,
        threshold=threshold,
        state=state,
        change=signed_points(change),
        **_trend_cells(trend),
    )


def _trend_cells(trend: Trend | None) -> dict[str, str]:
    """A trend's cells; none before there are two snapshots to compare (a first run)."""
    if trend is None or not trend.sparkline:
        return {}
    return {
        "change_7d": signed_points(trend.change_7d),
        "change_30d": signed_points(trend.change_30d),
        "sparkline": trend.sparkline,
    }


def signed_points(change: Fraction | None) -> str:
    return "–" if change is None else f"{float(change):+.1f} pts"


def percent(ratio: Fraction | None, threshold: Fraction | None = None) -> str:
    """A ratio as a percentage with as many decimals as the threshold has (one at least),
    rounded, except that a ratio below its threshold is rounded *down*: what the card prints
    never contradicts the state (94.96% below 95% reads "94.9%", not "95%")."""
    if ratio is None:
        return "–"
    decimals = max(1, _decimals(threshold * 100) if threshold is not None else 1)
    exact = ratio * 100 * 10**decimals
    below = threshold is not None and ratio < threshold
    scaled = math.floor(exact) if below else round(exact)
    text = f"{scaled // 10**decimals}.{scaled % 10**decimals:0{decimals}d}".rstrip("0")
    return text.rstrip(".") + "%"


def threshold_text(threshold: Fraction | None) -> str:
    """A threshold as configured: `95.05%` stays 95.05%."""
    return percent(threshold, threshold)


def _decimals(value: Fraction, most: int = 4) -> int:
    """How many decimals show `value` exactly (at most `most`)."""
    for decimals in range(most + 1):
        if (value * 10**decimals).denominator == 1:
            return decimals
    return most


def duration(delta: timedelta) -> str:
    minutes = max(int(delta.total_seconds() // 60), 0)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = [(days, "day"), (hours, "hour")] if days else [(hours, "hour"), (minutes, "minute")]
    text = " ".join(f"{n} {unit}{'s' if n != 1 else ''}" for n, unit in parts if n)
    return text or "less than a minute"
