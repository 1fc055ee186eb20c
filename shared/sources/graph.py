"""Microsoft Graph: fetch the credential registration report with the app's identity.

Graph's identity reports are throttled hard (about 5 requests per 10 s per app and tenant), so
429/5xx answers and transport failures are retried within bounds (`shared.retry`), honouring
Retry-After. 4xx answers are never retried: they fail at once with Graph's error code, its
message and the request-id, plus what an admin can do about it. Decisions branch on the error
`code`, never on the wording of `message`.

The bearer token goes only to GRAPH_ENDPOINT: redirects are not followed, so a redirecting
server cannot lead the token to another host.

`acquire_token`, `get_with_retries` and `graph_error` are shared with the v1.0 source
(`shared.sources.graph_details`), so both report sources get tokens, retry and explain
Graph's errors the same way.
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
from shared.core.report import Report, parse_report
from shared.core.snapshot import SOURCE_API
from shared.errors import CredentialError, GraphError
from shared.retry import RetryPolicy, call_with_retries

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})

_PERMISSION = (
    "the app's identity lacks the Microsoft Graph application permission {permission} "
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


def _advice(code: str | None, status: int, permission: str) -> str | None:
    advice = _ADVICE_BY_CODE.get(code or "") or _ADVICE_BY_STATUS.get(status)
    return advice.format(permission=permission) if advice else None


@dataclass(frozen=True)
class FetchedReport:
    tenant_id: str
    report: Report
    # Admins without MFA by UPN, at most a few, for the alert only (v1 source; never stored).
    admins_without_mfa: tuple[str, ...] = ()


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
        response, tries = get_with_retries(
            self._http,
            url,
            headers,
            what="Graph report",
            endpoint=self._endpoint,
            client_request_id=client_request_id,
            policy=self._policy,
            sleep=self._sleep,
            clock=self._clock,
        )
        request_id = response.headers.get("request-id")
        if response.status_code != 200:
            raise graph_error(response, tries)
        log.info(
            "Graph report received (HTTP 200, request-id %s, client-request-id %s)",
            request_id,
            client_request_id,
        )
        return FetchedReport(tenant_id=tenant_of(token), report=parse_report(response.content))

    def _token(self) -> str:
        return acquire_token(self._credential, self._endpoint)


def acquire_token(credential: TokenCredential, endpoint: str) -> str:
    """A Graph token from the app's identity (azure-identity caches and renews it), registered
    with the log scrubber; CredentialError saying what to do if there is none."""
    scope = f"{endpoint}/.default"
    try:
        token = credential.get_token(scope).token
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


def get_with_retries(
    http: httpx.Client,
    url: str,
    headers: dict[str, str],
    *,
    what: str,
    endpoint: str,
    client_request_id: str,
    policy: RetryPolicy,
    sleep: Callable[[float], None],
    clock: Callable[[], datetime],
    before_each: Callable[[], None] | None = None,
) -> tuple[httpx.Response, str]:
    """GET `url` within the retry policy; return the final answer (never a redirect) and how
    many attempts it took (`after 2 attempts`). `before_each` runs before every attempt (a
    pacer). Raise GraphError if Graph could not be reached or answered with a redirect."""

    def send() -> httpx.Response:
        if before_each is not None:
            before_each()
        return http.get(url, headers=headers, follow_redirects=False)

    attempts = call_with_retries(
        send,
        what=what,
        retry_statuses=RETRY_STATUSES,
        policy=policy,
        sleep=sleep,
        clock=clock,
    )
    tries = attempts.tries
    response = attempts.response
    if response is None:
        raise GraphError(
            f"Graph could not be reached at {endpoint} {tries}: "
            f"{type(attempts.error).__name__} ({attempts.error}); client-request-id "
            f"{client_request_id}",
            retryable=True,
        ) from attempts.error
    if response.is_redirect:
        raise GraphError(
            f"Graph answered with a redirect to {response.headers.get('Location', '?')!r}, "
            "which is not followed so the token stays with GRAPH_ENDPOINT",
            status=response.status_code,
            request_id=response.headers.get("request-id"),
        )
    return response, tries


def graph_error(
    response: httpx.Response,
    tries: str,
    *,
    permission: str = "Reports.Read.All",
    request: str = "the report request",
) -> GraphError:
    """The GraphError for a non-success answer: Graph's code, message and request-id, and what
    an admin can do about it (`permission` names the Graph permission the call needs)."""
    code, message = error_body(response)
    status = response.status_code
    retryable = status in RETRY_STATUSES
    advice = _advice(code, status, permission)
    if retryable:
        advice = f"Graph kept failing {tries}; the next run will try again"
    return GraphError(
        f"Graph refused {request}: {advice or 'unexpected answer'}",
        status=status,
        code=code,
        graph_message=message,
        request_id=response.headers.get("request-id"),
        retryable=retryable,
    )


def error_body(response: httpx.Response) -> tuple[str | None, str | None]:
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


def tenant_of(token: str) -> str:
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
