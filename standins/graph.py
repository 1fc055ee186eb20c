"""A loopback Microsoft Graph that serves the registration report (or scripted failures).

Two reports: the beta `getCredentialUserRegistrationCount` (one body, `report_body`), and, when
given `details=DetailsService(...)`, the v1.0 `userRegistrationDetails` of a synthetic tenant,
paged with `@odata.nextLink` and a `$skiptoken`, optionally throttled like Graph (5 requests
per 10 s, then 429 with a decimal Retry-After), with skip tokens that expire, `$count`, and
failures scripted for a given page. Conditional Access policies and security defaults are
served by `conditional_access` (standins/conditional_access.py; by default a tenant with no
policies and security defaults off), set per test.

Many tenants (`tenants=standins.graph_tenants.Tenants(...)`): the beta report of the tenant the
bearer token's `tid` names, and Graph's identity-report limits enforced as it documents them,
per app and tenant (5 requests per 10 s) and per app across all tenants (122 per 10 s), each a
429 with Retry-After
(https://learn.microsoft.com/graph/throttling-limits#identity-and-access-reports-service-limits).
Without it, one report for whatever token comes, as before.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from standins.conditional_access import (
    POLICIES_PATH,
    SECURITY_DEFAULTS_PATH,
    ConditionalAccessService,
)
from standins.loopback import LoopbackServer, Reply, Request, Script
from standins.registration_details import SyntheticTenant
from standins.reports import realistic_body

if TYPE_CHECKING:
    from standins.graph_tenants import Tenants

REPORT_PATH = "/beta/reports/getCredentialUserRegistrationCount"
DETAILS_PATH = "/v1.0/reports/authenticationMethods/userRegistrationDetails"
COUNT_PATH = DETAILS_PATH + "/$count"
DETAILS_CONTEXT = "https://graph.microsoft.com/v1.0/$metadata#reports/authenticationMethods/userRegistrationDetails"


def graph_error(status: int, code: str, message: str, **headers: str) -> Reply:
    """An error the way Graph sends one, with its request-id header."""
    inner = {"request-id": "req-" + code, "date": "2026-11-02T06:00:05"}
    body = {"error": {"code": code, "message": message, "innerError": inner}}
    return Reply(status, body, {"request-id": f"req-{status}-{code}", **headers})


# The path segments this stand-in knows; Graph names the first it does not in its error.
_KNOWN_SEGMENTS = frozenset(
    {
        "reports",
        "getCredentialUserRegistrationCount",
        "authenticationMethods",
        "userRegistrationDetails",
        "$count",
    }
)


def unknown_segment(path: str) -> Reply:
    """What Graph answers for a path it has no resource for, a removed beta function included:
    400 `BadRequest`, "Resource not found for the segment '<segment>'." (as public reports
    show it: microsoftgraph/microsoft-graph-docs-contrib#7002,
    microsoftgraph/msgraph-beta-sdk-python#764), not 404."""
    segments = [s for s in path.split("/")[2:] if s]  # after the version (`/beta`, `/v1.0`)
    last = segments[-1] if segments else ""
    segment = next((s for s in segments if s not in _KNOWN_SEGMENTS), last)
    return graph_error(400, "BadRequest", f"Resource not found for the segment '{segment}'.")


class RateLimit:
    """Graph's identity-report throttle: at most `limit` requests in any `window` seconds of
    `clock` (a sliding window over accepted requests); beyond it, 429 with Retry-After."""

    def __init__(
        self, *, limit: int = 5, window: float = 10.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self.throttled = 0
        self._accepted: deque[float] = deque()
        self._lock = threading.Lock()

    def admit(self) -> Reply | None:
        """None if the request may go on, or the 429 to answer with."""
        with self._lock:
            now = self.clock()
            while self._accepted and self._accepted[0] <= now - self.window:
                self._accepted.popleft()
            if len(self._accepted) < self.limit:
                self._accepted.append(now)
                return None
            self.throttled += 1
            wait = self._accepted[0] + self.window - now
        return graph_error(
            429,
            "TooManyRequests",
            "Too many requests.",
            **{"Retry-After": f"{max(wait, 0.001):.3f}"},
        )


@dataclass
class DetailsService:
    """How the stand-in serves `userRegistrationDetails` for `tenant`.

    - `page_size`: records per page without `$top`; `$top` is honoured up to `max_page_size`.
    - `rate_limit`: throttle like Graph (None: never).
    - `skiptoken_ttl`: seconds (of `clock`) after which a skip token is refused with Graph's
      400 `Directory_ExpiredPageToken` (None: never).
    - `count_supported`: answer `$count` (with `ConsistencyLevel: eventual`) as plain text;
      otherwise 400.
    - `page_failures`: replies given, in order, to requests for page N (1-based) before the
      page itself is served: `{3: [Reply(503)] * 5}` fails page 3 for five attempts.
    - `next_link_origin`: the origin nextLinks point at (None: the stand-in's own URL).
    - `refuse_query_options`: answer `$select`/`$top` with 400 (the report documents neither).
    - `$filter` on the list (not only on `$count`): `eq true|false` clauses joined by `and`
      over the boolean properties, served page by page over the matching users as Graph does.
      Microsoft documents `$filter` (operator `eq`) on isMfaCapable, isMfaRegistered,
      isSsprEnabled and isSsprRegistered, among others, and not on isAdmin
      (https://learn.microsoft.com/graph/api/authenticationmethodsroot-list-userregistrationdetails);
      `refuse_admin_filter` answers a filter on isAdmin with 400 `Request_UnsupportedQuery`,
      as a Graph that holds to that list would.
    - `filter_failures`: replies given, in order, to list requests with a `$filter` before they
      are served (to fail the admins lookup alone).
    """

    tenant: SyntheticTenant
    page_size: int = 100
    max_page_size: int = 999
    rate_limit: RateLimit | None = None
    skiptoken_ttl: float | None = None
    count_supported: bool = False
    page_failures: dict[int, list[Reply]] = field(default_factory=dict)
    next_link_origin: str | None = None
    refuse_query_options: bool = False  # 400 Request_UnsupportedQuery for $select and $top
    count_ignores_filter: bool = False  # `$count` answers the total whatever the $filter
    refuse_admin_filter: bool = False
    filter_failures: list[Reply] = field(default_factory=list)
    clock: Callable[[], float] = time.monotonic
    pages_served: int = 0


def _conditions(condition: str) -> list[tuple[str, bool]] | None:
    """`isAdmin eq true and isMfaRegistered eq false` as (property, value) pairs; None if the
    filter is not that shape."""
    conditions = []
    for part in filter(None, condition.split(" and ")):
        words = part.split(" ")
        if len(words) != 3 or words[1] != "eq" or words[2] not in ("true", "false"):
            return None
        conditions.append((words[0], words[2] == "true"))
    return conditions


def _matching(tenant: SyntheticTenant, conditions: list[tuple[str, bool]]) -> list[int]:
    """The indices of the users every condition holds for."""
    users = ((index, tenant.user(index)) for index in range(tenant.users))
    return [i for i, user in users if all(user.get(k) == v for k, v in conditions)]


def _selected(user: dict[str, Any], select: list[str] | None) -> dict[str, Any]:
    return user if select is None else {name: user[name] for name in select if name in user}


class GraphStandIn(LoopbackServer):
    """Answers the report paths unless a scripted reply comes first.

    Requests without a bearer token get Graph's 401; other paths, and the beta report once
    `beta_removed` is set, get Graph's 400 "Resource not found for the segment ...".
    """

    def __init__(
        self,
        report_body: bytes | None = None,
        *,
        details: DetailsService | None = None,
        tenants: Tenants | None = None,
    ) -> None:
        self.report_body = report_body if report_body is not None else realistic_body()
        self.details = details
        self.tenants = tenants
        self.conditional_access = ConditionalAccessService()
        self.beta_removed = False
        self.script = Script(self._default)
        self._lock = threading.Lock()
        super().__init__(self.script)

    def _default(self, request: Request) -> Reply:
        if not request.headers.get("authorization", "").startswith("Bearer "):
            return graph_error(401, "InvalidAuthenticationToken", "Access token is empty.")
        policies = self.conditional_access
        if self.tenants is not None:
            policies = self.tenants.policies_of(request.headers["authorization"]) or policies
        enforcement = policies.answer(request)
        if enforcement is not None:
            return enforcement
        if request.path == REPORT_PATH and not self.beta_removed:
            body = self.report_body
            if self.tenants is not None:
                tenant = self.tenants.tenant_of(request.headers["authorization"])
                with self._lock:
                    refused = self.tenants.admit(tenant)
                    if refused is not None:
                        return refused
                    if tenant in self.tenants.refusals:
                        return self.tenants.refusals[tenant]
                    self.tenants.served[tenant] = self.tenants.served.get(tenant, 0) + 1
                body = self.tenants.reports.get(tenant, body)
            return Reply(
                200,
                body,
                {"Content-Type": "application/json", "request-id": "req-report-ok"},
            )
        if self.details is not None and request.path in (DETAILS_PATH, COUNT_PATH):
            service = self.details
            if service.rate_limit is not None:
                throttled = service.rate_limit.admit()
                if throttled is not None:
                    return throttled
            if request.path == COUNT_PATH:
                return self._count(service, request)
            return self._page(service, request)
        return unknown_segment(request.path)

    def _page(self, service: DetailsService, request: Request) -> Reply:
        if service.refuse_query_options and {"$select", "$top"} & set(request.query):
            return graph_error(
                400, "Request_UnsupportedQuery", "Unsupported query option: $select, $top."
            )
        select_values = request.query.get("$select")
        select = select_values[0].split(",") if select_values else None
        condition = request.query.get("$filter", [""])[0]
        matching: list[int] | None = None
        if condition:
            with self._lock:
                if service.filter_failures:
                    return service.filter_failures.pop(0)
            if service.refuse_admin_filter and "isAdmin" in condition:
                return graph_error(
                    400,
                    "Request_UnsupportedQuery",
                    "Unsupported or invalid query filter clause specified for property 'isAdmin' "
                    "of resource 'userRegistrationDetails'.",
                )
            conditions = _conditions(condition)
            if conditions is None:
                return graph_error(400, "BadRequest", "Invalid filter clause.")
            matching = _matching(service.tenant, conditions)
        users = service.tenant.users if matching is None else len(matching)
        token = request.query.get("$skiptoken", [None])[0]
        if token is None:
            top = int(request.query.get("$top", [service.page_size])[0])
            offset, size = 0, max(1, min(top, service.max_page_size))
        else:
            try:
                state = json.loads(base64.urlsafe_b64decode(token.encode()))
                offset, size, issued = int(state["o"]), int(state["n"]), float(state["t"])
            except (ValueError, KeyError, TypeError):
                return graph_error(400, "BadRequest", "Invalid $skiptoken.")
            ttl = service.skiptoken_ttl
            if ttl is not None and service.clock() - issued > ttl:
                return graph_error(
                    400,
                    "Directory_ExpiredPageToken",
                    "The specified page token value has expired and can no longer be included "
                    "in your request.",
                )
        page = offset // size + 1
        with self._lock:
            failures = service.page_failures.get(page)
            if failures:
                return failures.pop(0)
            service.pages_served += 1
        if matching is None:
            records = service.tenant.records(offset, offset + size, select)
        else:
            records = [_selected(service.tenant.user(i), select) for i in matching[offset:][:size]]
        body: dict[str, object] = {"@odata.context": DETAILS_CONTEXT, "value": records}
        if offset + size < users:
            state = {"o": offset + size, "n": size, "t": service.clock()}
            next_token = base64.urlsafe_b64encode(json.dumps(state).encode()).decode()
            query = f"$select={quote(','.join(select), safe=',')}&" if select else ""
            query += f"$filter={quote(condition, safe='')}&" if condition else ""
            origin = service.next_link_origin or self.url
            body["@odata.nextLink"] = f"{origin}{DETAILS_PATH}?{query}$skiptoken={next_token}"
        return Reply(
            200,
            json.dumps(body).encode(),
            {"Content-Type": "application/json", "request-id": f"req-details-{page}"},
        )

    def _count(self, service: DetailsService, request: Request) -> Reply:
        if not service.count_supported:
            return graph_error(400, "BadRequest", "Invalid request: $count is not supported.")
        if request.headers.get("consistencylevel", "").lower() != "eventual":
            return graph_error(400, "Request_BadRequest", "ConsistencyLevel eventual required.")
        condition = "" if service.count_ignores_filter else request.query.get("$filter", [""])[0]
        conditions = _conditions(condition)
        if conditions is None:
            return graph_error(400, "BadRequest", "Unsupported filter.")
        count = len(_matching(service.tenant, conditions))
        return Reply(200, str(count), {"Content-Type": "text/plain", "request-id": "req-count"})

    @property
    def report_requests(self) -> list[Request]:
        return [r for r in self.requests if r.path == REPORT_PATH]

    @property
    def policy_requests(self) -> list[Request]:
        """Requests for Conditional Access policies or security defaults."""
        return [r for r in self.requests if r.path in (POLICIES_PATH, SECURITY_DEFAULTS_PATH)]

    @property
    def details_requests(self) -> list[Request]:
        return [r for r in self.requests if r.path in (DETAILS_PATH, COUNT_PATH)]
