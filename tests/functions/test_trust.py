"""Issue #15 through the host: what real tenants and the real host take, each case by number.

Items 5 and 6 (every post claims first) are in tests/functions/test_announcing.py.
"""

from __future__ import annotations

import json
import os

from shared.bootstrap import use_app
from shared.errors import ConfigurationError, StorageError
from standins.azurite import Azurite
from standins.graph import DetailsService
from standins.registration_details import SyntheticTenant
from standins.reports import report
from tests.conftest import CycleHarness, fails_with


def serve(cycle: CycleHarness, total: int = 1000, **counts: int) -> None:
    cycle.graph.report_body = json.dumps(report(total, counts)).encode()


def titles(cycle: CycleHarness) -> list[str]:
    return [card["body"][0]["items"][0]["text"] for card in cycle.teams.cards]


# 8. The tables the app owns have distinct names


def test_a_snapshot_table_that_is_the_alert_table_is_refused_before_anything_is_written(
    cycle: CycleHarness,
) -> None:
    serve(cycle, mfaRegistered=990, capable=950)
    cycle.run()  # a first cycle: one snapshot, and the alert table
    before = (cycle.table("SNAPSHOT_TABLE"), cycle.table("ALERT_TABLE"))
    snapshot_table = os.environ["SNAPSHOT_TABLE"]
    cycle.monkeypatch.setenv("SNAPSHOT_TABLE", os.environ["ALERT_TABLE"].upper())  # names: any case
    use_app(None)  # the entry points build the App from the settings, as in Azure
    try:
        with fails_with(ConfigurationError, match="SNAPSHOT_TABLE") as failure:
            cycle.run_once()
    finally:
        cycle.monkeypatch.setenv("SNAPSHOT_TABLE", snapshot_table)  # for the fixture's cleanup

    assert "ALERT_TABLE" in failure.value.message
    assert (cycle.table("SNAPSHOT_TABLE"), cycle.table("ALERT_TABLE")) == before
    assert len(cycle.graph.report_requests) == 1  # the refused run never asked Graph


# 2. A report that counts nobody is an alert, not silence


NO_USERS = "The report counts no users"


def test_a_report_of_no_users_is_an_alert_then_reminded_then_resolved(cycle: CycleHarness) -> None:
    cycle.use_webhook()
    serve(cycle, 0, mfaRegistered=0, capable=0)  # REPORT_SOURCE=beta's answer, counting nobody
    cycle.configure(REPORT_SOURCE="beta")
    cycle.run()
    cycle.clock.advance(hours=12)
    cycle.run()  # still nobody: quiet until ALERT_REPEAT_HOURS
    cycle.clock.advance(hours=12)
    cycle.run()
    cycle.clock.advance(days=1)
    serve(cycle, mfaRegistered=990, capable=950)
    cycle.run()

    assert titles(cycle) == [NO_USERS, NO_USERS, "Resolved: the report counts users again"]
    assert "NO USERS: the report counts 0 users" in json.dumps(cycle.teams.cards[0])
    assert "STILL NO USERS" in json.dumps(cycle.teams.cards[1])
    assert "after 2 days" in json.dumps(cycle.teams.cards[2])


def test_a_v1_pass_that_counts_nobody_is_the_same_alert(cycle: CycleHarness) -> None:
    cycle.configure(REPORT_SOURCE="v1", TEAMS_WEBHOOK_URL=cycle.teams.webhook_url)
    cycle.graph.details = DetailsService(
        SyntheticTenant(users=0, seed=1), clock=lambda: cycle.clock().timestamp()
    )

    cycle.run()

    assert titles(cycle) == [NO_USERS]


def test_the_digest_never_calls_a_report_of_no_users_green(cycle: CycleHarness) -> None:
    # With REPORT_SOURCE=beta: under auto, such an answer makes the run read v1 instead.
    cycle.configure(REPORT_SOURCE="beta", TEAMS_WEBHOOK_URL=cycle.teams.webhook_url)
    serve(cycle, 0, mfaRegistered=0, capable=0)
    cycle.run()
    cycle.clock.advance(hours=2)

    cycle.host.run_timer("WeeklyDigest")

    digest = cycle.teams.cards[-1]
    assert digest["body"][0]["items"][0]["text"] == "Weekly digest: the report counts no users"
    assert digest["body"][0]["style"] == "attention"
    assert "NO USERS: **the report** counts no users since" in json.dumps(digest)


# 9. Failures before or after Graph reach Teams whenever Teams can be reached


def test_invalid_settings_are_said_in_teams_once_per_run_and_the_run_still_fails(
    cycle: CycleHarness,
) -> None:
    cycle.monkeypatch.setenv("TEAMS_WEBHOOK_URL", cycle.teams.webhook_url)
    cycle.monkeypatch.setenv("THRESHOLDS", "mfaRegistred=95%")
    use_app(None)  # the entry points build the App from the settings, as in Azure

    with fails_with(ConfigurationError, match="did you mean 'mfaRegistered'") as failure:
        cycle.run()  # the host's three tries

    assert failure.value.attempts == 3
    (card,) = cycle.teams.cards  # said once, by the last try
    assert titles(cycle) == [
        "Entra registration monitor: FetchReport fails: its settings are invalid"
    ]
    assert "did you mean 'mfaRegistered'" in json.dumps(card)
    assert "Environment variables" in json.dumps(card)
    assert cycle.graph.requests == []


def test_invalid_settings_with_an_invalid_webhook_post_nothing(cycle: CycleHarness) -> None:
    cycle.monkeypatch.setenv("TEAMS_WEBHOOK_URL", "http://teams.example.com/hook?sig=x")
    cycle.monkeypatch.setenv("THRESHOLDS", "mfaRegistred=95%")
    use_app(None)

    with fails_with(ConfigurationError, match="TEAMS_WEBHOOK_URL"):
        cycle.run_once()

    assert cycle.teams.requests == []


def test_storage_that_refuses_is_said_in_teams_once_per_run_and_the_run_still_fails(
    cycle: CycleHarness,
) -> None:
    with Azurite() as doomed:
        cycle.configure(
            AzureWebJobsStorage=doomed.connection_string, TEAMS_WEBHOOK_URL=cycle.teams.webhook_url
        )
    # Azurite stopped: nothing listens on its port any more

    with fails_with(StorageError, match="unreachable"):
        cycle.run()

    (card,) = cycle.teams.cards
    assert titles(cycle) == ["Entra registration monitor: FetchReport fails: Table Storage fails"]
    assert "Storage Table Data Contributor" in json.dumps(card)
