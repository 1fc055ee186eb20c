"""The one Microsoft Graph client both report sources use.

It gets the app's token (and registers it with the log scrubber), sends GETs within the retry
policy honouring Retry-After, never follows a redirect, checks that a link Graph hands back
(`@odata.nextLink`, a checkpoint's link) points at GRAPH_ENDPOINT's own origin before the token
goes there, sends one `client-request-id` per exchange and logs Graph's `request-id`, and turns
an error answer into a GraphError carrying Graph's code, message, request-id and what an admin
can do about it. `is_gone` is the one place that decides that Graph no longer has a report.

Graph's identity reports are throttled hard (about 5 requests per 10 s per app and tenant), so
429/5xx answers and transport failures are retried within bounds; 4xx answers are never
retried: they fail at once.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import httpx
from azure.core.credentials import TokenCredential
from azure.core.exceptions import AzureError, ClientAuthenticationError
from azure.identity import CredentialUnavailableError

from shared import redaction
from shared.errors import CredentialError, GraphError
from shared.retry import RetryPolicy, call_with_retries
from shared.sources.links import origin_of, url_of

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})

# What Graph answers for a report that no longer exists: 404 or 410, a 400 whose code says so,
# or - what Graph really sends for a path segment it does not know, such as a removed beta
# function - a 400 with the generic code `BadRequest` and the message "Resource not found for
# the segment '<segment>'." (public reports for removed or misplaced beta segments show exactly
# that: microsoftgraph/microsoft-graph-docs-contrib#7002 for 'identityRiskEvents',
# microsoftgraph/msgraph-beta-sdk-python#764 for 'auditLog'). `BadRequest` alone is far too
# broad (a refused $select is one too), so this is the one decision that reads the wording:
# code `BadRequest` AND that documented message shape; everywhere else decisions branch on
# codes only.
_GONE_STATUSES = frozenset({404, 410})
_GONE_CODES = frozenset(
    {"Request_ResourceNotFound", "ResourceNotFound", "UnknownResource", "BadRequest_NotFound"}
)
_NOT_FOUND_MESSAGE = re.compile(r"\s*resource not found for the segment\b", re.IGNORECASE)

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
_GONE_ADVICE = _ADVICE_BY_STATUS[404]


class GraphClient:
    """GETs to GRAPH_ENDPOINT with the app's identity. One per worker (connections and the
    credential's token cache live with it)."""

    def __init__(
        self,
        *,
        endpoint: str,
        credential: TokenCredential,
        http: httpx.Client,
        policy: RetryPolicy,
        sleep: Callable[[float], None],
        clock: Callable[[], datetime],
        before_send: Callable[[], None] | None = None,
    ) -> None:
        self.endpoint = endpoint.rstrip("/")
        # Runs before every request this client sends (many tenants: the cross-tenant budget).
        self._before_send = before_send
        self.clock = clock
        self.sleep = sleep
        self._origin = origin_of(httpx.URL(self.endpoint))
        self._credential = credential
        self._http = http
        self._policy = policy

    def token(self) -> str:
        """A Graph token from the app's identity (azure-identity caches and renews it),
        registered with the log scrubber; CredentialError saying what to do if there is none."""
        scope = f"{self.endpoint}/.default"
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
                f"the managed identity endpoint could not be reached to get a token for "
                f"{scope}: {_first_line(exc)}"
            ) from exc
        redaction.register_secret(token)
        return token

    def get(
        self,
        url: str,
        *,
        token: str,
        what: str,
        client_request_id: str,
        headers: Mapping[str, str] | None = None,
        before_each: Callable[[], None] | None = None,
    ) -> tuple[httpx.Response, str]:
        """GET `url` within the retry policy; return the final answer (never a redirect) and
        how many attempts it took (`after 2 attempts`). `before_each` runs before every attempt
        (a pacer). Raise GraphError if Graph could not be reached or answered with a redirect.

        The loop is shared.retry's, not httpx-retries', stamina's or tenacity's: it needs the
        injected clock and sleep (tests and the benchmark run on a fake clock), Retry-After as
        Graph sends it (decimal seconds such as `2.128`) or as an HTTP date, a total budget of
        sleep that keeps a run inside the function timeout, and 429-versus-5xx-versus-4xx
        decided in one small function that the Teams webhook shares; each library gives some of
        these, none all of them without wrapping it as much code as the loop itself."""
        sent = {
            "Authorization": f"Bearer {token}",
            "Accept": "application/json",
            # One id for all attempts, so Microsoft support can follow the whole exchange.
            "client-request-id": client_request_id,
            **(headers or {}),
        }

        def send() -> httpx.Response:
            if before_each is not None:
                before_each()
            if self._before_send is not None:
                self._before_send()
            return self._http.get(url, headers=sent, follow_redirects=False)

        attempts = call_with_retries(
            send,
            what=what,
            retry_statuses=RETRY_STATUSES,
            policy=self._policy,
            sleep=self.sleep,
            clock=self.clock,
        )
        tries = attempts.tries
        response = attempts.response
        if response is None:
            raise GraphError(
                f"Graph could not be reached at {self.endpoint} {tries}: "
                f"{type(attempts.error).__name__} ({attempts.error}); client-request-id "
                f"{client_request_id}",
                retryable=True,
            ) from attempts.error
        log.debug(
            "%s: HTTP %d (request-id %s, client-request-id %s)",
            what,
            response.status_code,
            response.headers.get("request-id"),
            client_request_id,
        )
        if response.is_redirect:
            raise GraphError(
                f"Graph answered with a redirect to {response.headers.get('Location', '?')!r}, "
                "which is not followed so the token stays with GRAPH_ENDPOINT",
                status=response.status_code,
                request_id=response.headers.get("request-id"),
            )
        return response, tries

    def is_own(self, link: str) -> bool:
        """Whether `link` points at GRAPH_ENDPOINT's scheme, host and port (and carries no user
        info): only then may the token go there."""
        return origin_of(url_of(link)) == self._origin


def new_request_id() -> str:
    """A client-request-id for one exchange (all its attempts and pages)."""
    return str(uuid.uuid4())


def graph_error(
    response: httpx.Response,
    tries: str,
    *,
    permission: str,
    request: str = "the report request",
) -> GraphError:
    """The GraphError for a non-success answer: Graph's code, message and request-id, and what
    an admin can do about it (`permission` names the Graph permission the call needs)."""
    code, message = error_body(response)
    status = response.status_code
    retryable = status in RETRY_STATUSES
    advice = _ADVICE_BY_CODE.get(code or "") or (
        _GONE_ADVICE if _says_gone(status, code, message) else _ADVICE_BY_STATUS.get(status)
    )
    advice = advice.format(permission=permission) if advice else None
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


def is_gone(error: GraphError) -> bool:
    """Whether Graph's answer says the report no longer exists (not: is refused, throttled or
    failing, which are problems to report)."""
    return _says_gone(error.status, error.code, error.graph_message)


def _says_gone(status: int | None, code: str | None, message: str | None) -> bool:
    if status in _GONE_STATUSES:
        return True
    if status != 400:
        return False
    if code in _GONE_CODES:
        return True
    return code == "BadRequest" and bool(message and _NOT_FOUND_MESSAGE.match(message))


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
