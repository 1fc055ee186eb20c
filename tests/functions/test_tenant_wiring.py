"""Many tenants (#18), what each tenant reads and where its cards go, through Microsoft's worker:
CHECK_ENFORCEMENT reads each tenant's own policies with its own token; a tenant's row may name
a Key Vault secret holding its own webhook (read with the identity from the Key Vault
stand-in), and a webhook that cannot be read falls back to the default one, saying why.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator

import pytest
from azure.data.tables import TableServiceClient

from standins import conditional_access as ca
from standins.conditional_access import ConditionalAccessService
from standins.graph import DetailsService
from standins.graph_tenants import token_tenant
from standins.key_vault import KeyVaultStandIn
from standins.registration_details import SyntheticTenant
from standins.teams import TeamsStandIn
from tests.functions import test_tenants
from tests.functions.test_tenants import CONTOSO, FABRIKAM, NORTHWIND, Fleet
from tests.message_examples import texts

fleet = test_tenants.fleet  # the three tenants, through the host (tests/functions/test_tenants.py)

SECRET = "fabrikam-teams-webhook"


def card_texts(teams: TeamsStandIn) -> list[str]:
    return ["\n".join(texts(card)) for card in teams.cards]


def set_row(fleet: Fleet, tenant: str, **columns: str) -> None:
    service = TableServiceClient.from_connection_string(fleet.cycle.azurite.connection_string)
    table = service.get_table_client(os.environ["TENANT_TABLE"])
    table.upsert_entity({"PartitionKey": "tenant", "RowKey": tenant, **columns})


def test_enforcement_is_read_per_tenant_with_its_own_token(fleet: Fleet) -> None:
    fleet.graph.conditional_access = {
        CONTOSO: ConditionalAccessService(policies=[ca.require_mfa_all_users()]),
        NORTHWIND: ConditionalAccessService(security_defaults_enabled=True),
        FABRIKAM: ConditionalAccessService(policies=[ca.require_mfa_all_users_report_only()]),
    }
    fleet.cycle.configure(CHECK_ENFORCEMENT="true")

    fleet.cycle.run()

    readers = {token_tenant(r.headers["authorization"]) for r in fleet.cycle.graph.policy_requests}
    assert readers == {CONTOSO, FABRIKAM, NORTHWIND}
    (card,) = fleet.cards()  # coverage and enforcement in one card: only Fabrikam's
    assert "Fabrikam" in card
    plain = card.replace("**", "")
    assert "not enforced for all users" in plain and "report-only" in plain
    assert all(CONTOSO not in c and NORTHWIND not in c for c in fleet.cards())


@pytest.fixture
def vault() -> Iterator[KeyVaultStandIn]:
    with KeyVaultStandIn() as running:
        yield running


def test_a_tenant_with_its_own_webhook_gets_its_cards_there(
    fleet: Fleet, vault: KeyVaultStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with TeamsStandIn() as own:
        vault.set_secret(SECRET, own.webhook_url.replace("FAKE.sig", "FABRIKAM.sig"))
        set_row(fleet, FABRIKAM, DisplayName="Fabrikam", WebhookSecret=SECRET)
        fleet.cycle.configure(KEY_VAULT_URL=vault.url)

        fleet.cycle.run()

        (card,) = card_texts(own)
        assert "Fabrikam" in card and FABRIKAM in card
        assert fleet.cycle.teams.cards == []
    (read,) = vault.requests
    assert read.path == f"/secrets/{SECRET}" and read.query["api-version"] == ["7.4"]
    assert "FABRIKAM.sig" not in caplog.text


def test_a_webhook_that_cannot_be_read_falls_back_to_the_default_saying_why(
    fleet: Fleet, vault: KeyVaultStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    set_row(fleet, FABRIKAM, DisplayName="Fabrikam", WebhookSecret="no-such-secret")
    fleet.cycle.configure(KEY_VAULT_URL=vault.url)

    fleet.cycle.run()

    (card,) = fleet.cards()
    assert "Fabrikam" in card
    assert "Sent to the default webhook" in card and "SecretNotFound" in card
    assert "its cards go to the default webhook" in caplog.text
    assert "'no-such-secret'" in caplog.text


def test_without_key_vault_url_a_webhook_secret_falls_back_saying_so(fleet: Fleet) -> None:
    set_row(fleet, FABRIKAM, DisplayName="Fabrikam", WebhookSecret=SECRET)
    fleet.cycle.configure()

    fleet.cycle.run()

    (card,) = fleet.cards()
    assert "KEY_VAULT_URL is not set" in card


def test_the_key_vault_stand_in_answers_as_documented(vault: KeyVaultStandIn) -> None:
    import httpx

    answer = httpx.get(f"{vault.url}/secrets/x?api-version=7.4")

    assert answer.status_code == 401 and "WWW-Authenticate" in answer.headers
    assert json.loads(answer.content)["error"]["code"] == "Unauthorized"


def test_the_admins_a_tenants_card_names_are_asked_of_its_own_graph(fleet: Fleet) -> None:
    fleet.cycle.graph.details = DetailsService(SyntheticTenant(users=400))
    app = fleet.cycle.configure(ALERT_NAME_ADMINS="true")

    lookup = app.admin_lookup_for(FABRIKAM)
    assert lookup is not None
    names = lookup()

    assert names  # the synthetic tenant has admins without MFA
    (asked,) = fleet.cycle.graph.details_requests
    assert token_tenant(asked.headers["authorization"]) == FABRIKAM
    assert "isAdmin" in asked.query["$filter"][0]
