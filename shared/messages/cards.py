"""What a run tells people, as an Adaptive Card for Teams or as plain text for the log (pure).

One message per run: a summary whose table lists every metric, whatever changed. Cards use
Adaptive Card 1.4, the newest version every Teams client renders (Table needs 1.5, so rows
are ColumnSets), and stay far below the ~28 KB a Workflows webhook accepts
(https://learn.microsoft.com/microsoftteams/platform/webhooks-and-connectors/how-to/connectors-using),
whatever the report holds.

Layout, for a 360 px phone as for a 720 px desktop (scripts/render-cards draws both): the title
first, then what changed, then the table, then the tenant and time. Every table row is a
ColumnSet with the same *weighted* widths, so the columns line up from row to row (`auto` widths
size each row on its own); cells hold short words, each on its own line, so that no word needs
breaking in the narrow metric column. The button leads to what helps: the Entra activity page
for coverage, the function app in Azure for a failing fetch.

Trends (shared/core/trends.py) come as data: under a metric's row, a sparkline and the 7- and 30-day
change. The weekly digest is the same table with the week's story above it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from fractions import Fraction
from typing import Any, Literal, NamedTuple
from urllib.parse import quote

from shared.core.alerting import CONFIG_HEALTH, FETCH_HEALTH, AlertState, Event, Notice
from shared.core.coverage import ADMINS_WITHOUT_MFA, KNOWN_STATUSES, Reading, label
from shared.core.snapshot import Snapshot
from shared.core.trends import Trend
from shared.redaction import redact

# The Entra admin center page that shows who has registered which method.
ENTRA_ACTIVITY_URL = (
    "https://entra.microsoft.com/#view/Microsoft_AAD_IAM/AuthenticationMethodsMenuBlade/~/"
    "AuthMethodsActivity"
)
# Where to look when the fetch fails and the card cannot say which function app it came from
# (outside Azure): the portal's list of function apps and web apps.
AZURE_FUNCTION_APPS_URL = "https://portal.azure.com/#browse/Microsoft.Web%2Fsites"
CARD_BYTES_LIMIT = 20_000  # the webhook's limit is ~28 KB; keep a wide margin
MAX_TABLE_ROWS = 15  # a phone shows about 15 rows per screen; the rest are counted
MAX_NOTICE_LINES = 6  # drop notices can come for every status: hundreds of lines
MAX_ERROR_CHARS = 600  # the error's start says what failed; the rest is in the logs
MAX_REPORT_ID_CHARS = 100  # Graph's ids are short; a hostile one must not bloat the card
MAX_LABEL_CHARS = 60  # a status name is Graph's to choose: keep the metric column readable
_HEADER: tuple[str, ...] = ("Metric", "Coverage", "Threshold", "State", "Change")
_TREND_HEADER = ("7 days", "30 days", "Trend")
_SEVERITY = {"attention": "🔴", "warning": "🟠", "good": "🟢", "default": "ℹ️"}
# The table's columns as weights, the same in every row so that they line up: metric, coverage,
# threshold. At 360 px that leaves about 120, 90 and 90 px.
_WEIGHTS = (4, 3, 3)


class ChartSeries(NamedTuple):
    """One metric's line on a chart: its label, and (day, coverage in percent) oldest first."""

    legend: str
    points: tuple[tuple[str, float], ...]


class Row(NamedTuple):
    """One metric of the table, as text."""

    metric: str
    coverage: str  # "88.3%" ("undefined" for a tenant of zero users)
    users: str  # "1,104 of 1,250"
    threshold: str  # "95%", or "–" when none is configured
    state: str  # "BELOW", "ok", "undefined" or "no threshold"
    change: str  # "-7.7 pts" since the previous snapshot, or "–"
    change_7d: str = ""  # "-2.1 pts" over 7 days, "–" unknown, "" when no trend is known
    change_30d: str = ""
    sparkline: str = ""  # the last snapshots, oldest first (shared/core/trends.py)


