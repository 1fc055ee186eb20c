"""One credential per customer tenant, and no secret anywhere.

The multi-tenant app registration (MULTI_TENANT_APP_ID) trusts the function app's managed
identity as its federated identity credential: for each tenant, ClientAssertionCredential asks
Entra for that tenant's token as the app, with the identity's token for
`api://AzureADTokenExchange` as the client assertion
(https://learn.microsoft.com/entra/workload-id/workload-identity-federation-config-app-trust-managed-identity).
Built on first use and kept for the worker's life, so each token cache survives invocations.

A refusal is a CredentialError naming the tenant; if Entra does not know the app there (consent
never given, or revoked), with that tenant's admin-consent URL. Messages carry Entra's first
line only (ids and codes, never a token).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from azure.core.credentials import AccessToken, TokenCredential
from azure.core.exceptions import AzureError, ClientAuthenticationError
from azure.identity import ClientAssertionCredential

from shared import redaction
from shared.errors import CredentialError

ASSERTION_SCOPE = "api://AzureADTokenExchange/.default"
PUBLIC_CLOUD = "https://login.microsoftonline.com"
# Entra's answers for an app that has no service principal in the tenant: not found in the
# directory (700016), missing service principal (7000229), consent required (65001).
_NO_CONSENT = frozenset({700016, 7000229, 65001})
# The federated credential does not match the assertion's issuer, audience or subject.
_NO_FEDERATION = frozenset({700211, 700212, 700213})


def authority_host(environ: Mapping[str, str]) -> str:
    """The Entra authority as azure-identity reads it: AZURE_AUTHORITY_HOST (a national cloud,
    a stand-in), https assumed without a scheme; the public cloud by default."""
    host = (environ.get("AZURE_AUTHORITY_HOST") or PUBLIC_CLOUD).strip().rstrip("/")
    return host if "://" in host else f"https://{host}"


def admin_consent_url(tenant_id: str, app_id: str, *, authority: str = PUBLIC_CLOUD) -> str:
    """Where an admin of `tenant_id` grants the app tenant-wide consent (the URL Microsoft
    documents: https://learn.microsoft.com/entra/identity/enterprise-apps/grant-admin-consent)."""
    tenant, app = quote(tenant_id, safe=""), quote(app_id, safe="")
    return f"{authority.rstrip('/')}/{tenant}/adminconsent?client_id={app}"


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


class TenantCredential:
    """A TokenCredential for one tenant; every failure is a CredentialError naming it."""

    def __init__(
        self, tenant_id: str, *, app_id: str, identity: TokenCredential, authority: str
    ) -> None:
        self.tenant_id = tenant_id
        self._app_id = app_id
        self._identity = identity
        self._authority = authority
        # authority= from the value the consent URL uses: the two never name different clouds.
        self._credential = ClientAssertionCredential(
            tenant_id, app_id, func=self._assertion, authority=authority
        )

    def _assertion(self) -> str:
        try:
            token = self._identity.get_token(ASSERTION_SCOPE).token
        except AzureError as exc:
            raise CredentialError(
                f"tenant {self.tenant_id}: the managed identity gave no token for "
                f"{ASSERTION_SCOPE}, the client assertion of app {self._app_id} "
                f"({_first_line(exc)})"
            ) from exc
        redaction.register_secret(token)
        return token

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        try:
            token = self._credential.get_token(*scopes, **kwargs)
        except ClientAuthenticationError as exc:
            raise CredentialError(self._refusal(exc)) from exc
        except AzureError as exc:  # ServiceRequestError: Entra could not be reached
            raise CredentialError(
                f"tenant {self.tenant_id}: {self._authority} could not be reached for a token "
                f"as app {self._app_id} ({_first_line(exc)})"
            ) from exc
        redaction.register_secret(token.token)
        return token

    def _refusal(self, exc: ClientAuthenticationError) -> str:
        # Entra's description starts with its code (`AADSTS700016: ...`).
        codes = {int(code) for code in re.findall(r"AADSTS(\d+)", str(exc))}
        head = f"tenant {self.tenant_id}: Entra refused app {self._app_id} a token"
        if codes & _NO_CONSENT:
            url = admin_consent_url(self.tenant_id, self._app_id, authority=self._authority)
            return (
                f"{head}: the app's consent in this tenant is missing or was revoked; "
                f"an admin of the tenant grants it at {url} ({_first_line(exc)})"
            )
        if codes & _NO_FEDERATION:
            return (
                f"{head}: the app's federated identity credential does not match the managed "
                f"identity's token (issuer, subject, audience api://AzureADTokenExchange) "
                f"({_first_line(exc)})"
            )
        return f"{head} ({_first_line(exc)})"

    def close(self) -> None:
        self._credential.close()


class TenantCredentials:
    """Each tenant's credential, built on first use and kept until `close()` (thread-safe)."""

    def __init__(
        self, *, app_id: str, identity: TokenCredential, environ: Mapping[str, str]
    ) -> None:
        self.app_id = app_id
        self.authority = authority_host(environ)
        self._identity = identity
        self._credentials: dict[str, TenantCredential] = {}
        self._lock = threading.Lock()

    def for_tenant(self, tenant_id: str) -> TenantCredential:
        with self._lock:
            credential = self._credentials.get(tenant_id)
            if credential is None:
                credential = self._credentials[tenant_id] = self.new(tenant_id)
            return credential

    def new(self, tenant_id: str) -> TenantCredential:
        """A credential for `tenant_id` that the caller keeps and closes (the fleet's LRU)."""
        return TenantCredential(
            tenant_id, app_id=self.app_id, identity=self._identity, authority=self.authority
        )

    def consent_url(self, tenant_id: str) -> str:
        return admin_consent_url(tenant_id, self.app_id, authority=self.authority)

    def close(self) -> None:
        with self._lock:
            credentials, self._credentials = list(self._credentials.values()), {}
        for credential in credentials:
            credential.close()
