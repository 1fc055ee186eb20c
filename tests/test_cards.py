"""The Teams card: one per run, readable in a notification, always under the webhook's limit."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

from shared.alerting import AlertState, Event, Notice, decide_fetch_health, decide_metrics
from shared.cards import (
    ENTRA_ACTIVITY_URL,
    coverage_message,
    fetch_health_message,
    render_card,
    render_text,
)
from shared.coverage import readings
from shared.report import Report
from shared.snapshot import Snapshot, snapshot_key

NOW = datetime(2026, 11, 23, 6, 0, tzinfo=timezone.utc)
DAY = timedelta(hours=24)
THRESHOLDS = {"mfaRegistered": 0.95, "capable": 0.90}


def snapshot(counts: dict[str, int], total: int = 1250) -> Snapshot:
    return Snapshot(snapshot_key("tenant-1", NOW), NOW, Report("report-7", total, counts))


def message_for(counts: dict[str, int], prior: dict[str, AlertState] | None = None, **kw: Any):
    snap = snapshot(counts)
    current = readings(snap.report, THRESHOLDS, kw.pop("previous", None))
    decision = decide_metrics(
        prior or {}, current, now=NOW, repeat=DAY, drop_points=kw.get("drop"), detail=""
    )
    return coverage_message(snap, current, decision.events)


def card_of(envelope: dict[str, Any]) -> dict[str, Any]:
    [attachment] = envelope["attachments"]
    return attachment["content"]


def texts(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["text"]] if node.get("type") == "TextBlock" else []
        return own + [t for value in node.values() for t in texts(value)]
    if isinstance(node, list):
        return [t for item in node for t in texts(item)]
    return []


def test_the_envelope_is_what_a_workflows_webhook_expects() -> None:
    envelope = render_card(message_for({"mfaRegistered": 1104, "capable": 1152}))

    assert envelope["type"] == "message"
    [attachment] = envelope["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert attachment["contentUrl"] is None
    assert attachment["content"]["type"] == "AdaptiveCard"
    assert attachment["content"]["version"] == "1.4"


def test_a_breach_names_the_metric_its_percentage_count_and_threshold() -> None:
    message = message_for({"mfaRegistered": 1104, "capable": 1152})
    shown = " | ".join(texts(card_of(render_card(message))))

    assert message.title == "Registered for MFA at 88.3%, below 95%"
    assert "88.3% (1,104 of 1,250 users), below the 95% threshold" in shown
    assert message.severity == "attention"


def test_the_table_lists_every_metric_healthy_ones_too() -> None:
    message = message_for({"mfaRegistered": 1104, "capable": 1152, "registered": 1180})

    assert [row[0] for row in message.rows] == [
        "Registered for MFA",
        "Capable of SSPR (registered and enabled)",
        "Registered for SSPR",
    ]
    assert [row[3] for row in message.rows] == ["BELOW", "ok", "no threshold"]
    assert message.rows[1][1:3] == ("92.2% (1,152 of 1,250)", "90%")


def test_a_card_links_to_the_entra_admin_center() -> None:
    card = card_of(render_card(message_for({"mfaRegistered": 1})))

    assert card["actions"][0]["url"] == ENTRA_ACTIVITY_URL
    assert ENTRA_ACTIVITY_URL.startswith("https://entra.microsoft.com/")


def test_change_since_the_previous_snapshot_is_shown_in_points() -> None:
    previous = Report("r6", 1250, {"mfaRegistered": 1200, "capable": 1152})
    message = message_for({"mfaRegistered": 1104, "capable": 1152}, previous=previous, drop=5)

    assert message.rows[0][4] == "-7.7 pts"
    assert message.rows[1][4] == "+0.0 pts"
    assert any(line.startswith("DROP: ") and "fell 7.7 points" in line for line in message.lines)


def test_a_resolved_metric_is_green_and_says_for_how_long_it_fired() -> None:
    prior = {
        "mfaRegistered": AlertState(
            "mfaRegistered", firing=True, since=NOW - 3 * DAY, told_firing=True, last_told=NOW
        )
    }
    message = message_for({"mfaRegistered": 1200, "capable": 1200}, prior)

    assert message.severity == "good"
    assert message.title.startswith("Resolved: Registered for MFA back to 96%")
    assert "after firing for 3 days" in message.lines[0]


def test_the_card_stays_under_the_webhook_limit_with_hundreds_of_statuses() -> None:
    counts = {f"status{i:03d}{'x' * 90}": i for i in range(400)}
    counts["mfaRegistered"] = 1
    message = message_for(counts)

    envelope = render_card(message)

    assert len(json.dumps(envelope).encode()) < 20_000
    assert any("more statuses" in text for text in texts(card_of(envelope)))
    assert "Registered for MFA" in texts(card_of(envelope))  # the breached one is kept


def test_a_failing_fetch_card_says_since_when_and_the_error() -> None:
    decision = decide_fetch_health(None, error="GraphError: HTTP 503", now=NOW - DAY, repeat=DAY)
    state = decision.delivered(NOW - DAY)["fetch"]
    [reminder] = decide_fetch_health(state, error="HTTP 503 again", now=NOW, repeat=DAY).events

    message = fetch_health_message(reminder, NOW)

    assert message.title == "Entra registration monitor: fetching the report still fails"
    assert "failed since 2026-11-22 06:00 UTC (1 day)" in message.lines[0]
    assert message.lines[1] == "Last error: HTTP 503 again"


def test_a_huge_error_is_cut_short_on_the_card() -> None:
    event = Event(Notice.FIRING, AlertState("fetch", firing=True, detail="x" * 50_000), started=NOW)

    assert len(json.dumps(render_card(fetch_health_message(event, NOW)))) < 5_000


def test_the_printed_alert_carries_the_same_facts_as_the_card() -> None:
    message = message_for({"mfaRegistered": 1104, "capable": 1152})

    text = render_text(message)

    assert text.splitlines()[0] == "🔴 Registered for MFA at 88.3%, below 95%"
    assert "88.3% (1,104 of 1,250)" in text
    assert "Tenant tenant-1 · fetched 2026-11-23 06:00 UTC · report report-7" in text
