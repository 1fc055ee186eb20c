"""Failures said in Teams on the last try, each by one path (shared/usecases/failures.py):
what failed, and advice that fits it. Through the host where a function can be made to fail so.
"""

from __future__ import annotations

import json

import pytest
from azure.data.tables import TableServiceClient

from shared.bootstrap import use_app
from shared.errors import (
    ConfigurationError,
    SnapshotNotFoundError,
    StateConflictError,
    StorageError,
)
from shared.stores.records import Claim
from shared.usecases.failures import told_in_teams
from shared.usecases.fetching import Attempt
from standins.azurite import Azurite
from standins.loopback import Reply
from standins.reports import report
from tests.conftest import CycleHarness, fails_with
from tests.functions import test_tenants
from tests.functions.test_tenants import NUMBERS, Fleet

fleet = test_tenants.fleet  # the fixture: many tenants on the stand-ins


def titles(cycle: CycleHarness) -> list[str]:
    return [card["body"][0]["items"][0]["text"] for card in cycle.teams.cards]


def serve(cycle: CycleHarness, total: int = 1000, **counts: int) -> None:
    cycle.graph.report_body = json.dumps(report(total, counts)).encode()


# C7: errors that are StorageErrors by type, but not storage that refuses


def test_a_snapshot_that_is_not_stored_is_said_as_such_not_as_a_storage_grant(
    cycle: CycleHarness,
) -> None:
    serve(cycle, mfaRegistered=990, capable=950)
    message = cycle.host.run("FetchReport")["check"]
    key = json.loads(message)
    service = TableServiceClient.from_connection_string(cycle.azurite.connection_string)
    table = service.get_table_client(cycle.app.settings.snapshot_table)  # type: ignore[union-attr]
    table.delete_entity(key["tenantId"], key["rowKey"])
    cycle.use_webhook()

    delivery = cycle.host.deliver("snapshots-to-check", message)

    assert delivery.poisoned
    assert all(e.exception_type == "SnapshotNotFoundError" for e in delivery.errors)
    (card,) = cycle.teams.cards  # said once, by the last try
    assert titles(cycle) == [
        "Entra registration monitor: CheckThresholds fails: the snapshot to check is not stored"
    ]
    text = json.dumps(card)
    assert "snapshots-to-check-poison" in text and "SNAPSHOT_TABLE" in text
    assert "Storage Table Data Contributor" not in text


def test_a_state_that_kept_changing_is_said_as_a_conflict_not_as_a_storage_grant(
    cycle: CycleHarness,
) -> None:
    cycle.use_webhook()

    with pytest.raises(StateConflictError):
        with told_in_teams("CheckThresholds", Attempt(), queue="snapshots-to-check"):
            raise StateConflictError("the alert states changed since they were read")

    (card,) = cycle.teams.cards
    assert titles(cycle) == [
        "Entra registration monitor: CheckThresholds fails: the stored state kept changing"
    ]
    assert "Storage Table Data Contributor" not in json.dumps(card)
    assert "ALERT_TABLE" in json.dumps(card)


def test_a_missing_snapshot_before_the_last_try_is_not_said(cycle: CycleHarness) -> None:
    cycle.use_webhook()

    with pytest.raises(SnapshotNotFoundError):
        with told_in_teams("CheckThresholds", Attempt(0, 4), queue="snapshots-to-check"):
            raise SnapshotNotFoundError("snapshot t/r is not in table Snapshots")

    assert cycle.teams.requests == []


# C1: an identity that gives no token is a fetch that fails, said once per tenant


def test_an_identity_without_a_token_is_a_failing_fetch_for_each_tenant_said_once(
    fleet: Fleet,
) -> None:
    refused = Reply(400, {"error": "invalid_request", "error_description": "identity refused"})
    fleet.cycle.identity.script.then(*[refused] * 200)

    fleet.cycle.run()

    cards = fleet.cards()
    assert len(cards) == len(NUMBERS)  # one each: no second card from told_in_teams
    for tenant in NUMBERS:
        (card,) = [c for c in cards if tenant in c]
        assert "fetching the report fails" in card and "CredentialError" in card
    poisoned = fleet.cycle.host.poison["tenants-to-fetch-poison"]
    assert sorted(poisoned) == sorted(json.dumps({"tenantId": t}) for t in NUMBERS)
    health = [e for e in fleet.cycle.table("ALERT_TABLE") if e.get("Firing") is True]
    assert {e["RowKey"] for e in health} == set(NUMBERS)  # each tenant's fetch health


# S6: what ends in a poison queue says so, once, on its last try


