"""Issue #8 through the functions, as the host runs them: every way the monitor could go quiet
while coverage is bad, each now loud (a card, an ERROR, or a failure the host records).

Each test names the numbered case of the issue it guards. The pure parts are unit-tested in
tests/unit/test_never_silent_core.py.
"""

from __future__ import annotations

import json
import os
import threading

import pytest

from shared.bootstrap import App, use_app
from shared.core.alerting import AlertState
from shared.errors import (
    CheckInProgressError,
    ConfigurationError,
    GraphError,
    StateConflictError,
)
from shared.settings import Settings
from shared.stores.records import Record
from shared.usecases.checking import check_snapshot
from shared.usecases.fetching import fetch_and_store
from standins.graph import graph_error
from standins.loopback import LoopbackServer, Reply, Request
from standins.reports import EARLIER_API_EXAMPLE, report
from tests.conftest import CycleHarness, fails_with


def serve(cycle: CycleHarness, total: int = 1000, **counts: int) -> None:
    cycle.graph.report_body = json.dumps(report(total, counts)).encode()


def titles(cycle: CycleHarness) -> list[str]:
    return [card["body"][0]["items"][0]["text"] for card in cycle.teams.cards]


def states(cycle: CycleHarness) -> dict[str, dict]:
    return {e["RowKey"]: e for e in cycle.table("ALERT_TABLE") if e["PartitionKey"] != "monitor"}


def from_environment(cycle: CycleHarness, **settings: str) -> None:
    """Set app settings and let the entry points build the App from os.environ, as in Azure."""
    for name, value in settings.items():
        cycle.monkeypatch.setenv(name, value)
    use_app(None)


# 1. A second fetch within the same hour is stored and checked


def test_a_second_fetch_within_the_hour_is_a_snapshot_of_its_own_and_is_checked(
    cycle: CycleHarness,
) -> None:
    cycle.use_webhook()
    serve(cycle, mfaRegistered=990, capable=1000)
    cycle.run()
    assert cycle.teams.requests == []

    cycle.configure(TEAMS_WEBHOOK_URL=cycle.teams.webhook_url, THRESHOLDS="mfaRegistered=100%")
    cycle.clock.advance(minutes=5)  # the README's "run FetchReport again", in the same hour
    cycle.run()

    assert len(cycle.snapshots()) == 2
    assert titles(cycle) == ["Registered for MFA at 99%, below 100%"]


def test_an_older_snapshot_checked_after_a_newer_one_moves_nothing_backwards(
    cycle: CycleHarness,
) -> None:
    cycle.use_webhook()
    serve(cycle, mfaRegistered=900, capable=1000)
    older = cycle.run().outputs["check"]
    cycle.clock.advance(days=1)
    serve(cycle, mfaRegistered=990, capable=1000)
    cycle.run()

    late = cycle.host.deliver("snapshots-to-check", older)  # e.g. a redelivered message

    assert not late.poisoned
    assert len(cycle.teams.requests) == 2  # firing, then resolved; nothing for the late one
    assert states(cycle)["mfaRegistered"]["Firing"] is False


# 2. Microsoft's own documented report is stored, counts above the total and all


def test_the_published_example_is_stored_and_checked_with_a_count_above_the_total(
    cycle: CycleHarness,
) -> None:
    cycle.use_webhook()
    cycle.graph.report_body = EARLIER_API_EXAMPLE  # four statuses, one above the total

    cycle.run()

    (entity,) = cycle.snapshots()
    assert (entity["TotalUserCount"].value, entity["Count_registered"].value) == (23123, 23423)
    (card,) = cycle.teams.cards
    text = json.dumps(card, ensure_ascii=False)
    assert "101.3%" in text and "23,423 of 23,123" in text  # shown as it is, not capped
    assert "Registered for MFA at 0.1%, below 95%" in titles(cycle)[0]


# 3. THRESHOLDS that cannot be mistyped into silence


def test_a_mistyped_status_in_thresholds_fails_the_run_with_a_suggestion(
    cycle: CycleHarness,
) -> None:
    from_environment(cycle, THRESHOLDS="mfaRegistred=95%")

    with fails_with(ConfigurationError, match="did you mean 'mfaRegistered'"):
        cycle.run_once()

    assert cycle.graph.requests == []


def test_thresholds_in_the_wrong_case_still_check_the_status(cycle: CycleHarness) -> None:
    cycle.configure(TEAMS_WEBHOOK_URL=cycle.teams.webhook_url, THRESHOLDS="MFAREGISTERED=95%")
    serve(cycle, mfaRegistered=900)

    cycle.run()

    assert titles(cycle) == ["Registered for MFA at 90%, below 95%"]


