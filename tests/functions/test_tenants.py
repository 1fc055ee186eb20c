"""Many tenants from one deployment, without a secret (#18), through Microsoft's worker with
Azurite, the managed-identity, Entra (https), Graph and Teams stand-ins.

FetchReport's timer queues one tenants-to-fetch message per tenant (a list output), FetchTenant
fetches each with that tenant's credential (the multi-tenant app, the identity's token as its
client assertion), CheckThresholds judges each snapshot, WeeklyDigest rolls them up.
"""

from __future__ import annotations

import io
import json
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from azure.data.tables import TableServiceClient

from shared.tenants import check
from standins.entra import JWT_BEARER, MULTI_TENANT_APP_ID, EntraStandIn, claims_of
from standins.graph import graph_error
from standins.graph_tenants import Tenants
from standins.managed_identity import TENANT_ID as HOME_TENANT
from standins.reports import report
from tests.conftest import CycleHarness
from tests.message_examples import texts

CONTOSO = "2b9c7c55-3f7e-4d3b-9a41-0c6f1e2d3a4b"
FABRIKAM = "8d4e6f10-1a2b-4c3d-8e9f-a0b1c2d3e4f5"
NORTHWIND = "c0ffee00-1234-4abc-8def-0123456789ab"
# mfaRegistered / capable per tenant: Fabrikam is below 95% mfaRegistered; Northwind is below
# the default too, but its row in the Tenants table lowers its thresholds.
NUMBERS = {
    CONTOSO: (1000, {"registered": 990, "capable": 960, "mfaRegistered": 980}),
    FABRIKAM: (400, {"registered": 350, "capable": 370, "mfaRegistered": 300}),
    NORTHWIND: (2500, {"registered": 2300, "capable": 2200, "mfaRegistered": 2250}),
}


@dataclass
class Fleet:
    cycle: CycleHarness
    entra: EntraStandIn
    graph: Tenants

    def cards(self) -> list[str]:
        return ["\n".join(texts(card)) for card in self.cycle.teams.cards]

    def stored(self) -> dict[str, int]:
        return {
            row["PartitionKey"]: getattr(row["TotalUserCount"], "value", row["TotalUserCount"])
            for row in self.cycle.snapshots()
        }


@pytest.fixture
def fleet(cycle: CycleHarness, monkeypatch: pytest.MonkeyPatch) -> Iterator[Fleet]:
    with EntraStandIn(consented=set(NUMBERS), assertions=cycle.identity.tokens_issued) as entra:
        for name, value in entra.environ.items():
            monkeypatch.setenv(name, value)
        graph = Tenants(
            reports={t: json.dumps(report(*numbers)).encode() for t, numbers in NUMBERS.items()}
        )
        cycle.graph.tenants = graph
        table = "Tenants" + os.environ["ALERT_TABLE"].removeprefix("Alerts")
        service = TableServiceClient.from_connection_string(cycle.azurite.connection_string)
        client = service.create_table_if_not_exists(table)
        client.upsert_entity(
            {"PartitionKey": "tenant", "RowKey": FABRIKAM, "DisplayName": "Fabrikam"}
        )
        client.upsert_entity(
            {
                "PartitionKey": "tenant",
                "RowKey": NORTHWIND,
                "DisplayName": "Northwind",
                "Thresholds": "mfaRegistered=85%,capable=85%",
            }
        )
        cycle.configure(
            TENANTS=",".join(NUMBERS),
            MULTI_TENANT_APP_ID=MULTI_TENANT_APP_ID,
            TENANT_TABLE=table,
            TEAMS_WEBHOOK_URL=cycle.teams.webhook_url,
        )
        try:
            yield Fleet(cycle, entra, graph)
        finally:
            service.delete_table(table)


def test_one_run_stores_one_snapshot_per_tenant_with_that_tenants_numbers(fleet: Fleet) -> None:
    fleet.cycle.run()

    assert fleet.stored() == {tenant: numbers[0] for tenant, numbers in NUMBERS.items()}


def test_every_token_request_is_a_client_assertion_of_the_identitys_token(fleet: Fleet) -> None:
    fleet.cycle.run()

    requests = fleet.entra.token_requests
    assert {r.tenant for r in requests} == set(NUMBERS)
    for request in requests:
        assert request.client_id == MULTI_TENANT_APP_ID
        assert request.client_assertion_type == JWT_BEARER
        assert not request.sent_client_secret
        assert request.client_assertion in fleet.cycle.identity.tokens_issued
        assert claims_of(request.client_assertion or "")["aud"] == "api://AzureADTokenExchange"
    assert "client_secret" not in "".join(r.body.decode() for r in fleet.entra.requests)


def test_only_the_breaching_tenant_gets_a_firing_card_naming_it(fleet: Fleet) -> None:
    fleet.cycle.run()

    (card,) = fleet.cards()
    assert "Fabrikam" in card and FABRIKAM in card
    assert "BELOW" in card or "below" in card
    assert CONTOSO not in card and NORTHWIND not in card