@dataclass(frozen=True)
class AppLocation:
    """Where the function app runs in Azure (from App Service's WEBSITE_* variables)."""

    subscription_id: str
    resource_group: str
    site_name: str

    @property
    def portal_url(self) -> str:
        """The function app in the Azure portal: its Application Insights, identity and logs."""
        resource = "/".join(
            quote(part, safe="")
            for part in (
                "subscriptions",
                self.subscription_id,
                "resourceGroups",
                self.resource_group,
                "providers",
                "Microsoft.Web",
                "sites",
                self.site_name,
            )
        )
        return f"https://portal.azure.com/#resource/{resource}/overview"


@dataclass(frozen=True)
class Message:
    title: str
    severity: str  # an Adaptive Card container style: attention, warning, good or default
    lines: list[str]
    rows: list[Row] = field(default_factory=list)
    footer: str = ""
    about: Literal["coverage", "fetch"] = "coverage"  # what the card is about: its button
    chart: tuple[ChartSeries, ...] = ()  # thresholded metrics over 30 days (CARD_VERSION=1.5)


def coverage_message(
    snapshot: Snapshot,
    readings: Sequence[Reading],
    events: Sequence[Event],
    admin_names: Sequence[str] = (),
    trends: Mapping[str, Trend] | None = None,
) -> Message:
    """The summary for a snapshot whose check produced `events` (at least one).

    `admin_names`: a few admins without MFA, named only with ALERT_NAME_ADMINS=true (never
    stored: they travel in the queue message from the fetch to this card). Each metric with a
    known trend (`trends`, by status) shows it under its row."""
    now = snapshot.fetched_at
    lines = [_event_line(event, now) for event in events]
    admins = next(
        (
            e.reading
            for e in events
            if e.reading is not None
            and e.reading.status == ADMINS_WITHOUT_MFA
            and e.notice in (Notice.FIRING, Notice.REMINDER)
        ),
        None,
    )
    if admins is not None and admin_names:
        unnamed = admins.count - len(admin_names)
        lines.append(
            "Admins without MFA: "
            + ", ".join(shorten(name, MAX_LABEL_CHARS) for name in admin_names)
            + (f" and {unnamed:,} more" if unnamed > 0 else "")
            + "."
        )
    kinds = {event.notice for event in events}
    if kinds & {Notice.FIRING, Notice.REMINDER}:
        severity = "attention"
    elif kinds & {Notice.DROP, Notice.CLOSED}:
        severity = "warning"
    else:
        severity = "good"
    told = {event.reading.status for event in events if event.reading is not None}

    def watched(reading: Reading) -> bool:
        limited = reading.threshold is not None or reading.maximum is not None
        return limited or reading.status in told

    first = events[0]
    more = f" (+{len(events) - 1} more)" if len(events) > 1 else ""
    report_id = (snapshot.report.report_id or "")[:MAX_REPORT_ID_CHARS]
    return Message(
        title=_event_title(first) + more,
        severity=severity,
        lines=lines,
        # The reason for the card leads the table: metrics below their threshold, then those
        # with a threshold or a notice, then the rest (a report can carry hundreds).
        rows=[
            _row(r, (trends or {}).get(r.status))
            for r in sorted(readings, key=lambda r: (not r.breached, not watched(r)))
        ],
        footer=f"Tenant {snapshot.key.tenant_id} · fetched {now:%Y-%m-%d %H:%M} UTC"
        + (f" · report {report_id}" if report_id else "")
        + f" · source {snapshot.source.split('/')[0]} {snapshot.source.split('/')[-1]}",
        chart=_chart(readings, trends or {}),
    )


def fetch_health_message(event: Event, now: datetime) -> Message:
    started = event.started
    since = f"{started:%Y-%m-%d %H:%M} UTC" if started else "an unknown time"
    duration = _duration(now - started) if started else "an unknown time"
    # Errors are written without secrets; scrub anyway, as every log line is.
    error = shorten(redact(event.state.detail), MAX_ERROR_CHARS)
    if event.notice is Notice.RESOLVED:
        return Message(
            title="Entra registration monitor: fetching the report works again",
            severity="good",
            lines=[
                f"Fetching works again as of {now:%Y-%m-%d %H:%M} UTC, after failing since "
                f"{since} ({duration}).",
                f"The last error was: {error}",
            ],
            about="fetch",
        )
    still = "still " if event.notice is Notice.REMINDER else ""
    return Message(
        title=f"Entra registration monitor: fetching the report {still}fails",
        severity="attention",
        lines=[
            f"Fetching has failed since {since} ({duration}); coverage is not being checked.",
            f"Last error: {error}",
        ],
        about="fetch",
    )


