"""How any message looks: the Teams card (one per run, readable in a notification, always
under the webhook's limit) and the log text with the same facts."""

from __future__ import annotations

import json
import re

from shared.core.alerting import AlertState, Event, Notice, decide_metrics
from shared.core.coverage import readings
from shared.core.report import Report
from shared.core.snapshot import Snapshot, snapshot_key
from shared.hosting import app_location
from shared.messages.adaptive_card import (
    AZURE_FUNCTION_APPS_URL,
    ENTRA_ACTIVITY_URL,
    render_card,
)
from shared.messages.coverage import coverage_message
from shared.messages.health import fetch_health_message
from shared.messages.model import AppLocation, Row
from shared.messages.text import render_text
from tests.message_examples import (
    DAY,
    NOW,
    THRESHOLDS,
    card_bytes,
    card_of,
    message_for,
    texts,
)


def test_the_envelope_is_what_a_workflows_webhook_expects() -> None:
    envelope = render_card(message_for({"mfaRegistered": 1104, "capable": 1152}))

    assert envelope["type"] == "message"
    [attachment] = envelope["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert attachment["contentUrl"] is None
    assert attachment["content"]["type"] == "AdaptiveCard"
    assert attachment["content"]["version"] == "1.4"


def test_a_card_links_to_the_entra_admin_center() -> None:
    card = card_of(render_card(message_for({"mfaRegistered": 1})))

    assert card["actions"][0]["url"] == ENTRA_ACTIVITY_URL
    assert ENTRA_ACTIVITY_URL.startswith("https://entra.microsoft.com/")


def test_the_card_stays_under_the_webhook_limit_with_hundreds_of_statuses() -> None:
    counts = {f"status{i:03d}{'x' * 90}": i for i in range(400)}
    counts["mfaRegistered"] = 1
    message = message_for(counts)

    envelope = render_card(message)

    assert len(json.dumps(envelope).encode()) < 20_000
    assert any("more statuses" in text for text in texts(card_of(envelope)))
    assert "Registered for MFA" in texts(card_of(envelope))  # the breached one is kept


def test_the_printed_alert_carries_the_same_facts_as_the_card() -> None:
    message = message_for({"mfaRegistered": 1104, "capable": 1152})

    text = render_text(message)

    assert text.splitlines()[0] == "🔴 Registered for MFA at 88.3%, below 95%"
    assert "88.3% (1,104 of 1,250)" in text
    assert "Tenant tenant-1 · fetched 2026-11-23 06:00 UTC · report report-7" in text


def test_the_envelope_carries_exactly_one_adaptive_card_and_nothing_else() -> None:
    envelope = render_card(message_for({"mfaRegistered": 1104}))

    assert set(envelope) == {"type", "attachments"}
    [attachment] = envelope["attachments"]
    assert set(attachment) == {"contentType", "contentUrl", "content"}
    card = attachment["content"]
    assert card["$schema"] == "http://adaptivecards.io/schemas/adaptive-card.json"
    assert card["fallbackText"] == "Registered for MFA at 88.3%, below 95%"
    assert card["body"][0]["items"][0]["text"] == card["fallbackText"]
    json.dumps(envelope, allow_nan=False)  # plain JSON: nothing a webhook could choke on


def test_every_metric_row_shows_percentage_count_of_total_threshold_and_state() -> None:
    counts = {"mfaRegistered": 1104, "capable": 1152, "registered": 1180, "passkeyCapable": 7}
    message = message_for(counts)

    shown = texts(card_of(render_card(message)))

    assert message.rows == [
        Row("Registered for MFA", "88.3%", "1,104 of 1,250", "95%", "BELOW", "–"),
        Row("Capable of SSPR", "92.2%", "1,152 of 1,250", "90%", "ok", "–"),
        Row("Registered for SSPR", "94.4%", "1,180 of 1,250", "–", "no threshold", "–"),
        Row("Passkey capable", "0.6%", "7 of 1,250", "–", "no threshold", "–"),
    ]
    for row in message.rows:
        assert all(cell in shown for cell in row[:3])
    assert ["Below 95%", "Meets 90%", "None", "None"] == [
        cell for cell in shown if cell.startswith(("Below ", "Meets ", "None"))
    ]


def test_the_card_stays_small_when_hundreds_of_long_statuses_all_drop() -> None:
    names = [f"status{i:03d}" + "x" * 91 for i in range(400)]
    previous = Report("r6", 1250, {name: 1200 for name in names})
    message = message_for({name: 100 for name in names}, previous=previous, drop=1)

    envelope = render_card(message)

    assert len(message.lines) == 400
    assert card_bytes(envelope) < 20_000
    shown = texts(card_of(envelope))
    assert "…and 394 more notices" in shown
    assert message.lines[0] in shown


def test_the_card_stays_small_with_a_thousand_statuses_of_the_longest_name() -> None:
    counts = {f"s{i:04d}" + "x" * 95: i for i in range(1000)}
    counts["mfaRegistered"] = 1

    envelope = render_card(message_for(counts))

    assert card_bytes(envelope) < 20_000
    assert "…and 986 more statuses" in texts(card_of(envelope))  # 1,001 rows, 15 shown


def test_the_printed_form_holds_every_line_row_and_the_footer() -> None:
    previous = Report("r6", 1250, {"mfaRegistered": 1200, "capable": 1152})
    message = message_for(
        {"mfaRegistered": 1104, "capable": 1152, "passkeyCapable": 3}, previous=previous, drop=5
    )

    text = render_text(message)

    for line in message.lines:
        assert line.replace("**", "") in text  # plain text: the card's markdown is dropped
    for row in message.rows:
        assert all(cell in text for cell in row)
    assert text.splitlines()[-1] == message.footer
    assert "Metric" in text and "Threshold" in text
    assert "**" in "".join(message.lines) and "**" not in text


def test_a_fetch_health_message_prints_without_a_table() -> None:
    event = Event(Notice.FIRING, AlertState("fetch", firing=True, detail="HTTP 500"), started=NOW)

    text = render_text(fetch_health_message(event, NOW))

    assert text.splitlines() == [
        "🔴 Entra registration monitor: fetching the report fails",
        "Fetching has failed since 2026-11-23 06:00 UTC (less than a minute); coverage is not "
        "being checked.",
        "Last error: HTTP 500",
    ]


def test_the_only_links_on_a_card_are_the_schema_and_the_entra_admin_center() -> None:
    envelope = render_card(message_for({"mfaRegistered": 1104, "capable": 1152}))

    links = set(re.findall(r"https?://[^\s\"]+", json.dumps(envelope)))

    assert links == {"http://adaptivecards.io/schemas/adaptive-card.json", ENTRA_ACTIVITY_URL}
    assert "sig=" not in json.dumps(envelope)
    assert "Bearer" not in json.dumps(envelope)


def test_a_huge_report_id_does_not_bloat_the_card() -> None:
    snap = Snapshot(snapshot_key("t", NOW), NOW, Report("i" * 100_000, 10, {"mfaRegistered": 1}))
    current = readings(snap.report, THRESHOLDS)
    events = decide_metrics({}, current, now=NOW, repeat=DAY, drop_points=None, detail="").events

    assert len(json.dumps(render_card(coverage_message(snap, current, events)))) < 5_000


def test_the_app_location_comes_from_app_service_variables_or_is_unknown() -> None:
    environ = {
        "WEBSITE_SITE_NAME": "func-1",
        "WEBSITE_RESOURCE_GROUP": "rg-1",
        "WEBSITE_OWNER_NAME": "sub-1+rg-1-WestEuropewebspace-Linux",
    }

    assert app_location(environ) == AppLocation("sub-1", "rg-1", "func-1")
    assert app_location({**environ, "WEBSITE_OWNER_NAME": ""}) is None
    assert app_location({}) is None


def test_a_failing_fetch_card_links_to_the_function_app_and_a_recovered_one_to_nothing() -> None:
    where = AppLocation("sub-1", "rg 1", "func-1")
    failing = Event(Notice.FIRING, AlertState("fetch", firing=True, detail="x"), started=NOW)
    recovered = Event(Notice.RESOLVED, AlertState("fetch", detail="x"), started=NOW - DAY)

    in_azure = card_of(render_card(fetch_health_message(failing, NOW), where))
    elsewhere = card_of(render_card(fetch_health_message(failing, NOW)))
    works = card_of(render_card(fetch_health_message(recovered, NOW), where))

    assert [a["url"] for a in in_azure["actions"]] == [
        "https://portal.azure.com/#resource/subscriptions/sub-1/resourceGroups/rg%201/"
        "providers/Microsoft.Web/sites/func-1/overview"
    ]
    assert [a["url"] for a in elsewhere["actions"]] == [AZURE_FUNCTION_APPS_URL]
    assert "actions" not in works
