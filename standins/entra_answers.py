"""What Entra answers, as data: tokens, errors and discovery documents (no I/O).

Shapes from Entra's recorded answers (Azure/azure-sdk-for-js test recordings of
login.microsoftonline.com); AADSTS texts as Entra words them
(https://login.microsoftonline.com/error?code=<n>). `standins.entra` decides which to give.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
import uuid
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any

ASSERTION_AUDIENCE = "api://AzureADTokenExchange"

_FEDERATION = (
    "Please check your federated identity credential Subject, Audience and Issuer against the "
    "presented assertion."
)
# AADSTS texts as Entra words them (https://login.microsoftonline.com/error?code=<n>), filled
# from the request's form, its tenant, and the assertion's `aud` and `tid`.
_TEXTS = {
    70003: "The app requested an unsupported grant type '{grant_type}'.",
    700016: (
        "Application with identifier '{client_id}' was not found in the directory '{tenant}'. "
        "This can happen if the application has not been installed by the administrator of the "
        "tenant or consented to by any user in the tenant. You may have sent your "
        "authentication request to the wrong tenant."
    ),
    7000229: (
        "The client application {client_id} is missing service principal in the tenant "
        "{tenant}. See instructions here: https://go.microsoft.com/fwlink/?linkid=2225119"
    ),
    7000215: (
        "Invalid client secret provided. Ensure the secret being sent in the request is the "
        "client secret value, not the client secret ID, for a secret added to app '{client_id}'."
    ),
    7000218: (
        "The request body must contain the following parameter: 'client_assertion' or "
        "'client_secret'."
    ),
    50027: "JWT token is invalid or malformed.",
    50049: "Unknown or invalid instance.",
    700213: "No matching federated identity record found for presented assertion subject. "
    + _FEDERATION,
    700212: "No matching federated identity record found for presented assertion audience "
    "'{aud}'. " + _FEDERATION,
    700211: "No matching federated identity record found for presented assertion issuer "
    "'https://login.microsoftonline.com/{tid}/v2.0'. " + _FEDERATION,
    700024: "Client assertion is not within its valid time range.",
    1002012: (
        "The provided value for scope {scope} is not valid. Client credential flows must have a "
        "scope value with /.default suffixed to the resource identifier (application ID URI)."
    ),
}


class _Fields(dict[str, Any]):
    """What fills an AADSTS text; a parameter the request left out reads as empty."""

    def __missing__(self, key: str) -> str:
        return ""


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def claims_of(token: str) -> dict[str, Any]:
    """The payload of a JWT-shaped token, unverified (what a stand-in such as Graph reads)."""
    payload = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


def token_response(
    *, tenant: str, app_id: str, resource: str, roles: Iterable[str], lifetime: int
) -> dict[str, Any]:
    """A client-credentials token: an app-only v1 access token, JWT-shaped and unsigned like
    the managed-identity stand-in's."""
    now = int(time.time())
    principal = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{tenant}/{app_id}"))  # its SP, per tenant
    claims = {
        "aud": resource,
        "iss": f"https://sts.windows.net/{tenant}/",
        "iat": now,
        "nbf": now,
        "exp": now + lifetime,
        "appid": app_id,
        "azp": app_id,
        "appidacr": "2",  # authenticated with a certificate or client assertion
        "idtyp": "app",
        "oid": principal,
        "sub": principal,
        "roles": list(roles),
        "tid": tenant,
        "ver": "1.0",
    }
    token = f"{_b64({'typ': 'JWT', 'alg': 'none'})}.{_b64(claims)}.{secrets.token_hex(24)}"
    return {
        "token_type": "Bearer",
        "expires_in": lifetime,
        "ext_expires_in": lifetime,
        "access_token": token,
    }


def error_body(
    error: str, code: int, fields: dict[str, Any], *, authority: str, correlation_id: str
) -> dict[str, Any]:
    """Entra's error answer; `fields` fill the AADSTS text of `code`."""
    trace = str(uuid.uuid4())
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")
    return {
        "error": error,
        "error_description": (
            f"AADSTS{code}: {_TEXTS[code].format_map(_Fields(fields))}\r\nTrace ID: {trace}\r\n"
            f"Correlation ID: {correlation_id}\r\nTimestamp: {stamp}"
        ),
        "error_codes": [code],
        "timestamp": stamp,
        "trace_id": trace,
        "correlation_id": correlation_id,
        "error_uri": f"{authority}/error?code={code}",
    }


def openid_configuration(authority: str, tenant: str) -> dict[str, Any]:
    """`GET /{tenant}/v2.0/.well-known/openid-configuration` (the fields msal reads, and more)."""
    base = f"{authority}/{tenant}"
    return {
        "token_endpoint": f"{base}/oauth2/v2.0/token",
        "token_endpoint_auth_methods_supported": [
            "client_secret_post",
            "private_key_jwt",
            "client_secret_basic",
        ],
        "jwks_uri": f"{base}/discovery/v2.0/keys",
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": f"{base}/v2.0",
        "request_uri_parameter_supported": False,
        "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
        "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
        "end_session_endpoint": f"{base}/oauth2/v2.0/logout",
        "tenant_region_scope": "WW",
        "cloud_instance_name": "microsoftonline.com",
    }


def instance_metadata(authority: str, tenant: str) -> dict[str, Any]:
    """`GET /common/discovery/instance`: this host is its own, only, alias."""
    host = authority.split("://", 1)[1]
    return {
        "tenant_discovery_endpoint": (
            f"{authority}/{tenant}/v2.0/.well-known/openid-configuration"
        ),
        "api-version": "1.1",
        "metadata": [{"preferred_network": host, "preferred_cache": host, "aliases": [host]}],
    }
