"""What each message says: coverage, fetch health (pure builders; the card shows it)."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from shared.core.alerting import AlertState, Event, Notice, decide_fetch_health, decide_metrics
from shared.core.coverage import readings
from shared.core.report import Report
from shared.core.snapshot import Snapshot, snapshot_key
from shared.messages.adaptive_card import render_card
from shared.messages.coverage import coverage_message
from shared.messages.health import MAX_ERROR_CHARS, fetch_health_message
from shared.messages.model import Row
from shared.messages.text import render_text
from shared.messages.wording import shorten
from tests.message_examples import (
    DAY,
    NOW,
    THRESHOLDS,
    card_of,
    message_for,
    snapshot,
    texts,
)

ROOT = Path(__file__).resolve().parents[2]


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


def test_the_messages_import_no_io_settings_or_secrets() -> None:
    """Builders and renderers are pure: a fresh interpreter that imports them all has loaded
    no HTTP or Azure library, and neither the settings nor the secret registry."""
    modules = ("model", "wording", "coverage", "health", "digest", "adaptive_card", "text")
    code = (
        "import sys\n"
        + "".join(f"import shared.messages.{name}\n" for name in modules)
        + "print('\\n'.join(sorted(sys.modules)))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout.split()

    forbidden = ("httpx", "azure", "shared.redaction", "shared.settings", "shared.bootstrap")
    assert not [m for m in loaded if m.startswith(forbidden)]
    assert "shared.messages.coverage" in loaded
