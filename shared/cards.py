"""What a run tells people, as an Adaptive Card for Teams or as plain text for the log (pure).

One message per run: a summary whose table lists every metric, whatever changed. Cards use
Adaptive Card 1.4, the newest version every Teams client renders (Table needs 1.5, so rows
are ColumnSets), and stay far below the ~28 KB a Workflows webhook accepts
(https://learn.microsoft.com/microsoftteams/platform/webhooks-and-connectors/how-to/connectors-using),
whatever the report holds.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from fractions import Fraction
from typing import Any

from shared.alerting import CONFIG_HEALTH, Event, Notice
from shared.coverage import KNOWN_STATUSES, Reading, label
from shared.redaction import redact
from shared.snapshot import Snapshot

# The Entra admin center page that shows who has registered which method.
ENTRA_ACTIVITY_URL = (
    "https://entra.microsoft.com/#view/Microsoft_AAD_IAM/AuthenticationMethodsMenuBlade/~/"
    "AuthMethodsActivity"
)
CARD_BYTES_LIMIT = 20_000  # the webhook's limit is ~28 KB; keep a wide margin
MAX_TABLE_ROWS = 25
MAX_NOTICE_LINES = 10  # drop notices can come for every status: hundreds of lines
MAX_ERROR_CHARS = 1_000
MAX_REPORT_ID_CHARS = 100  # Graph's ids are short; a hostile one must not bloat the card
_HEADER = ("Metric", "Coverage", "Threshold", "State", "Change")
_SEVERITY = {"attention": "🔴", "warning": "🟠", "good": "🟢", "default": "ℹ️"}


@dataclass(frozen=True)
class Message:
    title: str
    severity: str  # an Adaptive Card container style: attention, warning, good or default
    lines: list[str]
    rows: list[tuple[str, str, str, str, str]] = field(default_factory=list)
    footer: str = ""


def coverage_message(
    snapshot: Snapshot, readings: Sequence[Reading], events: Sequence[Event]
) -> Message:
    """The summary for a snapshot whose check produced `events` (at least one)."""
    now = snapshot.fetched_at
    lines = [_event_line(event, now) for event in events]
    kinds = {event.notice for event in events}
    if kinds & {Notice.FIRING, Notice.REMINDER}:
        severity = "attention"
    elif kinds & {Notice.DROP, Notice.CLOSED}:
        severity = "warning"
    else:
        severity = "good"
    first = events[0]
    more = f" (+{len(events) - 1} more)" if len(events) > 1 else ""
    report_id = (snapshot.report.report_id or "")[:MAX_REPORT_ID_CHARS]
    return Message(
        title=_event_title(first) + more,
        severity=severity,
        lines=lines,
        rows=[_row(reading) for reading in readings],
        footer=f"Tenant {snapshot.key.tenant_id} · fetched {now:%Y-%m-%d %H:%M} UTC"
        + (f" · report {report_id}" if report_id else ""),
    )


def fetch_health_message(event: Event, now: datetime) -> Message:
    started = event.started
    since = f"{started:%Y-%m-%d %H:%M} UTC" if started else "an unknown time"
    duration = _duration(now - started) if started else "an unknown time"
    # Errors are written without secrets; scrub anyway, as every log line is.
    error = redact(event.state.detail)[:MAX_ERROR_CHARS]
    if event.notice is Notice.RESOLVED:
        return Message(
            title="Entra registration monitor: fetching the report works again",
            severity="good",
            lines=[
                f"Fetching works again as of {now:%Y-%m-%d %H:%M} UTC, after failing since "
                f"{since} ({duration}).",
                f"The last error was: {error}",
            ],
        )
    still = "still " if event.notice is Notice.REMINDER else ""
    return Message(
        title=f"Entra registration monitor: fetching the report {still}fails",
        severity="attention",
        lines=[
            f"Fetching has failed since {since} ({duration}); coverage is not being checked.",
            f"Last error: {error}",
        ],
    )


def render_card(message: Message) -> dict[str, Any]:
    """The Workflows webhook's envelope around an Adaptive Card 1.4."""
    rows = list(message.rows)
    while True:
        envelope = _envelope(message, rows)
        if len(json.dumps(envelope).encode()) <= CARD_BYTES_LIMIT or not rows:
            return envelope
        rows = rows[: len(rows) - max(1, len(rows) // 4)]


def render_text(message: Message) -> str:
    """The same facts as the card, for the log when no webhook is configured."""
    out = [f"{_SEVERITY.get(message.severity, '')} {message.title}".strip(), *message.lines]
    if message.rows:
        widths = [max(len(r[i]) for r in [_HEADER, *message.rows]) for i in range(len(_HEADER))]
        for row in [_HEADER, *message.rows]:
            out.append(
                "  "
                + "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
            )
    if message.footer:
        out.append(message.footer)
    return "\n".join(out)


def _envelope(message: Message, rows: list[tuple[str, str, str, str, str]]) -> dict[str, Any]:
    body: list[dict[str, Any]] = [
        {
            "type": "Container",
            "style": message.severity,
            "bleed": True,
            "items": [
                {
                    "type": "TextBlock",
                    "text": message.title,
                    "weight": "Bolder",
                    "size": "Medium",
                    "wrap": True,
                }
            ],
        },
        *(
            {"type": "TextBlock", "text": line, "wrap": True}
            for line in message.lines[:MAX_NOTICE_LINES]
        ),
    ]
    hidden_lines = len(message.lines) - MAX_NOTICE_LINES
    if hidden_lines > 0:
        body.append(
            {"type": "TextBlock", "text": f"…and {hidden_lines} more notices", "isSubtle": True}
        )
    if rows:
        shown = rows[:MAX_TABLE_ROWS]
        body.append(_columns(_HEADER, bold=True))
        body.extend(_columns(row) for row in shown)
        hidden = len(message.rows) - len(shown)
        if hidden:
            body.append(
                {"type": "TextBlock", "text": f"…and {hidden} more statuses", "isSubtle": True}
            )
    if message.footer:
        body.append(
            {
                "type": "TextBlock",
                "text": message.footer,
                "isSubtle": True,
                "size": "Small",
                "wrap": True,
            }
        )
    card = {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": "1.4",
        "msteams": {"width": "Full"},
        "fallbackText": message.title,
        "body": body,
        "actions": [
            {
                "type": "Action.OpenUrl",
                "title": "Open authentication methods activity",
                "url": ENTRA_ACTIVITY_URL,
            }
        ],
    }
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": card,
            }
        ],
    }


