"""The Teams card: one per run, readable in a notification, always under the webhook's limit."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from typing import Any

from shared.bootstrap import app_location
from shared.core.alerting import AlertState, Event, Notice, decide_fetch_health, decide_metrics
from shared.core.coverage import parse_thresholds, readings
from shared.core.report import Report
from shared.core.snapshot import Snapshot, snapshot_key
from shared.messages.cards import (
    AZURE_FUNCTION_APPS_URL,
    ENTRA_ACTIVITY_URL,
    MAX_ERROR_CHARS,
    AppLocation,
    Row,
    coverage_message,
    fetch_health_message,
    render_card,
    render_text,
    shorten,
)

NOW = datetime(2026, 11, 23, 6, 0, tzinfo=timezone.utc)
DAY = timedelta(hours=24)
THRESHOLDS = parse_thresholds("mfaRegistered=95%,capable=90%")


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
        "Capable of SSPR",
        "Registered for SSPR",
    ]
    assert [row.state for row in message.rows] == ["BELOW", "ok", "no threshold"]
    assert message.rows[1][1:4] == ("92.2%", "1,152 of 1,250", "90%")


def test_a_card_links_to_the_entra_admin_center() -> None:
    card = card_of(render_card(message_for({"mfaRegistered": 1})))

    assert card["actions"][0]["url"] == ENTRA_ACTIVITY_URL
    assert ENTRA_ACTIVITY_URL.startswith("https://entra.microsoft.com/")


def test_change_since_the_previous_snapshot_is_shown_in_points() -> None:
    previous = Report("r6", 1250, {"mfaRegistered": 1200, "capable": 1152})
    message = message_for({"mfaRegistered": 1104, "capable": 1152}, previous=previous, drop=5)

    assert message.rows[0].change == "-7.7 pts"
    assert message.rows[1].change == "+0.0 pts"
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


def card_bytes(envelope: dict[str, Any]) -> int:
    return len(json.dumps(envelope).encode())


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


def test_a_tenant_of_zero_users_is_shown_as_undefined_not_as_zero_percent() -> None:
    snap = snapshot({"mfaRegistered": 0}, total=0)
    current = readings(snap.report, THRESHOLDS)
    events = [Event(Notice.FIRING, AlertState("fetch"), current[0], started=NOW)]

    message = coverage_message(snap, current, events)

    assert message.rows == [
        Row("Registered for MFA", "undefined", "0 of 0", "95%", "undefined", "–")
    ]
    assert "undefined (0 of 0)" in render_text(message)


def test_a_reminder_says_how_long_the_metric_has_been_below() -> None:
    since = NOW - 2 * DAY - timedelta(hours=3)
    prior = {
        "mfaRegistered": AlertState(
            "mfaRegistered", firing=True, since=since, told_firing=True, last_told=NOW - DAY
        )
    }

    message = message_for({"mfaRegistered": 1104, "capable": 1200}, prior)

    assert message.lines == [
        "STILL FIRING: **Registered for MFA** is 88.3% (1,104 of 1,250 users), "
        "below the 95% threshold for 2 days 3 hours."
    ]
    assert message.severity == "attention"


def test_several_notices_are_one_card_titled_after_the_first() -> None:
    message = message_for({"mfaRegistered": 1104, "capable": 1000})

    assert message.title == "Registered for MFA at 88.3%, below 95% (+1 more)"
    assert [line.split(":")[0] for line in message.lines] == ["FIRING", "FIRING"]


def test_a_drop_without_a_breach_is_a_warning_titled_as_a_sharp_drop() -> None:
    previous = Report("r6", 1250, {"mfaRegistered": 1250, "capable": 1200})

    message = message_for({"mfaRegistered": 1200, "capable": 1200}, previous=previous, drop=3)

    assert message.severity == "warning"
    assert message.title == "Sharp drop: Registered for MFA fell 4.0 points to 96%"


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


def test_a_card_that_works_again_quotes_the_last_error_and_how_long_it_failed() -> None:
    failing = decide_fetch_health(None, error="GraphError: HTTP 503", now=NOW - DAY, repeat=DAY)
    state = failing.delivered(NOW - DAY)["fetch"]
    [resolved] = decide_fetch_health(state, error=None, now=NOW, repeat=DAY).events

    message = fetch_health_message(resolved, NOW)

    assert message.severity == "good"
    assert message.lines == [
        "Fetching works again as of 2026-11-23 06:00 UTC, after failing since "
        "2026-11-22 06:00 UTC (1 day).",
        "The last error was: GraphError: HTTP 503",
    ]


def test_a_first_fetch_failure_card_is_red_and_says_coverage_is_not_checked() -> None:
    [firing] = decide_fetch_health(
        None, error="CredentialError: no token", now=NOW, repeat=DAY
    ).events

    message = fetch_health_message(firing, NOW + timedelta(minutes=20))

    assert (message.title, message.severity) == (
        "Entra registration monitor: fetching the report fails",
        "attention",
    )
    assert message.lines == [
        "Fetching has failed since 2026-11-23 06:00 UTC (20 minutes); coverage is not being "
        "checked.",
        "Last error: CredentialError: no token",
    ]


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


def test_a_secret_in_a_fetch_error_never_reaches_the_card() -> None:
    error = "HTTP 401 for request with Authorization: Bearer eyJhbGciOi.eyJ0aWQiOi.c2lnbmF0dXJl"
    event = Event(Notice.FIRING, AlertState("fetch", firing=True, detail=error), started=NOW)

    card = json.dumps(render_card(fetch_health_message(event, NOW)))

    assert "c2lnbmF0dXJl" not in card and "[redacted]" in card


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


def test_a_long_error_is_cut_at_a_word_with_an_ellipsis() -> None:
    error = "GraphError: " + "word " * 400
    event = Event(Notice.FIRING, AlertState("fetch", firing=True, detail=error), started=NOW)

    last = fetch_health_message(event, NOW).lines[-1]

    assert last.endswith(" word…")
    assert len(last) <= len("Last error: ") + MAX_ERROR_CHARS


def test_shorten_keeps_short_texts_and_cuts_unbroken_ones_hard() -> None:
    assert shorten("short", 10) == "short"
    assert shorten("one two three four", 12) == "one two…"
    assert shorten("x" * 30, 10) == "x" * 9 + "…"


def test_an_unknown_status_is_named_in_words_once_and_a_drop_reads_from_to() -> None:
    previous = Report("r6", 1000, {"mfaRegistered": 990, "passkeyCapable": 980})
    snap = Snapshot(
        snapshot_key("t", NOW),
        NOW,
        Report("r7", 1000, {"mfaRegistered": 990, "passkeyCapable": 920}),
    )
    current = readings(snap.report, THRESHOLDS, previous)
    events = decide_metrics({}, current, now=NOW, repeat=DAY, drop_points=5, detail="").events

    message = coverage_message(snap, current, events)

    assert message.lines == [
        "DROP: **Passkey capable** fell 6.0 points since the previous snapshot, "
        "from 98% to 92% (920 of 1,000 users)."
    ]
    assert [row.metric for row in message.rows] == ["Registered for MFA", "Passkey capable"]
    assert "passkeyCapable" not in json.dumps(render_card(message))


def test_the_table_leads_with_breached_then_watched_metrics_even_among_hundreds() -> None:
    previous = Report("r6", 1250, {f"status{i:03d}": 1200 for i in range(400)})
    counts = {f"status{i:03d}": 1000 for i in range(400)}
    counts.update(mfaRegistered=1250, capable=1000)
    snap = snapshot(counts)
    current = readings(snap.report, THRESHOLDS, previous)
    events = decide_metrics({}, current, now=NOW, repeat=DAY, drop_points=5, detail="").events

    rows = coverage_message(snap, current, events).rows

    assert [row.metric for row in rows[:4]] == [
        "Capable of SSPR",  # below its threshold
        "Registered for MFA",  # has a threshold
        "Status000",  # dropped: has a notice
        "Status001",
    ]
