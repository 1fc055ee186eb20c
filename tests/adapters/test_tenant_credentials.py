"""Each tenant's credential: the multi-tenant app, with the managed identity's token as its
client assertion, one credential per tenant for the worker's life, and no secret anywhere.

Real azure-identity against the managed-identity and Entra stand-ins; the settings reach it the
way they reach it in Azure, through the environment.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone

import httpx
import pytest
from azure.identity import ManagedIdentityCredential

from shared.errors import CredentialError
from shared.retry import RetryPolicy
from shared.sources.graph_client import GraphClient
from shared.tenants import TenantCredentials, admin_consent_url, authority_host
from standins.entra import ASSERTION_AUDIENCE, JWT_BEARER, EntraStandIn, claims_of
from standins.loopback import Reply
from standins.managed_identity import ManagedIdentityStandIn

APP_ID = "5e0f2a7c-8b3d-4e1f-a6c9-d2b4e8f01a37"
CONTOSO = "2b9c7c55-3f7e-4d3b-9a41-0c6f1e2d3a4b"
FABRIKAM = "8d4e6f10-1a2b-4c3d-8e9f-a0b1c2d3e4f5"
GRAPH_SCOPE = "https://graph.microsoft.com/.default"


@dataclass
class Tenants:
    identity: ManagedIdentityStandIn
    entra: EntraStandIn
    credentials: TenantCredentials

    def secrets(self) -> list[str]:
        return [
            self.identity.identity_header,
            *self.identity.tokens_issued,
            *self.entra.tokens_issued,
        ]


@pytest.fixture
def tenants(monkeypatch: pytest.MonkeyPatch) -> Iterator[Tenants]:
    for name in ("MSI_ENDPOINT", "MSI_SECRET", "IDENTITY_SERVER_THUMBPRINT", "AZURE_CLIENT_ID"):
        monkeypatch.delenv(name, raising=False)
    with (
        ManagedIdentityStandIn() as identity,
        EntraStandIn(
            app_id=APP_ID, consented={CONTOSO, FABRIKAM}, assertions=identity.tokens_issued
        ) as entra,
    ):
        for name, value in {**identity.environ, **entra.environ}.items():
            monkeypatch.setenv(name, value)
        credentials = TenantCredentials(
            app_id=APP_ID, identity=ManagedIdentityCredential(), environ=os.environ
        )
        try:
            yield Tenants(identity, entra, credentials)
        finally:
            credentials.close()


def test_each_tenant_gets_a_token_of_its_own_as_the_app(tenants: Tenants) -> None:
    contoso = tenants.credentials.for_tenant(CONTOSO).get_token(GRAPH_SCOPE)
    fabrikam = tenants.credentials.for_tenant(FABRIKAM).get_token(GRAPH_SCOPE)

    assert claims_of(contoso.token)["tid"] == CONTOSO
    assert claims_of(fabrikam.token)["tid"] == FABRIKAM
    for token in (contoso, fabrikam):
        assert claims_of(token.token)["appid"] == APP_ID
        assert claims_of(token.token)["aud"] == "https://graph.microsoft.com"


def test_every_token_request_is_a_client_assertion_of_the_identity_token(
    tenants: Tenants,
) -> None:
    for tenant in (CONTOSO, FABRIKAM):
        tenants.credentials.for_tenant(tenant).get_token(GRAPH_SCOPE)
    tenants.credentials.for_tenant(CONTOSO).get_token("https://graph.microsoft.com/beta/.default")

    requests = tenants.entra.token_requests
    assert [r.tenant for r in requests] == [CONTOSO, FABRIKAM, CONTOSO]
    for request in requests:
        assert request.client_id == APP_ID
        assert request.grant_type == "client_credentials"
        assert request.client_assertion_type == JWT_BEARER
        assert request.client_assertion in tenants.identity.tokens_issued
        assert not request.sent_client_secret
    # One identity token for the token exchange serves every tenant (azure-identity caches it).
    [asked] = [r for r in tenants.identity.requests if r.query.get("resource")]
    assert asked.query["resource"] == [ASSERTION_AUDIENCE]


def test_one_credential_per_tenant_is_kept_and_asks_entra_once(tenants: Tenants) -> None:
    first = tenants.credentials.for_tenant(CONTOSO)
    for _ in range(3):
        for tenant in (CONTOSO, FABRIKAM):
            tenants.credentials.for_tenant(tenant).get_token(GRAPH_SCOPE)

    assert tenants.credentials.for_tenant(CONTOSO) is first
    assert tenants.credentials.for_tenant(FABRIKAM) is not first
    assert sorted(r.tenant for r in tenants.entra.token_requests) == sorted([CONTOSO, FABRIKAM])


def test_threads_asking_at_once_share_one_credential(tenants: Tenants) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        built = list(pool.map(lambda _: tenants.credentials.for_tenant(CONTOSO), range(32)))

    assert len({id(credential) for credential in built}) == 1


def test_a_revoked_tenant_says_so_with_its_consent_link_and_the_others_go_on(
    tenants: Tenants,
) -> None:
    tenants.entra.revoke_consent(FABRIKAM)

    with pytest.raises(CredentialError) as refused:
        tenants.credentials.for_tenant(FABRIKAM).get_token(GRAPH_SCOPE)
    assert (
        claims_of(tenants.credentials.for_tenant(CONTOSO).get_token(GRAPH_SCOPE).token)["tid"]
        == CONTOSO
    )

    message = str(refused.value)
    assert message.startswith(f"tenant {FABRIKAM}: ")
    assert "consent in this tenant is missing or was revoked" in message
    assert f"{tenants.entra.url}/{FABRIKAM}/adminconsent?client_id={APP_ID}" in message
    assert "AADSTS700016" in message
    assert tenants.credentials.consent_url(FABRIKAM) in message
    for secret in tenants.secrets():
        assert secret not in message


@pytest.mark.parametrize("answer", [700016, 7000229])
def test_both_answers_for_a_missing_service_principal_give_the_consent_link(
    answer: int, monkeypatch: pytest.MonkeyPatch, tenants: Tenants
) -> None:
    with EntraStandIn(app_id=APP_ID, missing_consent=answer) as entra:
        monkeypatch.setenv("AZURE_AUTHORITY_HOST", entra.url)
        monkeypatch.setenv("SSL_CERT_FILE", entra.ca_file)
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", entra.ca_file)
        credentials = TenantCredentials(
            app_id=APP_ID, identity=ManagedIdentityCredential(), environ=os.environ
        )
        with pytest.raises(CredentialError, match=f"AADSTS{answer}") as refused:
            credentials.for_tenant(CONTOSO).get_token(GRAPH_SCOPE)
        credentials.close()
    assert f"/{CONTOSO}/adminconsent?client_id={APP_ID}" in str(refused.value)


def test_a_federated_credential_that_does_not_match_the_identity_says_so(
    tenants: Tenants,
) -> None:
    tenants.entra.home_tenant = FABRIKAM  # the app is registered in another tenant

    with pytest.raises(CredentialError, match="federated identity credential does not match"):
        tenants.credentials.for_tenant(CONTOSO).get_token(GRAPH_SCOPE)


def test_an_identity_that_gives_no_token_names_the_tenant_and_the_exchange(
    tenants: Tenants,
) -> None:
    tenants.identity.script.then(
        Reply(400, {"error": "invalid_request", "error_description": "identity not found"})
    )

    with pytest.raises(CredentialError) as failed:
        tenants.credentials.for_tenant(CONTOSO).get_token(GRAPH_SCOPE)

    assert str(failed.value).startswith(
        f"tenant {CONTOSO}: the managed identity gave no token for "
        f"{ASSERTION_AUDIENCE}/.default, the client assertion of app {APP_ID}"
    )
    assert tenants.entra.token_requests == []


def test_no_secret_reaches_a_log_line_with_every_logger_at_debug(
    tenants: Tenants, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    tenants.entra.revoke_consent(FABRIKAM)
    for tenant in (CONTOSO, FABRIKAM, CONTOSO):
        try:
            tenants.credentials.for_tenant(tenant).get_token(GRAPH_SCOPE)
        except CredentialError as error:
            logging.getLogger("test").exception("tenant failed: %s", error)

    assert "AADSTS700016" in caplog.text  # the failure was logged
    for secret in tenants.secrets():
        assert secret not in caplog.text


def test_the_consent_link_honours_the_authority_host() -> None:
    assert authority_host({}) == "https://login.microsoftonline.com"
    assert authority_host({"AZURE_AUTHORITY_HOST": "login.microsoftonline.us/"}) == (
        "https://login.microsoftonline.us"
    )
    assert admin_consent_url(CONTOSO, APP_ID) == (
        f"https://login.microsoftonline.com/{CONTOSO}/adminconsent?client_id={APP_ID}"
    )
    assert admin_consent_url("contoso.onmicrosoft.com", APP_ID, authority="https://h/") == (
        f"https://h/contoso.onmicrosoft.com/adminconsent?client_id={APP_ID}"
    )


def test_the_graph_sources_take_a_tenant_credential_and_keep_its_advice(tenants: Tenants) -> None:
    """The Graph sources get their token through `GraphClient.token`: a tenant's credential
    plugs in as it is, and its refusal reaches the caller unchanged, consent link and all."""

    def graph_for(tenant: str) -> GraphClient:
        return GraphClient(
            endpoint="https://graph.microsoft.com",
            credential=tenants.credentials.for_tenant(tenant),
            http=httpx.Client(),
            policy=RetryPolicy(),
            sleep=lambda seconds: None,
            clock=lambda: datetime.now(timezone.utc),
        )

    tenants.entra.revoke_consent(FABRIKAM)
    contoso = graph_for(CONTOSO).token()
    with pytest.raises(CredentialError, match=f"^tenant {FABRIKAM}: .*/adminconsent"):
        graph_for(FABRIKAM).token()

    assert claims_of(contoso)["tid"] == CONTOSO