def source_switch_message(reason: str, now: datetime) -> Message:
    """REPORT_SOURCE=auto found the beta report gone and reads v1.0 from now on (said once)."""
    return Message(
        title="Entra registration monitor: now reading v1.0 userRegistrationDetails",
        severity="warning",
        lines=[
            f"As of {now:%Y-%m-%d %H:%M} UTC the beta report is gone: "
            f"{shorten(redact(reason), MAX_ERROR_CHARS)}",
            "Coverage is counted from v1.0 userRegistrationDetails from now on. It needs the "
            "application permission **AuditLog.Read.All** for the app's identity "
            "(infra/grant-reports-read-all.sh grants it); without it, the next card says "
            "fetching fails.",
        ],
        about="fetch",
    )


def render_card(
    message: Message, location: AppLocation | None = None, *, version: str = "1.4"
) -> dict[str, Any]:
    """The Workflows webhook's envelope around an Adaptive Card 1.4.

    `location` is where the app runs in Azure, if known: a failing fetch's card links to it.
    With `version` "1.5" (CARD_VERSION), a card with a chart to draw carries a Teams
    `Chart.Line` and says version 1.5; a client that cannot draw it shows its fallback text.
    Every other card stays 1.4, which every Teams client renders.
    """
    rows = list(message.rows)
    while True:
        envelope = _envelope(message, rows, location, chart=version == "1.5")
        if len(json.dumps(envelope).encode()) <= CARD_BYTES_LIMIT or not rows:
            return envelope
        rows = rows[: len(rows) - max(1, len(rows) // 4)]


def render_text(message: Message) -> str:
    """The same facts as the card, for the log when no webhook is configured: plain text, so
    the card's markdown (`**bold**`) is dropped."""
    out = [f"{_SEVERITY.get(message.severity, '')} {message.title}".strip()]
    out += [line.replace("**", "") for line in message.lines]
    if message.rows:
        with_trends = any(row.change_7d for row in message.rows)
        header = _HEADER + _TREND_HEADER if with_trends else _HEADER
        table = [header, *(_text_cells(row, with_trends) for row in message.rows)]
        widths = [max(len(r[i]) for r in table) for i in range(len(header))]
        for cells in table:
            out.append(
                "  "
                + "  ".join(cell.ljust(w) for cell, w in zip(cells, widths, strict=True)).rstrip()
            )
    if message.footer:
        out.append(message.footer)
    return "\n".join(out)


def shorten(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters at a word boundary, with an ellipsis if cut."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space >= limit // 2:  # a word boundary not too far back; else cut the long word itself
        cut = cut[:space]
    return cut.rstrip(" ,;:.-–") + "…"


def _text_cells(row: Row, with_trends: bool) -> tuple[str, ...]:
    coverage = row.coverage if not row.users else f"{row.coverage} ({row.users})"
    cells: tuple[str, ...] = (row.metric, coverage, row.threshold, row.state, row.change)
    if with_trends:
        cells += (row.change_7d or "–", row.change_30d or "–", row.sparkline)
    return cells


def _envelope(
    message: Message, rows: list[Row], location: AppLocation | None, *, chart: bool = False
) -> dict[str, Any]:
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
        body.append(_subtle(f"…and {hidden_lines} more notices"))
    if rows:
        shown = rows[:MAX_TABLE_ROWS]
        body.append(_header_columns(separator=True))
        for row in shown:
            body.append(_columns(row))
            if row.change_7d:
                body.append(_trend_line(row))
        hidden = len(message.rows) - len(shown)
        if hidden:
            body.append(_subtle(f"…and {hidden} more statuses"))
    with_chart = chart and bool(message.chart)
    if with_chart:
        body.append(_chart_line(message.chart))
    if message.footer:
        # One fact a line ("Tenant …", "Fetched …", "Report …"): on a phone a line that holds
        # them all wraps inside the report id or the date.
        parts = [part[:1].upper() + part[1:] for part in message.footer.split(" · ")]
        body.append(
            {
                "type": "Container",
                "separator": True,
                "items": [{**_subtle(part), "size": "Small", "spacing": "None"} for part in parts],
            }
        )
    card: dict[str, Any] = {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": "1.5" if with_chart else "1.4",
        "msteams": {"width": "Full"},
        "fallbackText": message.title,
        "body": body,
    }
    actions = _actions(message, location)
    if actions:
        card["actions"] = actions
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


def _actions(message: Message, location: AppLocation | None) -> list[dict[str, Any]]:
    """The button that helps with what the card says: none once fetching works again."""
    if message.about == "coverage":
        title, url = "Open authentication methods activity", ENTRA_ACTIVITY_URL
    elif message.severity == "good":
        return []
    elif location is not None:
        # Its Application Insights shows the failures; its Identity, the principal to grant.
        title, url = "Open the function app in Azure", location.portal_url
    else:
        title, url = "Find the function app in Azure", AZURE_FUNCTION_APPS_URL
    return [{"type": "Action.OpenUrl", "title": title, "url": url}]


def _subtle(text: str) -> dict[str, Any]:
    return {"type": "TextBlock", "text": text, "isSubtle": True, "wrap": True}


def _header_columns(*, separator: bool) -> dict[str, Any]:
    cells = [[_cell("Metric", subtle=True, small=True)]]
    cells += [[_cell("Coverage", subtle=True, small=True)]]
    cells += [[_cell("Threshold", subtle=True, small=True)]]
    return {**_column_set(cells), "separator": separator, "spacing": "Medium"}


def _columns(row: Row) -> dict[str, Any]:
    """One metric as three cells of one or two lines: name, coverage, threshold and state."""
    metric = [_cell(row.metric, bold=True)]
    if row.change not in ("–", "+0.0 pts", "-0.0 pts"):  # no change is not news
        metric.append(_cell(f"Change {row.change}", subtle=True, small=True))
    coverage = [_cell(row.coverage)]
    if row.users:
        coverage.append(_cell(row.users, subtle=True, small=True))
    if row.state in ("BELOW", "ABOVE"):
        threshold = [_cell(f"{row.state.title()} {row.threshold}", bold=True, color="Attention")]
    elif row.state == "ok":
        threshold = [_cell(f"Meets {row.threshold}", color="Good")]
    else:  # no threshold, or a ratio that is undefined
        threshold = [_cell(row.threshold if row.threshold != "–" else "None", subtle=True)]
        if row.state == "undefined":
            threshold.append(_cell("Not checked", subtle=True, small=True))
    return _column_set([metric, coverage, threshold])


MAX_CHART_SERIES = 4  # the thresholded metrics; more lines would not be told apart


def _chart(readings: Sequence[Reading], trends: Mapping[str, Trend]) -> tuple[ChartSeries, ...]:
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


def _chart_line(chart: Sequence[ChartSeries]) -> dict[str, Any]:
    """Teams' line chart (Adaptive Cards 1.5, Teams only), with a text where it cannot draw."""
    return {
        "type": "Chart.Line",
        "separator": True,
        "title": "Coverage over the last 30 days (%)",
        "data": [
            {"legend": s.legend, "values": [{"x": x, "y": y} for x, y in s.points]} for s in chart
        ],
        "fallback": {
            **_subtle(
                "This Teams cannot draw the chart: the trend under each metric says the same."
            ),
            "size": "Small",
        },
    }


def _trend_line(row: Row) -> dict[str, Any]:
    """Under a metric's row: its shape (a sparkline, sized to itself: it is one long "word"
    that must not wrap) and, beside it, the 7- and 30-day change in short words that wrap
    between them on a phone."""
    change = f"7 days {row.change_7d} · 30 days {row.change_30d}"
    trend = {
        "type": "ColumnSet",
        "columns": [
            {"type": "Column", "width": "auto", "items": [_cell(row.sparkline, subtle=True)]},
            {
                "type": "Column",
                "width": "stretch",
                "spacing": "Small",
                "verticalContentAlignment": "Center",
                "items": [_cell(change, subtle=True, small=True)],
            },
        ],
    }
    # In a Container of its own: the table's rows stay the body's only ColumnSets.
    return {"type": "Container", "spacing": "None", "items": [trend]}


def _column_set(cells: Sequence[list[dict[str, Any]]]) -> dict[str, Any]:
    return {
        "type": "ColumnSet",
        "spacing": "Small",
        "columns": [
            {
                "type": "Column",
                "width": weight,
                **({"spacing": "Small"} if i else {}),
                "items": items,
            }
            for i, (weight, items) in enumerate(zip(_WEIGHTS, cells, strict=True))
        ],
    }


def _cell(
    text: str, *, bold: bool = False, subtle: bool = False, small: bool = False, color: str = ""
) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "TextBlock", "text": text, "wrap": True, "spacing": "None"}
    if bold:
        block["weight"] = "Bolder"
    if subtle:
        block["isSubtle"] = True
    if small:
        block["size"] = "Small"
    if color:
        block["color"] = color
    return block


def _row(reading: Reading, trend: Trend | None = None) -> Row:
    users = f"{reading.count:,} of {reading.total:,}"
    if reading.exceeds_total:  # real data, not capped: say why it can happen
        users += " (the total counts enabled users only)"
    coverage = "undefined" if reading.ratio is None else _percent(reading.ratio, reading.threshold)
    if reading.maximum is not None:
        coverage = f"{reading.count:,} users"
        threshold, state = f"max {reading.maximum:,}", "ABOVE" if reading.breached else "ok"
    elif reading.threshold is None:
        threshold, state = "–", "no threshold"
    else:
        threshold = _threshold(reading.threshold)
        state = "undefined" if reading.ratio is None else "BELOW" if reading.breached else "ok"
    change = reading.change_points
    return Row(
        metric=shorten(label(reading.status), MAX_LABEL_CHARS),
        coverage=coverage,
        users=users,
        threshold=threshold,
        state=state,
        change=_signed_points(change),
        **_trend_cells(trend),
    )


def _trend_cells(trend: Trend | None) -> dict[str, str]:
    """A trend's cells; none before there are two snapshots to compare (a first run)."""
    if trend is None or not trend.sparkline:
        return {}
    return {
        "change_7d": _signed_points(trend.change_7d),
        "change_30d": _signed_points(trend.change_30d),
        "sparkline": trend.sparkline,
    }


def _signed_points(change: Fraction | None) -> str:
    return "–" if change is None else f"{float(change):+.1f} pts"


def _event_title(event: Event) -> str:
    if event.state.name == CONFIG_HEALTH:
        if event.notice is Notice.RESOLVED:
            return "Resolved: every status in THRESHOLDS is checked again"
        return f"Not checked: the report carries no {event.state.detail}, which THRESHOLDS names"
    if event.notice is Notice.CLOSED:
        return f"No longer checked: {label(event.state.name)}, which was below its threshold"
    if event.reading is None:
        return event.state.name
    reading = event.reading
    name = label(reading.status)
    if reading.maximum is not None:
        if event.notice is Notice.RESOLVED:
            return f"Resolved: {name} back to {reading.count:,} (at most {reading.maximum:,})"
        return f"{name}: {reading.count:,}, more than {reading.maximum:,}"
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
            f"CLOSED: **{label(event.state.name)}** was below its threshold "
            f"for {firing_for} and is no longer checked: {event.reason}. Its alert is cleared; "
            "if it is checked again, it starts afresh."
        )
    reading = event.reading
    assert reading is not None  # coverage events always carry their reading
    name = f"**{label(reading.status)}**"
    if reading.maximum is not None:
        return _maximum_line(event, name, firing_for)
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
        f"DROP: {name} fell {_points(reading)} points since the previous snapshot, "
        f"from {previous} to {value}."
    )


