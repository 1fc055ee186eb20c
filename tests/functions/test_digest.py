"""Trends in the cards and the weekly digest, through the functions as the host drives them."""

from __future__ import annotations

import json
import logging
from datetime import datetime

import pytest

from shared.errors import NotificationError
from shared.usecases.digest import send_digest
from standins.functions_host import FunctionLoadError
from standins.loopback import Reply
from standins.reports import report
from tests.conftest import CycleHarness, fails_with


def serve(cycle: CycleHarness, mfa: int, total: int = 1000) -> None:
    body = report(total, {"mfaRegistered": mfa, "capable": total})
    cycle.graph.report_body = json.dumps(body).encode()


def days(cycle: CycleHarness, mfa: list[int]) -> None:
    """One scheduled cycle a day, serving each count in turn (the clock moves a day before
    every run but the first)."""
    for i, count in enumerate(mfa):
        if i:
            cycle.clock.advance(days=1)
        serve(cycle, count)
        cycle.run()


def timer_json(occurrence: datetime) -> str:
    """What the host sends WeeklyDigest for the occurrence due at `occurrence`."""
    status = {"Last": "0001-01-01T00:00:00", "Next": occurrence.isoformat(), "LastUpdated": ""}
    return json.dumps({"Schedule": {"AdjustForDST": True}, "ScheduleStatus": status})


def trend_lines(card: dict) -> list[list[str]]:
    """Each trend row's texts (its sparkline, then its changes), top to bottom."""
    return [
        [column["items"][0]["text"] for column in block["items"][0]["columns"]]
        for block in card["body"]
        if block["type"] == "Container" and block["items"][0]["type"] == "ColumnSet"
    ]


def text(card: dict) -> str:
    return json.dumps(card, ensure_ascii=False)


def test_a_coverage_card_shows_the_7_and_30_day_change_and_a_sparkline(
    cycle: CycleHarness,
) -> None:
    cycle.use_webhook()
    # Nine days at 97%, a little lower each day from the fifth, then below 95%.
    days(cycle, [970, 970, 970, 970, 968, 966, 964, 962, 940])

    [card] = cycle.teams.cards  # the firing card, after nine snapshots
    mfa_trend = trend_lines(card)[0]  # the firing metric leads the table
    assert mfa_trend == ["█████▇▇▆▁", "7 days -3.0 pts · 30 days –"]  # 970 a week ago, 940 now


def test_the_first_card_of_a_new_tenant_has_no_trend_line(cycle: CycleHarness) -> None:
    cycle.use_webhook()
    days(cycle, [900])

    assert "7 days" not in text(cycle.teams.cards[0])


def test_the_digest_posts_once_per_occurrence_even_when_nothing_changed(
    cycle: CycleHarness,
) -> None:
    cycle.use_webhook()
    days(cycle, [970] * 8)
    assert cycle.teams.cards == []  # nothing fired all week
    cycle.clock.advance(hours=2)
    occurrence = cycle.clock.now

    cycle.host.run_timer("WeeklyDigest")
    cycle.host.invoke("WeeklyDigest", timer_json(occurrence))  # a second instance, same occurrence

    [digest] = cycle.teams.cards
    body = text(digest)
    assert (
        digest["body"][0]["items"][0]["text"] == "Weekly digest: every metric meets its threshold"
    )
    assert "Nothing fired or resolved this week." in body
    assert "Last successful fetch: Mon 09 Nov 06:00 UTC (2 hours ago)." in body
    assert "Registered for MFA" in body and "Meets 95%" in body
    assert "7 days +0.0 pts" in body and "▅▅▅▅▅▅▅▅" in body

    cycle.clock.advance(days=7)  # next week's occurrence posts again
    cycle.host.run_timer("WeeklyDigest")
    assert len(cycle.teams.cards) == 2


def test_the_digest_says_what_fired_and_resolved_during_the_week(cycle: CycleHarness) -> None:
    cycle.use_webhook()
    days(cycle, [970, 940, 930, 960, 970, 920, 925])  # fired, resolved, fired again
    cycle.clock.advance(hours=2)

    cycle.host.run_timer("WeeklyDigest")

    digest = cycle.teams.cards[-1]
    body = text(digest)
    assert digest["body"][0]["style"] == "attention"
    assert digest["body"][0]["items"][0]["text"] == "Weekly digest: 1 metric below its threshold"
    assert "FIRED: **Registered for MFA** is below its threshold since Sat 07 Nov" in body
    assert "7 days" in body


