"""The Entra token endpoint stand-in answers Microsoft's own clients as Entra does.

azure-identity's ClientAssertionCredential and msal's ConfidentialClientApplication run
unpatched against it, over https with its throwaway CA; the client assertion is the
managed-identity stand-in's token for api://AzureADTokenExchange.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator

import httpx
import msal
import pytest
from azure.core.exceptions import ClientAuthenticationError
from azure.identity import ClientAssertionCredential, ManagedIdentityCredential

from standins.entra import (
    ASSERTION_AUDIENCE,
    JWT_BEARER,
    MULTI_TENANT_APP_ID,
    EntraStandIn,
    claims_of,
)
from standins.managed_identity import ManagedIdentityStandIn

CONTOSO = "2b9c7c55-3f7e-4d3b-9a41-0c6f1e2d3a4b"
FABRIKAM = "8d4e6f10-1a2b-4c3d-8e9f-a0b1c2d3e4f5"
GRAPH_SCOPE = "https://graph.microsoft.com/.default"
# Other managed-identity protocols azure-identity would prefer over the stand-in's.
_OTHER_IDENTITY_SETTINGS = ("MSI_ENDPOINT", "MSI_SECRET", "IDENTITY_SERVER_THUMBPRINT")


@pytest.fixture
def identity(monkeypatch: pytest.MonkeyPatch) -> Iterator[ManagedIdentityStandIn]:
    for name in (*_OTHER_IDENTITY_SETTINGS, "AZURE_CLIENT_ID"):
        monkeypatch.delenv(name, raising=False)
    with ManagedIdentityStandIn() as running:
        for name, value in running.environ.items():
            monkeypatch.setenv(name, value)
        yield running


@pytest.fixture
def entra(
    identity: ManagedIdentityStandIn, monkeypatch: pytest.MonkeyPatch
) -> Iterator[EntraStandIn]:
    with EntraStandIn(consented={CONTOSO}, assertions=identity.tokens_issued) as running:
        for name, value in running.environ.items():
            monkeypatch.setenv(name, value)
        yield running


def identity_assertion() -> str:
    return ManagedIdentityCredential().get_token(f"{ASSERTION_AUDIENCE}/.default").token


def app_credential(tenant: str) -> ClientAssertionCredential:
    """What the app builds per tenant: authority from AZURE_AUTHORITY_HOST (no authority=)."""
    return ClientAssertionCredential(tenant, MULTI_TENANT_APP_ID, func=identity_assertion)


def msal_app(
    entra: EntraStandIn, tenant: str, credential: object, *, discovery: bool = False
) -> msal.ClientApplication:
    """msal validates a host it does not know through instance discovery, on
    login.microsoftonline.com unless told where (`discovery`: the stand-in's own endpoint).
    Even then, after an error answer msal 1.39 looks up the host's aliases on
    login.microsoftonline.com (`_get_instance_metadata` ignores `instance_discovery`), so
    tests that draw an error turn discovery off to stay on loopback."""
    return msal.ConfidentialClientApplication(
        MULTI_TENANT_APP_ID,
        authority=f"{entra.url}/{tenant}",
        client_credential=credential,
        instance_discovery=entra.instance_discovery_url if discovery else False,
    )


def test_a_client_assertion_of_the_identity_token_gets_a_token_for_that_tenant(
    identity: ManagedIdentityStandIn, entra: EntraStandIn
) -> None:
    token = app_credential(CONTOSO).get_token(GRAPH_SCOPE)

    claims = claims_of(token.token)
    assert claims["tid"] == CONTOSO
    assert claims["aud"] == "https://graph.microsoft.com"
    assert claims["appid"] == claims["azp"] == MULTI_TENANT_APP_ID
    assert claims["roles"] == ["Reports.Read.All", "AuditLog.Read.All"]
    assert entra.tokens_issued == [token.token]
    [request] = entra.token_requests
    assert request.tenant == CONTOSO
    assert request.grant_type == "client_credentials"
    assert request.client_id == MULTI_TENANT_APP_ID
    assert request.scope == GRAPH_SCOPE
    assert request.client_assertion_type == JWT_BEARER
    assert request.client_assertion in identity.tokens_issued
    assert claims_of(request.client_assertion)["aud"] == ASSERTION_AUDIENCE
    assert not request.sent_client_secret
    # azure-identity posts straight to the token endpoint: no discovery request.
    assert [(r.method, r.path) for r in entra.requests] == [
        ("POST", f"/{CONTOSO}/oauth2/v2.0/token")
    ]


def test_msal_discovers_the_stand_in_as_it_does_entra_then_gets_a_token(
    entra: EntraStandIn,
) -> None:
    app = msal_app(entra, CONTOSO, {"client_assertion": identity_assertion}, discovery=True)

    result = app.acquire_token_for_client([GRAPH_SCOPE])

    assert result["token_type"] == "Bearer", result
    assert claims_of(result["access_token"])["tid"] == CONTOSO
    assert [(r.method, r.path) for r in entra.requests] == [
        ("GET", "/common/discovery/instance"),
        ("GET", f"/{CONTOSO}/v2.0/.well-known/openid-configuration"),
        ("POST", f"/{CONTOSO}/oauth2/v2.0/token"),
    ]


def test_a_tenant_without_consent_answers_that_the_app_is_not_in_its_directory(
    entra: EntraStandIn,
) -> None:
    app = msal_app(entra, FABRIKAM, {"client_assertion": identity_assertion})

    result = app.acquire_token_for_client([GRAPH_SCOPE])

    assert result["error"] == "unauthorized_client"
    assert result["error_codes"] == [700016]
    assert result["error_description"].startswith(
        f"AADSTS700016: Application with identifier '{MULTI_TENANT_APP_ID}' was not found in "
        f"the directory '{FABRIKAM}'."
    )
    assert {"timestamp", "trace_id", "correlation_id", "error_uri"} <= set(result)
    assert "access_token" not in result
    assert entra.tokens_issued == []
    assert [(r.method, r.path) for r in entra.requests] == [
        ("GET", f"/{FABRIKAM}/v2.0/.well-known/openid-configuration"),
        ("POST", f"/{FABRIKAM}/oauth2/v2.0/token"),
    ]


def test_consent_revoked_at_runtime_refuses_the_next_request_and_granted_again_serves_it(
    entra: EntraStandIn,
) -> None:
    assert claims_of(app_credential(CONTOSO).get_token(GRAPH_SCOPE).token)["tid"] == CONTOSO
    entra.revoke_consent(CONTOSO)
    with pytest.raises(ClientAuthenticationError, match="AADSTS700016") as refused:
        app_credential(CONTOSO).get_token(GRAPH_SCOPE)
    assert refused.value.response is not None and refused.value.response.status_code == 400

    entra.grant_consent(CONTOSO)
    assert claims_of(app_credential(CONTOSO).get_token(GRAPH_SCOPE).token)["tid"] == CONTOSO
    assert [r.tenant for r in entra.token_requests] == [CONTOSO] * 3
    assert len(entra.tokens_issued) == 2


def test_the_newer_missing_service_principal_answer_is_a_401_invalid_client(
    identity: ManagedIdentityStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    with EntraStandIn(missing_consent=7000229) as entra:
        for name, value in entra.environ.items():
            monkeypatch.setenv(name, value)
        with pytest.raises(ClientAuthenticationError, match="AADSTS7000229") as refused:
            app_credential(FABRIKAM).get_token(GRAPH_SCOPE)
    assert refused.value.response is not None and refused.value.response.status_code == 401
    assert "(invalid_client)" in str(refused.value)


def test_a_client_secret_is_refused_and_never_kept(entra: EntraStandIn) -> None:
    secret = "Xy8Q~not-a-real-secret-but-shaped-like-one"

    result = msal_app(entra, CONTOSO, secret).acquire_token_for_client([GRAPH_SCOPE])

    assert result["error"] == "invalid_client"
    assert result["error_codes"] == [7000215]
    [request] = entra.token_requests
    assert request.sent_client_secret and request.client_assertion is None
    assert secret not in repr(entra.token_requests)
    assert entra.tokens_issued == []


def test_an_identity_token_for_another_audience_is_no_federated_credential(
    entra: EntraStandIn,
) -> None:
    def management_token() -> str:
        return ManagedIdentityCredential().get_token("https://management.azure.com/.default").token

    credential = ClientAssertionCredential(CONTOSO, MULTI_TENANT_APP_ID, func=management_token)
    with pytest.raises(
        ClientAuthenticationError, match=r"AADSTS700212.*https://management\.azure\.com"
    ):
        credential.get_token(GRAPH_SCOPE)
    assert entra.tokens_issued == []


def test_only_the_identity_tokens_are_accepted_when_the_stand_in_is_given_them(
    entra: EntraStandIn,
) -> None:
    # The right claims, but not a token the managed identity issued.
    forged = identity_assertion().rsplit(".", 1)[0] + ".forged"

    credential = ClientAssertionCredential(CONTOSO, MULTI_TENANT_APP_ID, func=lambda: forged)
    with pytest.raises(ClientAuthenticationError, match="AADSTS700213"):
        credential.get_token(GRAPH_SCOPE)


def test_without_a_list_of_tokens_the_assertion_claims_are_checked(
    identity: ManagedIdentityStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    with EntraStandIn(consented={CONTOSO}, home_tenant=FABRIKAM) as entra:
        for name, value in entra.environ.items():
            monkeypatch.setenv(name, value)
        # The identity lives in another tenant than the app: no federated record for its issuer.
        with pytest.raises(ClientAuthenticationError, match="AADSTS700211"):
            app_credential(CONTOSO).get_token(GRAPH_SCOPE)
        entra.home_tenant = identity.tenant_id
        assert claims_of(app_credential(CONTOSO).get_token(GRAPH_SCOPE).token)["tid"] == CONTOSO


def test_client_credentials_need_a_default_scope(entra: EntraStandIn) -> None:
    with pytest.raises(ClientAuthenticationError, match="AADSTS1002012"):
        app_credential(CONTOSO).get_token("https://graph.microsoft.com/Reports.Read.All")


def test_it_serves_https_only_to_clients_that_trust_its_throwaway_ca(entra: EntraStandIn) -> None:
    discovery = f"{entra.url}/{CONTOSO}/v2.0/.well-known/openid-configuration"
    assert entra.url.startswith("https://127.0.0.1:")

    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx.get(discovery, trust_env=False)  # certifi's roots only: the CA is not among them
    trusted = httpx.get(discovery)  # SSL_CERT_FILE, from the stand-in's environ

    assert trusted.json()["token_endpoint"] == f"{entra.url}/{CONTOSO}/oauth2/v2.0/token"


def test_instance_discovery_refuses_an_authority_it_is_not(entra: EntraStandIn) -> None:
    answer = httpx.get(
        entra.instance_discovery_url,
        params={
            "api-version": "1.1",
            "authorization_endpoint": "https://evil.example/x/oauth2/v2.0/authorize",
        },
        verify=ssl.create_default_context(cafile=entra.ca_file),
    )

    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_instance"
