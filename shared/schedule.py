"""NCRONTAB schedules, as the Functions host reads FETCH_SCHEDULE (pure).

Six fields: second minute hour day month day-of-week, each `*`, a number, a range `a-b`, a
step `*/n` or `a-b/n`, or a comma-separated list of these; months and days of the week may be
named (`Jan`, `Mon`). Checked here, with the other settings, so that a bad schedule is reported
in one line naming the setting and the field, not as the host's traceback (and so that
`0 0 25 * * *` is refused: there is no hour 25).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_FIELDS: tuple[tuple[str, int, int, Sequence[str]], ...] = (
    ("second", 0, 59, ()),
    ("minute", 0, 59, ()),
    ("hour", 0, 23, ()),
    ("day", 1, 31, ()),
    ("month", 1, 12, ("jan feb mar apr may jun jul aug sep oct nov dec".split())),
    ("day of the week", 0, 6, ("sun mon tue wed thu fri sat".split())),
)
_ITEM = re.compile(r"(?P<range>\*|[0-9A-Za-z]+(?:-[0-9A-Za-z]+)?)(?:/(?P<step>[0-9]+))?")


def check_ncrontab(schedule: str) -> str:
    """Return `schedule` if it is a valid six-field NCRONTAB expression, else ValueError."""
    fields = schedule.split()
    if len(fields) != 6:
        raise ValueError(
            f"{schedule!r} has {len(fields)} fields; NCRONTAB needs 6: second minute hour day "
            "month day-of-week (e.g. '0 0 6 * * *' for 06:00 UTC daily)"
        )
    for text, (name, low, high, names) in zip(fields, _FIELDS, strict=True):
        for item in text.split(","):
            _check_item(item, name, low, high, names, schedule)
    return schedule


def _check_item(
    item: str, name: str, low: int, high: int, names: Sequence[str], schedule: str
) -> None:
    match = _ITEM.fullmatch(item)
    if not match:
        raise ValueError(f"{schedule!r}: {name} {item!r} is not a number, range or step")
    if match["step"] is not None and int(match["step"]) < 1:
        raise ValueError(f"{schedule!r}: {name} step must be at least 1, got {item!r}")
    if match["range"] == "*":
        return
    bounds = [_value(part, name, low, high, names, schedule) for part in match["range"].split("-")]
    if len(bounds) == 2 and bounds[0] > bounds[1]:
        raise ValueError(f"{schedule!r}: {name} range {match['range']!r} runs backwards")


def _value(part: str, name: str, low: int, high: int, names: Sequence[str], schedule: str) -> int:
    if part.lower() in names:
        return low + list(names).index(part.lower())
    if not part.isdigit():
        raise ValueError(f"{schedule!r}: {name} {part!r} is not a number")
    value = int(part)
    if not low <= value <= high:
        raise ValueError(f"{schedule!r}: {name} {value} is outside {low}-{high}")
    return value