def _columns(cells: Sequence[str], *, bold: bool = False) -> dict[str, Any]:
    return {
        "type": "ColumnSet",
        "columns": [
            {
                "type": "Column",
                "width": "stretch" if i == 0 else "auto",
                "items": [
                    {
                        "type": "TextBlock",
                        "text": cell,
                        "wrap": True,
                        **({"weight": "Bolder"} if bold else {}),
                    }
                ],
            }
            for i, cell in enumerate(cells)
        ],
    }


def _row(reading: Reading) -> tuple[str, str, str, str, str]:
    if reading.ratio is None:
        coverage = f"undefined ({reading.count:,} of {reading.total:,})"
    else:
        coverage = (
            f"{_percent(reading.ratio, reading.threshold)} ({reading.count:,} of {reading.total:,})"
        )
    if reading.threshold is None:
        threshold, state = "–", "no threshold"
    else:
        threshold = _threshold(reading.threshold)
        state = "undefined" if reading.ratio is None else "BELOW" if reading.breached else "ok"
    change = reading.change_points
    return (
        label(reading.status),
        coverage,
        threshold,
        state,
        "–" if change is None else f"{float(change):+.1f} pts",
    )


def _event_title(event: Event) -> str:
    if event.state.name == CONFIG_HEALTH:
        if event.notice is Notice.RESOLVED:
            return "Resolved: every status in THRESHOLDS is checked again"
        return f"Not checked: the report carries no {event.state.detail} (see THRESHOLDS)"
    if event.notice is Notice.CLOSED:
        return f"No longer checked: {label(event.state.name)}, which was below its threshold"
    if event.reading is None:
        return event.state.name
    reading = event.reading
    name = label(reading.status)
    value, threshold = _percent(reading.ratio, reading.threshold), _threshold(reading.threshold)
    if event.notice is Notice.RESOLVED:
        return f"Resolved: {name} back to {value} (threshold {threshold})"
    if event.notice is Notice.DROP:
        return f"Sharp drop: {name} fell {_points(reading)} points to {value}"
    return f"{name} at {value}, below {threshold}"