def test_a_thresholded_status_missing_from_the_report_is_said_in_teams_then_reminded(
    cycle: CycleHarness,
) -> None:
    cycle.use_webhook()
    serve(cycle, mfaRegistered=990)  # no "capable", which the default THRESHOLDS name
    cycle.run()
    cycle.clock.advance(hours=12)
    cycle.run()
    cycle.clock.advance(hours=12)
    cycle.run()
    cycle.clock.advance(days=1)
    serve(cycle, mfaRegistered=990, capable=950)
    cycle.run()

    assert titles(cycle) == [
        "Not checked: the report carries no capable, which THRESHOLDS names",
        "Not checked: the report carries no capable, which THRESHOLDS names",
        "Resolved: every status in THRESHOLDS is checked again",
    ]
    assert "STILL NOT CHECKED" in json.dumps(cycle.teams.cards[1])


# 4. Nothing disappears while firing


def test_a_firing_metric_removed_from_thresholds_gets_one_closing_card_and_starts_afresh(
    cycle: CycleHarness,
) -> None:
    cycle.use_webhook()
    serve(cycle, mfaRegistered=900, capable=950)
    cycle.run()

    cycle.configure(TEAMS_WEBHOOK_URL=cycle.teams.webhook_url, THRESHOLDS="capable=90%")
    cycle.clock.advance(days=1)
    cycle.run()
    cycle.clock.advance(days=1)
    cycle.run()
    assert "mfaRegistered" not in states(cycle)

    cycle.configure(TEAMS_WEBHOOK_URL=cycle.teams.webhook_url, THRESHOLDS=None)  # the defaults
    cycle.clock.advance(days=30)
    cycle.run()

    assert titles(cycle)[0] == "Registered for MFA at 90%, below 95%"
    assert titles(cycle)[1].startswith("No longer checked: Registered for MFA")
    assert "THRESHOLDS no longer names this status" in json.dumps(cycle.teams.cards[1])
    assert titles(cycle)[2:] == ["Registered for MFA at 90%, below 95%"]  # new, not "resolved"
    assert "FIRING:" in json.dumps(cycle.teams.cards[2])


def test_a_firing_status_that_graph_stops_sending_gets_a_closing_card(cycle: CycleHarness) -> None:
    cycle.use_webhook()
    serve(cycle, mfaRegistered=900, capable=950)
    cycle.run()
    cycle.clock.advance(days=1)
    serve(cycle, capable=950)

    cycle.run()

    text = json.dumps(cycle.teams.cards[1])
    assert "the report no longer carries this status" in text
    assert "NOT CHECKED: THRESHOLDS names mfaRegistered" in text  # and the config problem


# 5. Concurrent checks lose nothing and never move state backwards


def test_a_check_that_runs_while_another_posts_waits_and_the_newest_verdict_stands(
    cycle: CycleHarness,
) -> None:
    serve(cycle, mfaRegistered=900, capable=950)
    older = fetch_and_store(cycle.configure()).check or ""
    cycle.clock.advance(minutes=1)
    serve(cycle, mfaRegistered=990, capable=950)
    newer = fetch_and_store(cycle.configure()).check or ""
    waited: list[Exception] = []

    def check_newer() -> None:
        # Another instance: its own App and clients, the same tables.
        other = App(Settings.from_env(os.environ), clock=cycle.clock, sleep=cycle.clock.sleep)
        try:
            check_snapshot(other, newer)
        finally:
            other.close()

    def answer(request: Request) -> Reply:
        if not waited:  # while the older snapshot's card is being posted
            with pytest.raises(CheckInProgressError) as failure:
                check_newer()
            waited.append(failure.value)
        return Reply(202)

    with LoopbackServer(answer) as webhook:
        app = cycle.configure(TEAMS_WEBHOOK_URL=f"{webhook.url}/hook?sig=race")
        check_snapshot(app, older)
        check_newer()  # the queue's redelivery, once the older check is done

    assert waited and "is posting its card" in str(waited[0])
    assert [
        r.json()["attachments"][0]["content"]["body"][0]["items"][0]["text"]
        for r in webhook.requests
    ] == [
        "Registered for MFA at 90%, below 95%",
        "Resolved: Registered for MFA back to 99% (threshold 95%)",
    ]
    marker = next(e for e in cycle.table("ALERT_TABLE") if e["RowKey"] == "_checked")
    assert marker["SnapshotRowKey"] == json.loads(newer)["rowKey"]
    assert states(cycle)["mfaRegistered"]["Firing"] is False  # the newer snapshot's verdict


