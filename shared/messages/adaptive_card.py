"""Any message as an Adaptive Card for a Teams Workflows webhook (how it looks, pure).

Cards use Adaptive Card 1.4, the newest version every Teams client renders (Table needs 1.5, so
rows are ColumnSets), and stay far below the ~28 KB a Workflows webhook accepts
(https://learn.microsoft.com/microsoftteams/platform/webhooks-and-connectors/how-to/connectors-using),
whatever the message holds.

Layout, for a 360 px phone as for a 720 px desktop (scripts/render-cards draws both): the title
first, then what changed, then the table, then the tenant and time. Every table row is a
ColumnSet with the same *weighted* widths, so the columns line up from row to row (`auto` widths
size each row on its own); cells hold short words, each on its own line, so that no word needs
breaking in the narrow metric column. The button leads to what helps: the Entra activity page
for coverage, the function app in Azure for a failing fetch. Under a metric's row, its trend:
a sparkline and the 7- and 30-day change; with CARD_VERSION=1.5, a Teams chart.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from shared.messages.model import AppLocation, ChartSeries, Message, Row

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
# The table's columns as weights, the same in every row so that they line up: metric, coverage,
# threshold. At 360 px that leaves about 120, 90 and 90 px.
_WEIGHTS = (4, 3, 3)


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
    for i, fact in enumerate(message.facts):
        # Standing facts (MFA enforcement), apart from what changed, never cut with the notices.
        body.append({"type": "TextBlock", "text": fact, "wrap": True, "separator": i == 0})
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