def test_a_malformed_continuation_is_said_once_naming_its_poison_queue(
    cycle: CycleHarness,
) -> None:
    cycle.use_webhook()

    delivery = cycle.host.deliver("fetch-continuations", '{"fetchId": "x"}')

    assert delivery.poisoned and delivery.attempts == 5
    assert all(e.exception_type == "MessageFormatError" for e in delivery.errors)
    (card,) = cycle.teams.cards
    assert titles(cycle) == [
        "Entra registration monitor: ContinueFetch fails: a queue message is malformed"
    ]
    assert "fetch-continuations-poison" in json.dumps(card)
    assert cycle.graph.requests == []


def test_a_malformed_tenant_to_fetch_is_said_once_naming_its_poison_queue(
    cycle: CycleHarness,
) -> None:
    cycle.use_webhook()

    delivery = cycle.host.deliver("tenants-to-fetch", '{"tenantId": "not a guid"}')

    assert delivery.poisoned
    (card,) = cycle.teams.cards
    assert titles(cycle) == [
        "Entra registration monitor: FetchTenant fails: a queue message is malformed"
    ]
    assert "tenants-to-fetch-poison" in json.dumps(card)


def test_a_check_that_gives_up_on_a_held_claim_says_so_once(cycle: CycleHarness) -> None:
    serve(cycle, mfaRegistered=900, capable=950)
    message = cycle.host.run("FetchReport")["check"]
    app = cycle.use_webhook()
    ledger = app.alerts.ledger(json.loads(message)["tenantId"])
    held = ledger.read()
    ledger.write(held, held.state, claim=Claim("another-check", cycle.clock()))  # it hangs

    delivery = cycle.host.deliver("snapshots-to-check", message)

    assert delivery.poisoned
    assert all(e.exception_type == "CheckInProgressError" for e in delivery.errors)
    (card,) = cycle.teams.cards  # the failure, not the coverage card nobody could post
    assert titles(cycle) == [
        "Entra registration monitor: CheckThresholds fails: "
        "another run kept holding the claim to post"
    ]
    assert "snapshots-to-check-poison" in json.dumps(card)


# C4: the weekly digest says its own failures too


def test_storage_that_refuses_the_digest_is_said_once_by_its_last_try(
    cycle: CycleHarness,
) -> None:
    with Azurite() as doomed:
        cycle.configure(
            AzureWebJobsStorage=doomed.connection_string, TEAMS_WEBHOOK_URL=cycle.teams.webhook_url
        )
    # Azurite stopped: nothing listens on its port any more

    with fails_with(StorageError, match="unreachable") as failure:
        cycle.host.run_timer("WeeklyDigest")

    assert failure.value.attempts == 3  # the host's tries, as function.json says
    assert titles(cycle) == ["Entra registration monitor: WeeklyDigest fails: Table Storage fails"]


def test_invalid_settings_stop_the_digest_and_are_said_once(cycle: CycleHarness) -> None:
    cycle.monkeypatch.setenv("TEAMS_WEBHOOK_URL", cycle.teams.webhook_url)
    cycle.monkeypatch.setenv("THRESHOLDS", "mfaRegistred=95%")
    use_app(None)  # the entry point builds the App from the settings, as in Azure

    with fails_with(ConfigurationError, match="did you mean 'mfaRegistered'"):
        cycle.host.run_timer("WeeklyDigest")

    assert titles(cycle) == [
        "Entra registration monitor: WeeklyDigest fails: its settings are invalid"
    ]


# C3 through the host: snapshots 25 days old, no fetch failure recorded


def test_the_rollup_of_tenants_whose_snapshots_are_old_is_not_green(fleet: Fleet) -> None:
    fleet.cycle.run()
    before = len(fleet.cycle.teams.cards)
    fleet.cycle.clock.advance(days=25)  # the timer stopped: nothing failed, nothing fetched

    fleet.cycle.host.run_timer("WeeklyDigest")

    (digest,) = fleet.cards()[before:]
    assert f"Weekly digest: {len(NUMBERS)} of {len(NUMBERS)} tenants need attention" in digest
    assert digest.count("not fetching: the newest snapshot is 25 days old") == len(NUMBERS)
    assert "FIRING: Registered for MFA (not fetching: the newest snapshot is 25 days old)" in digest


def test_the_digest_of_a_snapshot_25_days_old_is_not_green(cycle: CycleHarness) -> None:
    serve(cycle, mfaRegistered=990, capable=950)
    cycle.use_webhook()
    cycle.run()
    cycle.clock.advance(days=25)

    cycle.host.run_timer("WeeklyDigest")

    (digest,) = cycle.teams.cards
    assert titles(cycle) == [
        "Weekly digest: the monitor is not fetching: the newest snapshot is 25 days old"
    ]
    assert digest["body"][0]["style"] == "attention"
