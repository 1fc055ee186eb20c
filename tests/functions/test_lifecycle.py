"""The alert lifecycle over many days, against Azurite and the loopback stand-ins."""

from __future__ import annotations

import json

from shared.errors import GraphError
from standins.functions_host import ROOT
from standins.graph import graph_error
from standins.loopback import Reply
from standins.reports import report
from tests.conftest import CycleHarness, fails_with


def serve(cycle: CycleHarness, mfa: int, total: int = 1000, **others: int) -> None:
    others.setdefault("capable", total)  # the default THRESHOLDS name it: keep it healthy
    cycle.graph.report_body = json.dumps(report(total, {"mfaRegistered": mfa, **others})).encode()


def titles(cycle: CycleHarness) -> list[str]:
    return [card["body"][0]["items"][0]["text"] for card in cycle.teams.cards]


def next_day(cycle: CycleHarness, mfa: int, **others: int) -> None:
    cycle.clock.advance(days=1)
    serve(cycle, mfa, **others)
    cycle.run()


def test_first_breach_posts_once_and_a_redelivery_posts_nothing(cycle: CycleHarness) -> None:
    cycle.use_webhook()
    serve(cycle, 900)
    message = cycle.run().outputs["check"]

    redelivery = cycle.host.deliver("snapshots-to-check", message)

    assert not redelivery.poisoned
    assert titles(cycle) == ["Registered for MFA at 90%, below 95%"]


def test_a_still_firing_metric_is_silent_until_the_repeat_interval_then_reminds(
    cycle: CycleHarness,
) -> None:
    cycle.use_webhook()
    cycle.configure(ALERT_REPEAT_HOURS="48")
    serve(cycle, 900)
    cycle.run()

    next_day(cycle, 905)  # 24 h later: inside the repeat interval
    assert len(cycle.teams.requests) == 1
    next_day(cycle, 910)  # 48 h after the first notice

    assert len(cycle.teams.requests) == 2
    reminder = json.dumps(cycle.teams.cards[1])
    assert "STILL FIRING" in reminder and "for 2 days" in reminder and "91%" in reminder


def test_recovery_posts_one_resolved_card_with_value_and_duration(cycle: CycleHarness) -> None:
    cycle.use_webhook()
    cycle.configure(ALERT_REPEAT_HOURS="72")
    serve(cycle, 900)
    cycle.run()
    next_day(cycle, 920)
    next_day(cycle, 960)
    next_day(cycle, 970)

    assert len(cycle.teams.requests) == 2
    resolved = cycle.teams.cards[1]
    assert resolved["body"][0]["style"] == "good"
    text = json.dumps(resolved)
    assert "RESOLVED" in text and "96%" in text and "after firing for 2 days" in text


def test_a_failed_post_is_not_recorded_as_sent_and_the_next_run_posts_it(
    cycle: CycleHarness,
) -> None:
    cycle.use_webhook()
    cycle.teams.script.then(*[Reply(500)] * 20)  # Teams down for the whole first day
    serve(cycle, 900)

    first = cycle.run()

    (delivery,) = first.deliveries
    assert delivery.poisoned and delivery.attempts == cycle.host.max_dequeue_count
    assert all("Teams webhook" in str(e) for e in delivery.errors)
    assert cycle.teams.script.pending == 0  # every attempt reached Teams
    cycle.teams.requests.clear()

    next_day(cycle, 900)

    assert len(cycle.teams.requests) == 1
    assert "FIRING: **Registered for MFA**" in json.dumps(cycle.teams.cards[0])


def test_a_six_point_fall_posts_a_drop_alert_while_still_above_threshold(
    cycle: CycleHarness,
) -> None:
    cycle.use_webhook()
    cycle.configure(DROP_ALERT_POINTS="5", THRESHOLDS="mfaRegistered=80%")
    serve(cycle, 980)
    cycle.run()
    assert cycle.teams.requests == []

    next_day(cycle, 920)

    (card,) = cycle.teams.cards
    assert card["body"][0]["style"] == "warning"
    assert "fell 6.0 points" in card["body"][0]["items"][0]["text"]
    assert "-6.0 pts" in json.dumps(card)


def test_a_fall_smaller_than_the_drop_setting_posts_nothing(cycle: CycleHarness) -> None:
    cycle.use_webhook()
    cycle.configure(DROP_ALERT_POINTS="5", THRESHOLDS="mfaRegistered=80%")
    serve(cycle, 980)
    cycle.run()

    next_day(cycle, 940)

    assert cycle.teams.requests == []


