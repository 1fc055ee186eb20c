"""What a message says, as plain data: no layout, no I/O, no settings, clock or secrets.

The builders (coverage.py, health.py, digest.py) make a `Message` from the core's data; the
renderers (adaptive_card.py for Teams, text.py for the log) decide how it looks. Texts are as
the builders wrote them: whoever sends a message scrubs it first (`Message.map_text`, see
shared/notify/teams.py), so no builder needs the secret registry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Literal, NamedTuple
from urllib.parse import quote


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
    # Standing facts shown under the notices, whatever changed: the MFA enforcement line.
    facts: list[str] = field(default_factory=list)

    def map_text(self, change: Callable[[str], str]) -> Message:
        """The same message with `change` applied to every text it shows (a renderer shows
        nothing else): title, lines, facts, every cell of every row, the footer and chart
        legends."""
        return replace(
            self,
            title=change(self.title),
            lines=[change(line) for line in self.lines],
            facts=[change(fact) for fact in self.facts],
            rows=[Row(*(change(cell) for cell in row)) for row in self.rows],
            footer=change(self.footer),
            chart=tuple(
                ChartSeries(change(s.legend), tuple((change(x), y) for x, y in s.points))
                for s in self.chart
            ),
        )