def test_a_check_that_decided_on_stale_states_posts_nothing_and_leaves_the_newer_verdict(
    cycle: CycleHarness,
) -> None:
    cycle.use_webhook()
    serve(cycle, mfaRegistered=900, capable=950)
    cycle.run()  # firing, told
    cycle.clock.advance(minutes=1)
    serve(cycle, mfaRegistered=990, capable=950)
    older = fetch_and_store(cycle.configure(TEAMS_WEBHOOK_URL=cycle.teams.webhook_url)).check
    cycle.clock.advance(minutes=1)
    serve(cycle, mfaRegistered=900, capable=950)
    newer = fetch_and_store(cycle.configure(TEAMS_WEBHOOK_URL=cycle.teams.webhook_url)).check
    other_ran = threading.Event()

    def after_response(pipeline_response: object) -> None:
        # Right after the older check read the alert states, the newer one runs to its end.
        request = pipeline_response.http_request  # type: ignore[attr-defined]
        alert_table = os.environ["ALERT_TABLE"]
        if request.method == "GET" and alert_table in request.url and not other_ran.is_set():
            other_ran.set()
            other = App(Settings.from_env(os.environ), clock=cycle.clock, sleep=cycle.clock.sleep)
            try:
                check_snapshot(other, newer or "")
            finally:
                other.close()

    stale = App(
        Settings.from_env(os.environ),
        clock=cycle.clock,
        sleep=cycle.clock.sleep,
        storage_options={"retry_total": 1, "raw_response_hook": after_response},
    )
    try:
        check_snapshot(stale, older or "")
    finally:
        stale.close()

    assert other_ran.is_set()
    # No stale "resolved" after the first card: the metric fires and Teams last said so.
    assert titles(cycle) == ["Registered for MFA at 90%, below 95%"]
    assert states(cycle)["mfaRegistered"]["Firing"] is True


# 6. Exact comparisons


def test_a_metric_exactly_at_its_threshold_is_ok_and_just_below_it_fires(
    cycle: CycleHarness,
) -> None:
    cycle.configure(TEAMS_WEBHOOK_URL=cycle.teams.webhook_url, THRESHOLDS="mfaRegistered=56.7%")
    serve(cycle, mfaRegistered=567)
    cycle.run()
    assert cycle.teams.requests == []

    cycle.clock.advance(days=1)
    serve(cycle, mfaRegistered=566)
    cycle.run()

    assert titles(cycle) == ["Registered for MFA at 56.6%, below 56.7%"]


# 7. A failure that the host's retry heals posts nothing


NON_PREMIUM = graph_error(
    403, "Authentication_RequestFromNonPremiumTenantOrB2CTenant", "Tenant not premium"
)


def test_a_transient_fetch_failure_healed_by_the_host_retry_posts_nothing(
    cycle: CycleHarness,
) -> None:
    cycle.use_webhook()
    serve(cycle, mfaRegistered=990, capable=950)
    cycle.graph.script.then(NON_PREMIUM)

    cycle.run()

    assert len(cycle.graph.report_requests) == 2  # the first try, and the host's retry
    assert cycle.teams.requests == []
    assert len(cycle.snapshots()) == 1


def test_a_fetch_failure_is_announced_once_after_the_host_s_last_retry(
    cycle: CycleHarness,
) -> None:
    cycle.use_webhook()
    cycle.graph.script.then(NON_PREMIUM, NON_PREMIUM, NON_PREMIUM)

    with fails_with(GraphError, match="Authentication_RequestFromNonPremiumTenantOrB2CTenant"):
        cycle.run()

    assert len(cycle.graph.report_requests) == 3
    assert titles(cycle) == ["Entra registration monitor: fetching the report fails"]


# 8. A dead webhook is named as such


@pytest.mark.parametrize("status", [403, 404, 410])
def test_a_deleted_or_disabled_flow_is_logged_at_error_as_exactly_that(
    cycle: CycleHarness, caplog: pytest.LogCaptureFixture, status: int
) -> None:
    cycle.use_webhook()
    cycle.teams.script.then(*[Reply(status, "")] * 10)
    serve(cycle, mfaRegistered=900, capable=950)

    result = cycle.run()

    assert [d.poisoned for d in result.deliveries] == [True]
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert any(f"gone or turned off (HTTP {status})" in e for e in errors)
    assert not any("sig=" in e and "[redacted]" not in e for e in errors)


# 9. An unresolved Key Vault reference says so


def test_an_unresolved_key_vault_reference_is_reported_as_such(cycle: CycleHarness) -> None:
    reference = (
        "@Microsoft.KeyVault(SecretUri=https://kv.vault.azure.net/secrets/teams-webhook-url)"
    )
    from_environment(cycle, TEAMS_WEBHOOK_URL=reference)

    with fails_with(ConfigurationError, match="Key Vault reference") as failure:
        cycle.run_once()

    assert "Key Vault Secrets User" in failure.value.message
    assert "TEAMS_WEBHOOK_URL" in failure.value.message


