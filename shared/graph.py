"""Microsoft Graph: fetch the credential registration report with the app's identity.

Graph's identity reports are throttled hard (about 5 requests per 10 s per app and tenant), so
429/5xx answers and transport failures are retried within bounds (`shared.retry`), honouring
Retry-After. 4xx answers are never retried: they fail at once with Graph's error code, its
message and the request-id, plus what an admin can do about it. Decisions branch on the error
`code`, never on the wording of `message`.

The bearer token goes only to GRAPH_ENDPOINT: redirects are not followed, so a redirecting
server cannot lead the token to another host.
"""

from __future__ import annotations

import base64
import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from azure.core.credentials import TokenCredential
from azure.core.exceptions import AzureError, ClientAuthenticationError
from azure.identity import CredentialUnavailableError

from shared import redaction
from shared.errors import CredentialError, GraphError
from shared.report import Report, parse_report
from shared.retry import RetryPolicy, call_with_retries
from shared.snapshot import SOURCE_API

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})

_PERMISSION = (
    "the app's identity lacks the Microsoft Graph application permission Reports.Read.All "
    "(or it was never consented): grant it as the README's 'Grant the Graph permission' shows"
)
_ADVICE_BY_CODE = {
    "Authentication_RequestFromNonPremiumTenantOrB2CTenant": (
        "the tenant needs Microsoft Entra ID P1 or P2 for this report (B2C tenants have none). "
        "This code is also seen transiently on licensed tenants: if yours has P1/P2, the next "
        "run will likely succeed"
    ),
    "Authentication_MSGraphPermissionMissing": _PERMISSION,
    "Authorization_RequestDenied": _PERMISSION,
}
_ADVICE_BY_STATUS = {
    400: "Graph rejected the request",
    401: _PERMISSION,
    403: _PERMISSION,
    404: "Graph has no such report here: check GRAPH_ENDPOINT (national clouds have their own)",
}


@dataclass(frozen=True)
class FetchedReport:
    tenant_id: str
    report: Report


class GraphReportClient:
    def __init__(
        self,
        *,
        endpoint: str,
        credential: TokenCredential,
        http: httpx.Client,
        policy: RetryPolicy,
        sleep: Callable[[float], None],
        clock: Callable[[], datetime],
    ) -> None:
        self._endpoint = endpoint.rstrip("/")
        self._credential = credential
        self._http = http
        self._policy = policy
        self._sleep = sleep
        self._clock = clock

    def fetch_report(self) -> FetchedReport:
        """Fetch and validate the tenant's report; raise CredentialError, GraphError or
        ReportFormatError (nothing is returned that was not fully validated)."""
        token = self._token()
        url = f"{self._endpoint}/{SOURCE_API}"
        # One id for all attempts, so Microsoft support can follow the whole exchange.
        client_request_id = str(uuid.uuid4())
        headers = {
            "Authorization": f"Bearer {token}",
            "Accept": "application/json",
            "client-request-id": client_request_id,
        }
        attempts = call_with_retries(
            lambda: self._http.get(url, headers=headers, follow_redirects=False),
            what="Graph report",
            retry_statuses=RETRY_STATUSES,
            policy=self._policy,
            sleep=self._sleep,
            clock=self._clock,
        )
        tries = attempts.tries
        response = attempts.response
        if response is None:
            raise GraphError(
                f"Graph could not be reached at {self._endpoint} {tries}: "
                f"{type(attempts.error).__name__} ({attempts.error}); client-request-id "
                f"{client_request_id}",
                retryable=True,
            ) from attempts.error
        request_id = response.headers.get("request-id")
        if response.is_redirect:
            raise GraphError(
                f"Graph answered with a redirect to {response.headers.get('Location', '?')!r}, "
                "which is not followed so the token stays with GRAPH_ENDPOINT",
                status=response.status_code,
                request_id=request_id,
            )
        if response.status_code != 200:
            raise _graph_error(response, tries)
        log.info(
            "Graph report received (HTTP 200, request-id %s, client-request-id %s)",
            request_id,
            client_request_id,
        )
        return FetchedReport(tenant_id=_tenant_of(token), report=parse_report(response.content))

    def _token(self) -> str:
        scope = f"{self._endpoint}/.default"
        try:
            token = self._credential.get_token(scope).token
        except CredentialUnavailableError as exc:
            raise CredentialError(
                "no managed identity is available to this app: turn on the function app's "
                "system-assigned identity, or assign a user-assigned identity and set "
                f"AZURE_CLIENT_ID to its client id ({_first_line(exc)})"
            ) from exc
        except ClientAuthenticationError as exc:
            raise CredentialError(
                f"the managed identity did not issue a token for {scope}: {_first_line(exc)}"
            ) from exc
        except AzureError as exc:  # ServiceRequestError: the identity endpoint is unreachable
            raise CredentialError(
                f"the managed identity endpoint could not be reached to get a token for {scope}: "
                f"{_first_line(exc)}"
            ) from exc
        redaction.register_secret(token)
        return token


def _graph_error(response: httpx.Response, tries: str) -> GraphError:
    code, message = _error_body(response)
    status = response.status_code
    retryable = status in RETRY_STATUSES
    advice = _ADVICE_BY_CODE.get(code or "") or _ADVICE_BY_STATUS.get(status)
    if retryable:
        advice = f"Graph kept failing {tries}; the next run will try again"
    return GraphError(
        f"Graph refused the report request: {advice or 'unexpected answer'}",
        status=status,
        code=code,
        graph_message=message,
        request_id=response.headers.get("request-id"),
        retryable=retryable,
    )


def _error_body(response: httpx.Response) -> tuple[str | None, str | None]:
    """Graph's `{"error": {"code", "message"}}`, if the body is that."""
    try:
        error = response.json().get("error")
    except (ValueError, AttributeError):
        return None, None
    if not isinstance(error, dict):
        return None, None
    code, message = error.get("code"), error.get("message")
    return (
        code if isinstance(code, str) else None,
        message[:500] if isinstance(message, str) else None,
    )


def _tenant_of(token: str) -> str:
    """The `tid` claim of the access token: which tenant this report describes."""
    try:
        payload = token.split(".")[1]
        claims: Any = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        tenant = claims["tid"]
    except (IndexError, ValueError, KeyError, TypeError) as exc:
        raise CredentialError(
            "the access token carries no tenant id (tid claim); is it a Microsoft Entra token?"
        ) from exc
    if not isinstance(tenant, str) or not tenant:
        raise CredentialError("the access token's tid claim is empty")
    return tenant


def _first_line(exc: Exception) -> str:
    text = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    return text.strip().splitlines()[0][:300]