def _maximum_line(event: Event, name: str, firing_for: str) -> str:
    reading = event.reading
    assert reading is not None
    value, maximum = f"{reading.count:,} users", f"{reading.maximum:,}"
    if event.notice is Notice.FIRING:
        return f"FIRING: {name} is {value}, more than the maximum of {maximum}."
    if event.notice is Notice.REMINDER:
        return f"STILL FIRING: {name} is {value}, more than {maximum} for {firing_for}."
    return f"RESOLVED: {name} is {value}, at most {maximum}, after firing for {firing_for}."


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


def digest_message(
    *,
    now: datetime,
    newest: Snapshot | None,
    readings: Sequence[Reading],
    trends: Mapping[str, Trend],
    states: Mapping[str, AlertState],
    fetch_health: AlertState | None,
    week: timedelta = timedelta(days=7),
) -> Message:
    """The weekly summary, posted even when nothing changed: every metric with its trend, what
    fired or resolved during the `week` before `now` (read from the alert states: see
    shared/usecases/digest.py) and the monitor's own health."""
    start = now - week
    firing = sorted((s for s in states.values() if s.firing), key=lambda s: s.name)
    resolved = [
        s
        for s in sorted(states.values(), key=lambda s: s.name)
        if not s.firing and s.last_told is not None and s.since is not None and s.since >= start
    ]
    # A maximum (adminsWithoutMfa<=0) fires above it; every other limit, below it.
    above = {r.status for r in readings if r.maximum is not None}
    lines = [_digest_firing_line(state, start, now, state.name in above) for state in firing]
    lines += [f"RESOLVED: {_state_label(s)} on {s.since:%a %d %b %H:%M} UTC." for s in resolved]
    if not lines:
        lines.append("Nothing fired or resolved this week.")
    lines.append(_health_line(newest, fetch_health, now, week))
    below = [s for s in firing if s.name not in (CONFIG_HEALTH, FETCH_HEALTH)]
    fetch_failing = fetch_health is not None and fetch_health.firing
    if below:
        count = f"{len(below)} metric{'s' if len(below) != 1 else ''}"
        limit = "maximum" if all(s.name in above for s in below) else "threshold"
        where = "above" if limit == "maximum" else "below"
        if any(s.name in above for s in below) and limit == "threshold":
            where, limit = "outside", "limit"
        its = "their" if len(below) != 1 else "its"
        title = f"Weekly digest: {count} {where} {its} {limit}{'s' if len(below) != 1 else ''}"
    elif newest is None or fetch_failing:
        title = "Weekly digest: the monitor is not fetching the report"
    elif firing:
        title = "Weekly digest: a status in THRESHOLDS is not checked"
    else:
        title = "Weekly digest: every metric meets its threshold"
    attention = bool(firing) or fetch_failing or newest is None
    footer = f"Week to {now:%Y-%m-%d %H:%M} UTC"
    if newest is not None:
        footer = f"Tenant {newest.key.tenant_id} · " + footer
    return Message(
        title=title,
        severity="attention" if attention else "good",
        lines=lines,
        rows=[
            _row(r, trends.get(r.status)) for r in sorted(readings, key=lambda r: not r.breached)
        ],
        footer=footer,
        chart=_chart(readings, trends),
    )


