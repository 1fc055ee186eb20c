"""Every kind of card, checked by Microsoft's Adaptive Cards renderer (npm `adaptivecards`).

standins/adaptivecards-check.js parses each card for Adaptive Cards 1.4 with a Teams-like host
config, validates it, and reports every event, every property the library does not know, and a
version above 1.4 (1.5 only for a card whose one newer element is a Teams chart with a fallback,
as CARD_VERSION=1.5 makes it). The cards come from standins/card_gallery.py, built by the app's
own code;
scripts/render-cards draws the same cards to PNG.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from shared.messages.adaptive_card import (
    AZURE_FUNCTION_APPS_URL,
    CARD_BYTES_LIMIT,
    ENTRA_ACTIVITY_URL,
)
from standins.card_gallery import LOCATION, check_cards, every_card

EVERY_KIND = (
    "firing",
    "reminder",
    "resolved",
    "drop",
    "several",
    "zero-users",
    "above-total",
    "not-checked",
    "huge-report",
    "admins-without-mfa",
    "fetch-failing",
    "fetch-still-failing",
    "fetch-works-again",
    "source-switch",
    "trends",
    "trends-chart",
    "digest",
    "digest-firing",
)


@pytest.fixture(scope="module")
def cards() -> dict[str, dict[str, Any]]:
    return every_card()


@pytest.fixture(scope="module")
def problems(cards: dict[str, dict[str, Any]]) -> dict[str, list[str]]:
    """The renderer's findings for every gallery card and every deliberately broken one."""
    return check_cards({**cards, **{name: payload for name, payload, _ in broken_cards(cards)}})


def content(payload: dict[str, Any]) -> dict[str, Any]:
    card: dict[str, Any] = payload["attachments"][0]["content"]
    return card


def broken_cards(cards: dict[str, dict[str, Any]]) -> list[tuple[str, dict[str, Any], str]]:
    """(name, payload, what the check must say): a firing card spoilt in one way each."""
    base = cards["firing"]

    def spoilt(change: Any) -> dict[str, Any]:
        payload = copy.deepcopy(base)
        change(content(payload))
        return payload

    def chart_spoilt(change: Any) -> dict[str, Any]:
        payload = copy.deepcopy(cards["trends-chart"])
        change(content(payload))
        return payload

    def no_fallback(card: dict[str, Any]) -> None:
        for element in card["body"]:
            element.pop("fallback", None)

    def set_version(card: dict[str, Any]) -> None:
        card["version"] = "1.5"

    def add_table(card: dict[str, Any]) -> None:
        card["body"].append({"type": "Table", "columns": [], "rows": []})

    def add_unknown_property(card: dict[str, Any]) -> None:
        card["body"][1]["fontColour"] = "red"

    def add_newer_property(card: dict[str, Any]) -> None:
        card["body"][1]["style"] = "heading"  # TextBlock.style is 1.5

    def add_bad_value(card: dict[str, Any]) -> None:
        card["body"][1]["size"] = "Enormous"

    return [
        ("broken-version", spoilt(set_version), "not 1.4 or older"),
        ("broken-table", spoilt(add_table), 'Unknown element type "Table"'),
        ("broken-unknown-property", spoilt(add_unknown_property), "fontColour: unknown"),
        ("broken-newer-property", spoilt(add_newer_property), 'Property "style"'),
        ("broken-bad-value", spoilt(add_bad_value), "size"),
        ("broken-envelope", {"type": "message", "attachments": []}, "exactly one attachment"),
        # Version 1.5 is for the chart only: a chart needs its fallback, and nothing else new.
        ("broken-chart-fallback", chart_spoilt(no_fallback), "needs a fallback element"),
        ("broken-chart-card-table", chart_spoilt(add_table), 'Unknown element type "Table"'),
    ]


def test_the_gallery_holds_every_kind_of_card(cards: dict[str, dict[str, Any]]) -> None:
    assert tuple(cards) == EVERY_KIND


@pytest.mark.parametrize("kind", EVERY_KIND)
def test_the_adaptive_cards_renderer_finds_nothing_wrong(
    kind: str, cards: dict[str, dict[str, Any]], problems: dict[str, list[str]]
) -> None:
    assert problems[kind] == []
    assert content(cards[kind])["version"] == ("1.5" if kind == "trends-chart" else "1.4")
    assert len(json.dumps(cards[kind]).encode()) <= CARD_BYTES_LIMIT


@pytest.mark.parametrize("index", range(8))
def test_the_check_reports_a_broken_card(
    index: int, cards: dict[str, dict[str, Any]], problems: dict[str, list[str]]
) -> None:
    name, _, expected = broken_cards(cards)[index]

    found = problems[name]

    assert any(expected in problem for problem in found), found


def test_each_card_has_the_button_that_helps(cards: dict[str, dict[str, Any]]) -> None:
    urls = {
        kind: [action["url"] for action in content(payload).get("actions", [])]
        for kind, payload in cards.items()
    }

    for kind in EVERY_KIND[:7]:
        assert urls[kind] == [ENTRA_ACTIVITY_URL], kind
    assert urls["fetch-failing"] == [LOCATION.portal_url]
    assert urls["fetch-still-failing"] == [LOCATION.portal_url]
    assert urls["fetch-works-again"] == []
    for kind in ("trends", "trends-chart", "digest", "digest-firing"):
        assert urls[kind] == [ENTRA_ACTIVITY_URL], kind
    outside_azure = every_card(location=None)
    assert [a["url"] for a in content(outside_azure["fetch-failing"])["actions"]] == [
        AZURE_FUNCTION_APPS_URL
    ]


def test_with_card_version_1_5_a_trend_card_carries_a_line_chart_with_a_fallback(
    cards: dict[str, dict[str, Any]],
) -> None:
    [chart] = [e for e in content(cards["trends-chart"])["body"] if e["type"] == "Chart.Line"]

    assert [series["legend"] for series in chart["data"]] == [
        "Registered for MFA",
        "Capable of SSPR",
    ]  # the thresholded metrics only
    assert len(chart["data"][0]["values"]) == 31  # every snapshot of the 30 days
    assert chart["data"][0]["values"][-1] == {"x": "23 Nov", "y": 88.32}
    assert chart["fallback"]["type"] == "TextBlock"
    assert not any(e["type"] == "Chart.Line" for e in content(cards["trends"])["body"])