def test_a_digest_whose_post_fails_is_posted_by_the_host_s_retry(cycle: CycleHarness) -> None:
    cycle.use_webhook()
    days(cycle, [970, 970])
    cycle.teams.script.then(*[Reply(503)] * 4)  # the whole first try: every attempt fails

    occurrence = cycle.clock.now

    outcome = cycle.host.run_timer("WeeklyDigest")
    cycle.host.invoke("WeeklyDigest", timer_json(occurrence))  # and another instance: nothing

    assert outcome.attempts == 2  # the first try failed, the host's retry posted
    assert cycle.teams.script.pending == 0
    assert len(cycle.teams.requests) == 5  # 4 refused posts, then the one that arrived
    assert cycle.teams.cards[-1]["body"][0]["items"][0]["text"].startswith("Weekly digest")


def test_with_digest_schedule_empty_nothing_is_posted_and_the_cycle_still_runs(
    cycle: CycleHarness, caplog: pytest.LogCaptureFixture
) -> None:
    app = cycle.configure(DIGEST_SCHEDULE="", TEAMS_WEBHOOK_URL=cycle.teams.webhook_url)
    serve(cycle, 900)

    cycle.run()  # fetch and check work; the firing card is posted
    with pytest.raises(FunctionLoadError, match="DIGEST_SCHEDULE"):
        cycle.host.run_timer("WeeklyDigest")  # the host has no schedule to run it on
    with caplog.at_level(logging.INFO):
        posted = send_digest(app, None)  # however it is started, it posts nothing

    assert posted is False
    assert len(cycle.teams.cards) == 1
    assert "DIGEST_SCHEDULE is empty: the weekly digest is turned off" in caplog.text


def test_a_digest_with_no_snapshot_says_the_monitor_is_not_fetching(cycle: CycleHarness) -> None:
    cycle.use_webhook()

    cycle.host.run_timer("WeeklyDigest")

    [digest] = cycle.teams.cards
    assert digest["body"][0]["items"][0]["text"] == (
        "Weekly digest: the monitor is not fetching the report"
    )
    assert "No report was fetched in the last 30 days" in text(digest)


def test_a_failing_digest_raises_a_notification_error_after_the_last_retry(
    cycle: CycleHarness,
) -> None:
    cycle.use_webhook()
    cycle.teams.script.then(*[Reply(503)] * 40)

    with fails_with(NotificationError):
        cycle.host.run_timer("WeeklyDigest")
    assert cycle.clock.sleeps.count(300.0) == 2  # the host's two retries, 5 minutes apart


def test_the_history_read_stops_at_30_days_and_the_change_still_uses_the_previous_snapshot(
    cycle: CycleHarness,
) -> None:
    cycle.use_webhook()
    days(cycle, [990])
    cycle.clock.advance(days=31)  # the only older snapshot is beyond the 30 days read
    serve(cycle, 900)
    cycle.run()

    [card] = cycle.teams.cards
    assert trend_lines(card) == []  # nothing within 30 days to draw
    assert "Change -9.0 pts" in text(card)  # found by the previous-snapshot query instead


def test_with_card_version_1_5_the_card_after_several_days_carries_a_chart(
    cycle: CycleHarness,
) -> None:
    cycle.configure(CARD_VERSION="1.5", TEAMS_WEBHOOK_URL=cycle.teams.webhook_url)
    days(cycle, [970, 968, 940])

    [card] = cycle.teams.cards
    [chart] = [e for e in card["body"] if e["type"] == "Chart.Line"]
    assert card["version"] == "1.5"
    assert [s["legend"] for s in chart["data"]] == ["Registered for MFA", "Capable of SSPR"]
    assert [v["y"] for v in chart["data"][0]["values"]] == [97.0, 96.8, 94.0]


def test_by_default_cards_stay_1_4_without_a_chart(cycle: CycleHarness) -> None:
    cycle.use_webhook()
    days(cycle, [970, 968, 940])

    [card] = cycle.teams.cards
    assert card["version"] == "1.4" and "Chart.Line" not in text(card)
