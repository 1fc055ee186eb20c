"""A loopback Microsoft Entra token endpoint, on https, for a multi-tenant app whose federated
identity credential is the function app's managed identity.

The app never holds a secret: it asks each customer tenant for a token with the client
credentials grant, authenticating with a *client assertion* that is the managed identity's own
token for `api://AzureADTokenExchange` ("third case: access token request with a federated
credential", https://learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow;
the trust: https://learn.microsoft.com/entra/workload-id/workload-identity-federation-config-app-trust-managed-identity).

    POST /{tenant}/oauth2/v2.0/token   grant_type=client_credentials, client_id,
                                       scope=<resource>/.default, client_assertion,
                                       client_assertion_type=urn:...:jwt-bearer
    GET  /{tenant}/v2.0/.well-known/openid-configuration      (msal's tenant discovery)
    GET  /common/discovery/instance?authorization_endpoint=…  (msal's instance discovery)

azure-identity's ClientAssertionCredential posts straight to `{AZURE_AUTHORITY_HOST}/{tenant}/
oauth2/v2.0/token` and makes no discovery request; msal makes both first, and sends instance
discovery to login.microsoftonline.com for any host it does not know unless it is given
`instance_discovery=` (this stand-in's `instance_discovery_url`) or False.

Answers take the shapes Entra gives (`standins.entra_answers`, with their sources): a token
is `{"token_type":"Bearer","expires_in":…,"ext_expires_in":…,"access_token":…}`; an error is
`{"error","error_description":"AADSTS…: …\\r\\nTrace ID: …","error_codes":[…],"timestamp",
"trace_id","correlation_id","error_uri"}`, status 400 (401 for a refused client secret). A
tenant without consent answers as Entra does for an app it does not know: 400
`unauthorized_client` AADSTS700016 (or, `missing_consent=7000229`, the newer 401 `invalid_client`
"missing service principal"). Checks run in the order a request needs them: the app in the
tenant, then its credential (no secret; an assertion the federated credential matches), then
the scope.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from standins.entra_answers import (
    ASSERTION_AUDIENCE,
    claims_of,
    error_body,
    instance_metadata,
    openid_configuration,
    token_response,
)
from standins.loopback import Reply, Request, Script
from standins.managed_identity import TENANT_ID as IDENTITY_TENANT_ID
from standins.tls import HttpsLoopbackServer

__all__ = ["ASSERTION_AUDIENCE", "JWT_BEARER", "MULTI_TENANT_APP_ID", "EntraStandIn", "claims_of"]

MULTI_TENANT_APP_ID = "0b7e4c2d-5a61-4f38-9d2e-8c1a3f5b7d90"
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
GRAPH_ROLES = ("Reports.Read.All", "AuditLog.Read.All")

# An answer instead of a token: HTTP status, OAuth error, AADSTS code, what fills its text.
_Refusal = tuple[int, str, int, dict[str, Any]]


@dataclass(frozen=True)
class TokenRequest:
    """One POST to a token endpoint, as sent (whatever was answered). A client secret is
    recorded only as having been sent, never kept."""

    tenant: str
    grant_type: str | None
    client_id: str | None
    scope: str | None
    client_assertion_type: str | None
    client_assertion: str | None
    sent_client_secret: bool


class EntraStandIn(HttpsLoopbackServer):
    """Entra for one multi-tenant app (`app_id`), registered in `home_tenant` with the managed
    identity of that tenant as its federated credential.

    - `consented`: the tenants where an admin consented (the app's service principal exists);
      change at runtime with `grant_consent` / `revoke_consent`.
    - `assertions`: if given, the only client assertions accepted (pass the managed-identity
      stand-in's live `tokens_issued`); otherwise any unexpired assertion whose `aud` is
      `api://AzureADTokenExchange` and whose `tid` is `home_tenant`.
    - `script`: replies to give before the defaults (a 500, a 429), as the other stand-ins.
    """

    def __init__(
        self,
        *,
        app_id: str = MULTI_TENANT_APP_ID,
        home_tenant: str = IDENTITY_TENANT_ID,
        consented: Iterable[str] = (),
        assertions: Collection[str] | None = None,
        roles: Iterable[str] = GRAPH_ROLES,
        missing_consent: int = 700016,
        token_lifetime: int = 3599,
    ) -> None:
        self.app_id = app_id
        self.home_tenant = home_tenant
        self.assertions = assertions
        self.roles = list(roles)
        self.missing_consent = missing_consent
        self.token_lifetime = token_lifetime
        self.tokens_issued: list[str] = []
        self._consented = set(consented)
        self._lock = threading.Lock()
        self.script = Script(self._default)
        super().__init__(self.script)

    # --- what tests and the local cycle use -------------------------------------------------

    @property
    def environ(self) -> dict[str, str]:
        """What a client needs to use this stand-in: the authority host and trust in its CA."""
        return {
            "AZURE_AUTHORITY_HOST": self.url,
            "SSL_CERT_FILE": self.ca_file,
            "REQUESTS_CA_BUNDLE": self.ca_file,
        }

    @property
    def instance_discovery_url(self) -> str:
        return f"{self.url}/common/discovery/instance"

    def grant_consent(self, tenant: str) -> None:
        with self._lock:
            self._consented.add(tenant)

    def revoke_consent(self, tenant: str) -> None:
        with self._lock:
            self._consented.discard(tenant)

    @property
    def consented(self) -> frozenset[str]:
        with self._lock:
            return frozenset(self._consented)

    @property
    def token_requests(self) -> list[TokenRequest]:
        """Every POST to a token endpoint, in order, scripted answers included."""
        found = []
        for request in list(self.requests):
            tenant = _token_tenant(request)
            if tenant is None or request.method != "POST":
                continue
            form = {k: v[0] for k, v in parse_qs(request.body.decode()).items()}
            found.append(
                TokenRequest(
                    tenant=tenant,
                    grant_type=form.get("grant_type"),
                    client_id=form.get("client_id"),
                    scope=form.get("scope"),
                    client_assertion_type=form.get("client_assertion_type"),
                    client_assertion=form.get("client_assertion"),
                    sent_client_secret="client_secret" in form,
                )
            )
        return found

    # --- answers ------------------------------------------------------------------------------

    def _default(self, request: Request) -> Reply:
        parts = request.path.strip("/").split("/")
        if request.method == "POST" and _token_tenant(request) is not None:
            return self._token(request, parts[0])
        if request.method == "GET" and parts[1:] == ["v2.0", ".well-known", "openid-configuration"]:
            return Reply(200, openid_configuration(self.url, parts[0]))
        if request.method == "GET" and parts == ["common", "discovery", "instance"]:
            return self._instance_discovery(request)
        return Reply(404, {"error": "not_found", "error_description": request.path})

    def _token(self, request: Request, tenant: str) -> Reply:
        form = {k: v[0] for k, v in parse_qs(request.body.decode()).items()}
        refused = self._refusal(form, tenant)
        if refused is not None:
            return self._error(request, *refused)
        resource = form["scope"].removesuffix("/.default")
        return Reply(200, self._issue(tenant, resource))

    def _refusal(self, form: dict[str, str], tenant: str) -> _Refusal | None:
        """What Entra answers instead of a token, in the order it checks, or None."""
        app = form.get("client_id", "")
        fields: dict[str, Any] = {"tenant": tenant, **form}
        if form.get("grant_type") != "client_credentials":
            return 400, "unsupported_grant_type", 70003, fields
        if app != self.app_id or tenant not in self.consented:
            if self.missing_consent == 7000229 and app == self.app_id:
                return 401, "invalid_client", 7000229, fields
            return 400, "unauthorized_client", 700016, fields
        if "client_secret" in form:  # the app has no secret: whatever is sent is not one of its
            return 401, "invalid_client", 7000215, fields
        assertion = form.get("client_assertion")
        if not assertion or form.get("client_assertion_type") != JWT_BEARER:
            return 401, "invalid_client", 7000218, fields
        try:
            claims = claims_of(assertion)
        except (IndexError, ValueError):
            return 400, "invalid_request", 50027, fields
        fields.update(aud=claims.get("aud"), tid=claims.get("tid"))
        if self.assertions is not None and assertion not in self.assertions:
            return 400, "invalid_client", 700213, fields
        if claims.get("aud") != ASSERTION_AUDIENCE:
            return 400, "invalid_client", 700212, fields
        if claims.get("tid") != self.home_tenant:
            return 400, "invalid_client", 700211, fields
        if int(claims.get("exp", 0)) <= time.time():
            return 400, "invalid_client", 700024, fields
        scope = form.get("scope", "")
        if not scope.endswith("/.default") or " " in scope:
            return 400, "invalid_scope", 1002012, fields
        return None

    def _issue(self, tenant: str, resource: str) -> dict[str, Any]:
        answer = token_response(
            tenant=tenant,
            app_id=self.app_id,
            resource=resource,
            roles=self.roles,
            lifetime=self.token_lifetime,
        )
        self.tokens_issued.append(answer["access_token"])
        return answer

    def _instance_discovery(self, request: Request) -> Reply:
        parts = urlsplit(request.query.get("authorization_endpoint", [""])[0])
        if parts.scheme != "https" or parts.hostname not in ("127.0.0.1", "localhost"):
            return self._error(request, 400, "invalid_instance", 50049, {})
        tenant = parts.path.strip("/").split("/")[0]
        return Reply(200, instance_metadata(self.url, tenant))

    def _error(
        self, request: Request, status: int, error: str, code: int, fields: dict[str, Any]
    ) -> Reply:
        correlation = request.headers.get("client-request-id") or str(uuid.uuid4())
        body = error_body(error, code, fields, authority=self.url, correlation_id=correlation)
        return Reply(status, body)


def _token_tenant(request: Request) -> str | None:
    """The tenant of a token endpoint path (`/{tenant}/oauth2/v2.0/token`), else None."""
    parts = request.path.strip("/").split("/")
    if len(parts) == 4 and parts[1:] == ["oauth2", "v2.0", "token"]:
        return parts[0]
    return None
