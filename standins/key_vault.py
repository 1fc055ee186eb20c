"""A loopback Azure Key Vault answering `Get Secret` as its REST API documents it.

    GET /secrets/{name}?api-version=7.4   Authorization: Bearer <token for https://vault.azure.net>

200: a SecretBundle `{"value", "id", "attributes": {"enabled", "created", "updated",
"recoveryLevel"}}` (https://learn.microsoft.com/rest/api/keyvault/secrets/get-secret/get-secret).
Errors are Key Vault's `{"error": {"code", "message"}}`
(https://learn.microsoft.com/azure/key-vault/general/rest-error-codes): 401 `Unauthorized` with
its `WWW-Authenticate: Bearer authorization=..., resource=...` challenge when there is no
token or it is for another audience, 403 `Forbidden` when the identity has no role on the
vault (`permitted=False`), 404 `SecretNotFound` for a secret that does not exist, 400
`BadParameter` without `api-version`.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from standins.loopback import LoopbackServer, Reply, Request, Script

VAULT_AUDIENCE = "https://vault.azure.net"
_CHALLENGE = (
    'Bearer authorization="https://login.microsoftonline.com/common", '
    'resource="https://vault.azure.net"'
)


def _error(status: int, code: str, message: str, **headers: str) -> Reply:
    return Reply(status, {"error": {"code": code, "message": message}}, headers)


def _audience(authorization: str) -> str | None:
    try:
        payload = authorization.removeprefix("Bearer ").split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError, binascii.Error):
        return None
    aud = claims.get("aud") if isinstance(claims, dict) else None
    return aud.rstrip("/") if isinstance(aud, str) else None


class KeyVaultStandIn(LoopbackServer):
    """`secrets`: name → value (Key Vault's names are case-insensitive)."""

    def __init__(self, secrets: dict[str, str] | None = None) -> None:
        self.secrets = {name.lower(): value for name, value in (secrets or {}).items()}
        self.permitted = True
        self.script = Script(self._default)
        super().__init__(self.script)

    def set_secret(self, name: str, value: str) -> None:
        self.secrets[name.lower()] = value

    def _default(self, request: Request) -> Reply:
        authorization = request.headers.get("authorization", "")
        if not authorization.startswith("Bearer ") or _audience(authorization) != VAULT_AUDIENCE:
            return _error(
                401,
                "Unauthorized",
                "AKV10000: Request is missing a Bearer or PoP token.",
                **{"WWW-Authenticate": _CHALLENGE},
            )
        if "api-version" not in request.query:
            return _error(400, "BadParameter", "The request URI must contain an api-version.")
        parts = request.path.strip("/").split("/")
        if request.method != "GET" or len(parts) != 2 or parts[0] != "secrets":
            return _error(404, "NotFound", "The requested resource was not found.")
        if not self.permitted:
            return _error(
                403,
                "Forbidden",
                "Caller is not authorized to perform action on resource. "
                "Action: 'Microsoft.KeyVault/vaults/secrets/getSecret/action'",
            )
        name = parts[1]
        value = self.secrets.get(name.lower())
        if value is None:
            return _error(
                404,
                "SecretNotFound",
                f"A secret with (name/id) {name} was not found in this key vault. If you "
                "recently deleted this secret you may be able to recover it using the correct "
                "recovery command.",
            )
        return Reply(200, self._bundle(name, value))

    def _bundle(self, name: str, value: str) -> dict[str, Any]:
        return {
            "value": value,
            "id": f"{self.url}/secrets/{name}/4387e9f3d6e14c459867679a90fd0f79",
            "attributes": {
                "enabled": True,
                "created": 1762063200,
                "updated": 1762063200,
                "recoveryLevel": "Recoverable+Purgeable",
            },
        }