def test_a_failing_fetch_is_reported_once_and_its_recovery_once(cycle: CycleHarness) -> None:
    cycle.use_webhook()
    cycle.configure(THRESHOLDS="mfaRegistered=50%")
    forbidden = graph_error(403, "Authorization_RequestDenied", "Insufficient privileges.")
    cycle.graph.script.then(*[forbidden] * 9)  # three runs of three attempts (function.json)
    serve(cycle, 900)

    for _ in range(3):  # three failing runs, an hour apart: one notice
        try:
            cycle.run()
        except Exception as exc:  # the host records the failure
            assert "Authorization_RequestDenied" in str(exc)
        else:
            raise AssertionError("a 403 must fail the run")
        cycle.clock.advance(hours=1)
    assert titles(cycle) == ["Entra registration monitor: fetching the report fails"]
    failing = json.dumps(cycle.teams.cards[0])
    # Announced by the first run's last try (the host retries twice, 5 minutes apart).
    assert "Authorization_RequestDenied" in failing and "since 2026-11-02 06:10 UTC" in failing

    cycle.run()
    cycle.clock.advance(hours=1)
    cycle.run()

    assert titles(cycle)[1:] == ["Entra registration monitor: fetching the report works again"]
    # Each failing run's two host retries, 5 minutes apart, add 10 minutes.
    assert "failing since 2026-11-02 06:10 UTC (3 hours 20 minutes)" in json.dumps(
        cycle.teams.cards[1]
    )


def test_a_fetch_failing_for_longer_than_the_repeat_interval_is_reported_again(
    cycle: CycleHarness,
) -> None:
    cycle.use_webhook()
    cycle.configure(ALERT_REPEAT_HOURS="24")
    cycle.graph.script.then(*[graph_error(403, "Authorization_RequestDenied", "nope")] * 9)

    for _ in range(3):
        try:
            cycle.run()
        except Exception as exc:
            assert "Authorization_RequestDenied" in str(exc)
        cycle.clock.advance(hours=12)

    assert titles(cycle) == [
        "Entra registration monitor: fetching the report fails",
        "Entra registration monitor: fetching the report still fails",
    ]


def test_the_alert_state_survives_a_new_app_instance(cycle: CycleHarness) -> None:
    # A cold start builds everything anew: state lives in Table Storage, not in memory.
    cycle.use_webhook()
    serve(cycle, 900)
    cycle.run()

    cycle.configure(ALERT_REPEAT_HOURS="48")  # a fresh App, as after a restart
    next_day(cycle, 900)

    assert len(cycle.teams.requests) == 1


def test_one_card_per_run_lists_every_metric_with_state_and_change(cycle: CycleHarness) -> None:
    cycle.use_webhook()
    cycle.configure(THRESHOLDS="mfaRegistered=95%,capable=90%", DROP_ALERT_POINTS="5")
    serve(cycle, 990, capable=950, registered=960)
    cycle.run()

    next_day(cycle, 900, capable=850, registered=961)

    (card,) = cycle.teams.cards
    rows = [
        [" / ".join(block["text"] for block in col["items"]) for col in item["columns"]]
        for item in card["body"]
        if item["type"] == "ColumnSet"
    ]
    assert rows[0] == ["Metric", "Coverage", "Threshold"]
    assert rows[1:] == [
        ["Registered for MFA / Change -9.0 pts", "90% / 900 of 1,000", "Below 95%"],
        ["Capable of SSPR / Change -10.0 pts", "85% / 850 of 1,000", "Below 90%"],
        ["Registered for SSPR / Change +0.1 pts", "96.1% / 961 of 1,000", "None"],
    ]
    assert card["body"][0]["style"] == "attention"
    assert card["actions"][0]["url"].startswith("https://entra.microsoft.com/")


def test_readme_documents_the_lifecycle_settings() -> None:
    readme = (ROOT / "README.md").read_text()
    for setting in ("ALERT_REPEAT_HOURS", "DROP_ALERT_POINTS"):
        assert setting in readme


def test_a_failing_fetch_card_in_azure_links_to_the_function_app(cycle: CycleHarness) -> None:
    # What App Service sets on every function app; the composition root turns it into a link.
    cycle.monkeypatch.setenv("WEBSITE_SITE_NAME", "entra-coverage-func")
    cycle.monkeypatch.setenv("WEBSITE_RESOURCE_GROUP", "rg-entra-coverage")
    cycle.monkeypatch.setenv("WEBSITE_OWNER_NAME", "0000-sub+rg-entra-coverage-WestEuropewebspace")
    cycle.use_webhook()
    denied = graph_error(403, "Authorization_RequestDenied", "Insufficient.")
    cycle.graph.script.then(denied, denied, denied)  # the first try and both host retries

    with fails_with(GraphError, match="Authorization_RequestDenied"):
        cycle.run()

    (card,) = cycle.teams.cards
    assert [action["url"] for action in card["actions"]] == [
        "https://portal.azure.com/#resource/subscriptions/0000-sub/resourceGroups/"
        "rg-entra-coverage/providers/Microsoft.Web/sites/entra-coverage-func/overview"
    ]
