"""Read a Key Vault secret with the app's own identity: one small REST call, no SDK.

    GET {KEY_VAULT_URL}/secrets/{name}?api-version=7.4
    Authorization: Bearer <the identity's token for https://vault.azure.net>

answers 200 with a SecretBundle (`value`, `id`, `attributes`), or an error body
`{"error": {"code": ..., "message": ...}}`: 404 `SecretNotFound`, 403 `Forbidden` (the identity
lacks the Key Vault Secrets User role), 401 (no or a wrong token)
(https://learn.microsoft.com/rest/api/keyvault/secrets/get-secret/get-secret,
https://learn.microsoft.com/azure/key-vault/general/rest-error-codes). The token's audience is
the vault's cloud, `https://vault.azure.net` in the public cloud: for a national cloud it is
taken from KEY_VAULT_URL's own domain (`https://<vault>.vault.azure.cn` → `https://vault.azure.cn`),
as Microsoft lists them (https://learn.microsoft.com/azure/key-vault/general/about-keys-secrets-certificates#dns-suffixes-for-object-identifiers).

azure-keyvault-secrets would do the same with one more dependency; the app reads one secret
per tenant every few minutes at most, so the request is made here, through the App's httpx
client and credential.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

import httpx
from azure.core.credentials import TokenCredential
from azure.core.exceptions import AzureError

from shared import redaction
from shared.errors import SecretError

API_VERSION = "7.4"
PUBLIC_VAULT_AUDIENCE = "https://vault.azure.net"
# Key Vault's DNS suffixes: the public cloud, China, US Government (the domain after the vault).
VAULT_DOMAINS = ("vault.azure.net", "vault.azure.cn", "vault.usgovcloudapi.net")
# Key Vault's secret names: 1-127 letters, digits and dashes.
SECRET_NAME = re.compile(r"^[0-9A-Za-z-]{1,127}$")
# What to do, by Key Vault's answer.
_ADVICE = {
    401: "Key Vault refused the identity's token: check KEY_VAULT_URL names the vault's cloud",
    403: (
        "give the function app's identity the Key Vault Secrets User role on the vault "
        "(infra/main.bicep grants it on the vault it creates)"
    ),
    404: "create the secret in that vault, or correct the tenant's WebhookSecret",
}


def vault_audience(vault_url: str) -> str:
    """The token audience for `vault_url`: its cloud's Key Vault resource."""
    host = (urlsplit(vault_url).hostname or "").lower()
    for domain in VAULT_DOMAINS:
        if host.endswith("." + domain):
            return f"https://{domain}"
    return PUBLIC_VAULT_AUDIENCE  # a stand-in on loopback, or a private endpoint's own name


class KeyVaultSecrets:
    def __init__(self, *, vault_url: str, credential: TokenCredential, http: httpx.Client) -> None:
        self.vault_url = vault_url.rstrip("/")
        self._scope = f"{vault_audience(vault_url)}/.default"
        self._credential = credential
        self._http = http

    def get_secret(self, name: str) -> str:
        """The secret's current value (registered with the log scrubber); SecretError saying
        what failed and what to do."""
        where = f"Key Vault secret {name!r} in {self.vault_url}"
        if not SECRET_NAME.match(name):
            raise SecretError(f"{where}: not a Key Vault secret name (1-127 letters, digits, -)")
        try:
            token = self._credential.get_token(self._scope).token
        except AzureError as exc:
            raise SecretError(f"{where}: no token for {self._scope} ({_first_line(exc)})") from exc
        redaction.register_secret(token)
        url = f"{self.vault_url}/secrets/{quote(name, safe='')}"
        try:
            response = self._http.get(
                url,
                params={"api-version": API_VERSION},
                headers={"Authorization": f"Bearer {token}"},
            )
        except httpx.HTTPError as exc:
            raise SecretError(f"{where}: the vault could not be reached ({exc})") from exc
        if response.status_code != 200:
            code = _error_code(response)
            advice = _ADVICE.get(response.status_code, "Key Vault answered with an error")
            raise SecretError(f"{where}: HTTP {response.status_code} {code}: {advice}")
        try:
            value = response.json()["value"]
        except (ValueError, KeyError, TypeError) as exc:
            raise SecretError(f"{where}: the answer has no secret value") from exc
        if not isinstance(value, str) or not value:
            raise SecretError(f"{where}: the secret is empty")
        redaction.register_secret(value)
        return value


def _error_code(response: httpx.Response) -> str:
    try:
        error = response.json()["error"]
        return str(error.get("code") or "")[:100]
    except (ValueError, KeyError, TypeError, AttributeError):
        return ""


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