def _event_line(event: Event, now: datetime) -> str:
    firing_for = _duration(now - event.started) if event.started else "an unknown time"
    if event.state.name == CONFIG_HEALTH:
        return _config_line(event, firing_for)
    if event.notice is Notice.CLOSED:
        return (
            f"CLOSED: **{label(event.state.name)}** ({event.state.name}) was below its threshold "
            f"for {firing_for} and is no longer checked: {event.reason}. Its alert is cleared; "
            "if it is checked again, it starts afresh."
        )
    reading = event.reading
    assert reading is not None  # coverage events always carry their reading
    name = f"**{label(reading.status)}** ({reading.status})"
    value = _percent(reading.ratio, reading.threshold)
    value += f" ({reading.count:,} of {reading.total:,} users)"
    if reading.exceeds_total:
        value += ", more than the total, which counts enabled users only"
    threshold = _threshold(reading.threshold)
    if event.notice is Notice.FIRING:
        return f"FIRING: {name} is {value}, below the {threshold} threshold."
    if event.notice is Notice.REMINDER:
        return f"STILL FIRING: {name} is {value}, below the {threshold} threshold for {firing_for}."
    if event.notice is Notice.RESOLVED:
        return (
            f"RESOLVED: {name} is back to {value}, at or above {threshold}, "
            f"after firing for {firing_for}."
        )
    previous = _percent(reading.previous_ratio, reading.threshold)
    return (
        f"DROP: {name} fell {_points(reading)} points since the previous snapshot "
        f"({previous} → {value})."
    )


def _config_line(event: Event, firing_for: str) -> str:
    if event.notice is Notice.RESOLVED:
        return (
            "RESOLVED: every status THRESHOLDS names is in the report again and checked, after "
            f"{firing_for}."
        )
    still = "STILL " if event.notice is Notice.REMINDER else ""
    return (
        f"{still}NOT CHECKED: THRESHOLDS names {event.state.detail}, but the report does not "
        f"carry {'it' if ',' not in event.state.detail else 'them'}, so "
        f"{'it is' if ',' not in event.state.detail else 'they are'} not being checked"
        + (f" (for {firing_for})" if still else "")
        + f". The report's statuses are normally {', '.join(KNOWN_STATUSES)}: check THRESHOLDS, "
        "or whether Graph stopped sending the status."
    )


def _percent(ratio: Fraction | None, threshold: Fraction | None = None) -> str:
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


def _threshold(threshold: Fraction | None) -> str:
    """A threshold as configured: `95.05%` stays 95.05%."""
    return _percent(threshold, threshold)


def _decimals(value: Fraction, most: int = 4) -> int:
    """How many decimals show `value` exactly (at most `most`)."""
    for decimals in range(most + 1):
        if (value * 10**decimals).denominator == 1:
            return decimals
    return most


def _points(reading: Reading) -> str:
    """How far a reading fell, in percentage points, to one decimal."""
    return f"{float(round(-(reading.change_points or 0), 1)):.1f}"


def _duration(delta: timedelta) -> str:
    minutes = max(int(delta.total_seconds() // 60), 0)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = [(days, "day"), (hours, "hour")] if days else [(hours, "hour"), (minutes, "minute")]
    text = " ".join(f"{n} {unit}{'s' if n != 1 else ''}" for n, unit in parts if n)
    return text or "less than a minute"