def _state_label(state: AlertState) -> str:
    if state.name == CONFIG_HEALTH:
        return f"**THRESHOLDS** naming {state.detail or 'a status'} the report lacks"
    return f"**{label(state.name)}**"


def _digest_firing_line(state: AlertState, start: datetime, now: datetime, above: bool) -> str:
    since = state.since or now
    when = f"since {since:%a %d %b %H:%M} UTC ({_duration(now - since)})"
    where = "above its maximum" if above else "below its threshold"
    if state.name == CONFIG_HEALTH:
        return f"NOT CHECKED: {_state_label(state)}, {when}."
    if since >= start:
        return f"FIRED: {_state_label(state)} is {where} {when}."
    return f"STILL FIRING: {_state_label(state)} has been {where} {when}."


def _health_line(
    newest: Snapshot | None, health: AlertState | None, now: datetime, week: timedelta
) -> str:
    """The monitor's own health: when it last fetched the report, and whether fetching fails."""
    if newest is None:
        fetched = "No report was fetched in the last 30 days: coverage is not being checked."
    else:
        ago = _duration(now - newest.fetched_at)
        fetched = f"Last successful fetch: {newest.fetched_at:%a %d %b %H:%M} UTC ({ago} ago)."
    if health is not None and health.firing and health.since is not None:
        # The error itself is in the fetch cards and the logs; a digest only points at them.
        fetched += (
            f" Fetching has failed since {health.since:%a %d %b %H:%M} UTC "
            f"({_duration(now - health.since)}): the fetch alert says why."
        )
    elif health is not None and health.since is not None and health.last_told is not None:
        if now - health.since <= week:  # told it failed, then that it works again
            fetched += f" Fetching failed and works again since {health.since:%a %d %b %H:%M} UTC."
    return fetched