def test_a_tenant_whose_consent_is_revoked_is_reported_and_the_others_are_stored(
    fleet: Fleet,
) -> None:
    fleet.entra.revoke_consent(CONTOSO)

    fleet.cycle.run()

    assert set(fleet.stored()) == {FABRIKAM, NORTHWIND}
    failing = [card for card in fleet.cards() if "fetching the report fails" in card]
    (card,) = failing
    assert CONTOSO in card and "consent" in card
    assert f"/{CONTOSO}/adminconsent?client_id={MULTI_TENANT_APP_ID}" in card
    assert fleet.cycle.host.poison["tenants-to-fetch-poison"] == [json.dumps({"tenantId": CONTOSO})]


def test_consent_given_again_says_fetching_works_for_that_tenant(fleet: Fleet) -> None:
    fleet.entra.revoke_consent(CONTOSO)
    fleet.cycle.run()
    fleet.entra.grant_consent(CONTOSO)
    fleet.cycle.clock.advance(days=1)

    fleet.cycle.run()

    works = [card for card in fleet.cards() if "works again" in card]
    (card,) = works
    assert CONTOSO in card


def test_one_digest_rolls_up_every_tenant_worst_first(fleet: Fleet) -> None:
    fleet.entra.revoke_consent(NORTHWIND)
    fleet.cycle.run()
    before = len(fleet.cycle.teams.cards)

    fleet.cycle.host.run_timer("WeeklyDigest")

    (digest,) = fleet.cycle.teams.cards[before:]
    text = "\n".join(texts(digest))
    assert "Weekly digest: 2 of 3 tenants need attention" in text
    order = [text.index(name) for name in ("Fabrikam", "Northwind", CONTOSO)]
    assert order == sorted(order)
    assert (
        "FIRING" in text
        and "fetching fails" in text
        and "98% Registered for MFA" in text
        and "75%" in text
    )


def test_the_apps_own_tenant_is_read_with_the_identitys_own_token(fleet: Fleet) -> None:
    fleet.cycle.configure(TENANTS=f"{HOME_TENANT},{CONTOSO}")

    fleet.cycle.run()

    assert set(fleet.stored()) == {HOME_TENANT, CONTOSO}
    assert {r.tenant for r in fleet.entra.token_requests} == {CONTOSO}


def test_no_secret_reaches_any_log(fleet: Fleet, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    fleet.entra.revoke_consent(CONTOSO)

    fleet.cycle.run()
    fleet.cycle.host.run_timer("WeeklyDigest")

    logged = caplog.text + "".join(fleet.cards())
    secrets = [
        fleet.cycle.identity.identity_header,
        *fleet.cycle.identity.tokens_issued,
        *fleet.entra.tokens_issued,
    ]
    assert fleet.entra.tokens_issued and all(secret not in logged for secret in secrets)


def test_the_check_says_per_tenant_whether_consent_and_the_report_are_there(
    fleet: Fleet,
) -> None:
    fleet.entra.revoke_consent(CONTOSO)
    fleet.graph.refusals[FABRIKAM] = graph_error(
        403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation."
    )
    out = io.StringIO()

    status = check.main([], environ=os.environ, out=out)

    lines = dict(line.split(": ", 1) for line in out.getvalue().splitlines()[:3])
    assert status == 1
    assert lines[CONTOSO].startswith("NO TOKEN") and "adminconsent" in lines[CONTOSO]
    assert lines[FABRIKAM].startswith("NO REPORT") and "403" in lines[FABRIKAM]
    assert lines[NORTHWIND] == "ok: a token, and the report answers (2,500 users)"
    assert out.getvalue().splitlines()[-1] == "1 of 3 tenants ok"
    assert fleet.cycle.snapshots() == [] and fleet.cycle.teams.cards == []


def test_without_tenants_the_app_watches_its_own_tenant_as_before(cycle: CycleHarness) -> None:
    cycle.run()

    assert [row["PartitionKey"] for row in cycle.snapshots()] == [HOME_TENANT]


def test_one_invalid_tenant_row_stops_only_that_tenant_and_says_which_row(fleet: Fleet) -> None:
    table = os.environ["TENANT_TABLE"]
    service = TableServiceClient.from_connection_string(fleet.cycle.azurite.connection_string)
    service.get_table_client(table).upsert_entity(
        {"PartitionKey": "tenant", "RowKey": NORTHWIND, "Thresholds": "mfaRegistred=85%"}
    )

    fleet.cycle.run()
    fleet.cycle.host.run_timer("WeeklyDigest")

    # The other tenants are fetched and checked as ever; Fabrikam's breach is told.
    assert {CONTOSO, FABRIKAM} <= set(fleet.stored())
    assert any("Fabrikam" in card and "FIRING" in card for card in fleet.cards())
    # Northwind's own runs fail saying which row to fix, and the digest does not call it ok.
    said = "\n".join(fleet.cards())
    assert f"row {NORTHWIND}: Thresholds" in said and "did you mean 'mfaRegistered'" in said
    digest = fleet.cards()[-1]
    assert "Weekly digest:" in digest and "not checked: " in digest