# 10. FETCH_SCHEDULE errors name the setting


def test_an_impossible_fetch_schedule_is_one_line_naming_the_setting(cycle: CycleHarness) -> None:
    from_environment(cycle, FETCH_SCHEDULE="0 0 25 * * *")

    with fails_with(ConfigurationError, match="FETCH_SCHEDULE") as failure:
        cycle.run_once()

    assert "hour 25 is outside 0-23" in failure.value.message
    assert "\n" not in failure.value.message


# 11. No webhook in Azure is an error, unless chosen


def test_in_azure_no_webhook_fails_the_run_unless_logging_is_chosen(
    cycle: CycleHarness, caplog: pytest.LogCaptureFixture
) -> None:
    serve(cycle, mfaRegistered=900, capable=950)
    from_environment(cycle, WEBSITE_INSTANCE_ID="0123456789abcdef")

    with fails_with(ConfigurationError, match="ALERTS_TO_LOG_ONLY=true"):
        cycle.run_once()

    from_environment(cycle, ALERTS_TO_LOG_ONLY="true")
    cycle.run()
    assert "Registered for MFA at 90%, below 95%" in caplog.text


# Fewer storage round trips


def test_a_scheduled_cycle_makes_at_most_six_table_requests(cycle: CycleHarness) -> None:
    serve(cycle, mfaRegistered=990, capable=950)
    cycle.run()  # the first run creates the tables
    requests: list[str] = []
    app = App(
        Settings.from_env(os.environ),
        clock=cycle.clock,
        sleep=cycle.clock.sleep,
        storage_options={
            "retry_total": 1,
            "raw_request_hook": lambda r: requests.append(
                f"{r.http_request.method} {r.http_request.url}"
            ),
        },
    )
    use_app(app)
    cycle.clock.advance(days=1)
    try:
        cycle.run()
    finally:
        app.close()

    assert len(requests) <= 6, "\n".join(requests)
    assert not any("/Tables" in r for r in requests)  # no create_table on every run


def test_two_fetches_at_once_never_undo_each_other_s_fetch_health_news(
    cycle: CycleHarness,
) -> None:
    # Fetching has been failing (told). Fetch B reads that, then asks Graph; while it waits,
    # fetch A succeeds and says "works again". B's answer is a final 403: B must not write back
    # the stale "failing, told" state silently, but read again and say "fails" once more.
    cycle.use_webhook()
    serve(cycle, mfaRegistered=990, capable=950)
    denied = graph_error(403, "Authorization_RequestDenied", "Insufficient privileges.")
    cycle.graph.script.then(denied, denied, denied)
    with fails_with(GraphError):
        cycle.run()
    assert titles(cycle) == ["Entra registration monitor: fetching the report fails"]
    cycle.clock.advance(hours=1)

    settings_a = Settings.from_env(os.environ)  # fetch A: the ordinary Graph stand-in
    ran = threading.Event()

    def graph_for_b(request: Request) -> Reply:
        if not ran.is_set():
            ran.set()
            other = App(settings_a, clock=cycle.clock, sleep=cycle.clock.sleep)
            try:
                fetch_and_store(other)
            finally:
                other.close()
        return denied

    with LoopbackServer(graph_for_b) as slow_graph:
        app_b = cycle.configure(GRAPH_ENDPOINT=slow_graph.url)
        with pytest.raises(GraphError):
            fetch_and_store(app_b)

    assert ran.is_set()
    assert titles(cycle)[1:] == [
        "Entra registration monitor: fetching the report works again",
        "Entra registration monitor: fetching the report fails",
    ]
    (health,) = [e for e in cycle.table("ALERT_TABLE") if e["PartitionKey"] == "monitor"]
    assert health["Firing"] is True and health["ToldFiring"] is True


def test_a_fetch_health_write_based_on_a_stale_read_is_refused(cycle: CycleHarness) -> None:
    health = cycle.configure().monitor.fetch_health()
    health.write(health.read(), AlertState("fetch", firing=True), claim=None)
    stale = health.read()
    health.write(stale, AlertState("fetch"), claim=None)

    with pytest.raises(StateConflictError):
        health.write(stale, AlertState("fetch", firing=True), claim=None)
    with pytest.raises(StateConflictError):  # insert-only when none was read
        health.write(Record(None), AlertState("fetch", firing=True), claim=None)
    assert health.read().state == AlertState("fetch")
