"""A tenant's daily series (shared/core/trends.py) as one compact string property.

    {"v": 1, "statuses": ["mfaRegistered", ...],
     "points": [[<fetched at, Unix seconds>, <total>, <count per status, null if absent>,
                 <total per population, null if absent>], ...],
     "populations": ["admins", ...]}   (absent when no population is counted)

31 days of a dozen statuses is about 2.5 KB, well inside a string property's limit (64 KiB,
32K UTF-16 characters: https://learn.microsoft.com/rest/api/storageservices/understanding-the-table-service-data-model#property-types).
A report with hundreds of long status names spreads it over a few properties (`Series`,
`Series1`, ...), and beyond MAX_CHARS in all the oldest days are dropped: the entity stays
far below its 1 MiB.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timezone
from typing import Any

from shared.core.trends import DailySeries, DayPoint

log = logging.getLogger(__name__)

VERSION = 1
CHUNK_CHARS = 32_000  # a string property holds 32K UTF-16 characters
MAX_CHARS = 8 * CHUNK_CHARS


def encode_series(series: DailySeries) -> list[str]:
    """The series' text, in chunks of at most CHUNK_CHARS (one property each)."""
    points = list(series.points)
    text = _encode(points)
    while len(text) > MAX_CHARS and len(points) > 1:
        points = points[1:]  # the oldest day goes first
        text = _encode(points)
    return [text[i : i + CHUNK_CHARS] for i in range(0, len(text), CHUNK_CHARS)]


def decode_series(chunks: list[str], *, row: str) -> DailySeries | None:
    """The series `text` holds; None (logged, naming `row`) if it cannot be read, so the
    caller rebuilds it from the snapshots."""
    try:
        data = json.loads("".join(chunks))
        if data.get("v") != VERSION:
            raise ValueError(f"version {data.get('v')!r}, not {VERSION}")
        statuses = [str(s) for s in data["statuses"]]
        populations = [str(p) for p in data.get("populations", [])]
        points = tuple(_point(statuses, populations, raw) for raw in data["points"])
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        log.warning("the daily series in row %s is unreadable (%s): rebuilt", row, exc)
        return None
    return DailySeries(points)


def _encode(points: list[DayPoint]) -> str:
    statuses: list[str] = []
    populations: list[str] = []
    for point in points:
        statuses += [s for s in point.counts if s not in statuses]
        populations += [p for p in point.totals if p not in populations]
    rows = [
        [
            int(p.fetched_at.timestamp()),
            p.total,
            *(p.counts.get(s) for s in statuses),
            *(p.totals.get(name) for name in populations),
        ]
        for p in points
    ]
    data: dict[str, Any] = {"v": VERSION, "statuses": statuses, "points": rows}
    if populations:
        data["populations"] = populations
    return json.dumps(data, separators=(",", ":"))


def _point(statuses: list[str], populations: list[str], raw: Any) -> DayPoint:
    when, total, *values = raw
    if len(values) != len(statuses) + len(populations):
        raise ValueError(
            f"a point has {len(values)} values for {len(statuses)} statuses and "
            f"{len(populations)} populations"
        )
    counts, totals = values[: len(statuses)], values[len(statuses) :]
    return DayPoint(
        datetime.fromtimestamp(int(when), tz=timezone.utc),
        int(total),
        {s: int(c) for s, c in zip(statuses, counts, strict=True) if c is not None},
        {p: int(t) for p, t in zip(populations, totals, strict=True) if t is not None},
    )
