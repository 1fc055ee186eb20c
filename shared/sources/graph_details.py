"""Microsoft Graph v1.0: count registrations from `userRegistrationDetails`, one pass, paged.

The supported successor of the beta `getCredentialUserRegistrationCount`:
`GET {GRAPH_ENDPOINT}/v1.0/reports/authenticationMethods/userRegistrationDetails`, one record
per user (application permission AuditLog.Read.All; Entra ID P1/P2), aggregated page by page
by `shared.sources.registration_details` into the same `FetchedReport` the beta client returns.

The pass:
- asks for just the fields it counts (`$select`) and the largest page Graph gives (`$top=999`),
  then follows `@odata.nextLink` - but only while it points at GRAPH_ENDPOINT's own scheme, host
  and port: any other link fails the pass before a request (and so the token) goes there;
- is paced under Graph's identity-report limit (about 5 requests per 10 s per app and tenant,
  `shared.sources.pacing`), and still retries 429/5xx within bounds honouring Retry-After
  (`shared.retry`,
  the same as the beta client, whose token, error and advice handling it shares);
- is all or nothing: a page that finally fails (or a record that does not validate) fails the
  whole pass and returns nothing;
- restarts once from the first page when Graph says the skip token in a nextLink has expired
  (HTTP 400 with a code about the page/skip token, e.g. `Directory_ExpiredPageToken`);
- can stop early: given a deadline, it returns a `Checkpoint` (the next link and the counters so
  far, a small JSON) instead of outliving it, and a later call resumes from that checkpoint with
  the same result an uninterrupted pass gives. Each call reads at least one page, so a chain of
  calls always finishes.

`$count`: Graph does not document `$count` on this report. When the caller says which metrics
it needs (`count_metrics`) and every one of them is a plain `$filter` on a boolean (not
phishingResistant, which needs `any()` over several method names), with no exclusions, guests
counted and no admin names wanted, the client probes
`.../userRegistrationDetails/$count?$filter=isMfaRegistered eq true` (ConsistencyLevel:
eventual) once per pass. Only if that and every other count come back as plain integers are
they used (one request per metric instead of one per 999 users); anything else, and paging
does the job. Paging is the main path; the counts are a shortcut for very large tenants.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

import httpx
from azure.core.credentials import TokenCredential

from shared.core.report import Report
from shared.errors import GraphError, ReportFormatError
from shared.retry import RetryPolicy
from shared.sources.graph import (
    FetchedReport,
    acquire_token,
    error_body,
    get_with_retries,
    graph_error,
    tenant_of,
)
from shared.sources.pacing import Pacer
from shared.sources.registration_details import METRICS, SELECT_FIELDS, Scope, Tally

log = logging.getLogger(__name__)

DETAILS_API = "v1.0/reports/authenticationMethods/userRegistrationDetails"
PERMISSION = "AuditLog.Read.All"
PAGE_SIZE = 999

# Graph's error codes for a skip token that is no longer valid. Directory-backed lists answer
# 400 `Directory_ExpiredPageToken`; other codes naming the skip/page token are taken to mean the
# same (the reports service documents none), since restarting once is harmless.
_EXPIRED_TOKEN_CODES = frozenset({"Directory_ExpiredPageToken"})
_TOKEN_WORDS = ("skiptoken", "pagetoken")
# What Graph answers for query options a resource does not support.
_QUERY_REFUSED_CODES = frozenset({"Request_UnsupportedQuery", "BadRequest", "Request_BadRequest"})

# Metrics `$count` can give, as the `$filter` that selects their users (None: every user).
COUNT_FILTERS: Mapping[str, str | None] = {
    "total": None,
    "registered": "isSsprRegistered eq true",
    "enabled": "isSsprEnabled eq true",
    "capable": "isSsprCapable eq true",
    "mfaRegistered": "isMfaRegistered eq true",
    "mfaCapable": "isMfaCapable eq true",
    "passwordlessCapable": "isPasswordlessCapable eq true",
    "adminsWithoutMfa": "isAdmin eq true and isMfaRegistered eq false",
}
_PROBE = "mfaRegistered"
_PLAIN_COUNT = re.compile(r"[0-9]{1,18}")


@dataclass(frozen=True)
class Checkpoint:
    """Where a pass stopped: the next page's link and the counters so far (no names)."""

    next_link: str
    tally: Mapping[str, Any]

    def to_json(self) -> str:
        return json.dumps({"nextLink": self.next_link, "tally": self.tally}, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Checkpoint:
        """ValueError if `text` is not a checkpoint (the pass then starts over)."""
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("a checkpoint is a JSON object")
        link, tally = data.get("nextLink"), data.get("tally")
        if not isinstance(link, str) or not isinstance(tally, dict):
            raise ValueError("a checkpoint needs nextLink (a string) and tally (an object)")
        return cls(next_link=link, tally=tally)


class RegistrationDetailsClient:
    def __init__(
        self,
        *,
        endpoint: str,
        credential: TokenCredential,
        http: httpx.Client,
        policy: RetryPolicy,
        sleep: Callable[[float], None],
        clock: Callable[[], datetime],
        pacer: Pacer | None = None,
        scope: Scope | None = None,
        admin_names: int = 0,
        count_metrics: Collection[str] | None = None,
        page_size: int = PAGE_SIZE,
    ) -> None:
        self._endpoint = endpoint.rstrip("/")
        self._origin = _origin(httpx.URL(self._endpoint))
        self._credential = credential
        self._http = http
        self._policy = policy
        self._sleep = sleep
        self._clock = clock
        # One pacer for the client's life: a worker's consecutive calls share Graph's window.
        self._pacer = pacer or Pacer(clock=lambda: clock().timestamp(), sleep=sleep)
        self._scope = scope or Scope()
        self._admin_names = admin_names
        self._count_metrics = frozenset(count_metrics) if count_metrics is not None else None
        select = ",".join(SELECT_FIELDS)
        self._first_page = f"{self._endpoint}/{DETAILS_API}?$select={select}&$top={page_size}"

    def fetch_report(self) -> FetchedReport:
        """One whole pass; raise CredentialError, GraphError or ReportFormatError."""
        result = self.fetch_pass()
        assert isinstance(result, FetchedReport)  # no deadline, so the pass ran to its end
        return result

    def fetch_pass(
        self, *, checkpoint: Checkpoint | None = None, deadline: datetime | None = None
    ) -> FetchedReport | Checkpoint:
        """Run (or resume) the pass; return the report, or a checkpoint if going on would
        outlive `deadline`. Raise as fetch_report does; nothing partial is ever returned as
        a report."""
        client_request_id = str(uuid.uuid4())
        if checkpoint is None:
            counted = self._try_counts(client_request_id)
            if counted is not None:
                return counted
        url, tally = self._start(checkpoint)
        restarted = False
        token = ""
        page_seconds = 0.0
        pages_now = 0
        while True:
            if deadline is not None and pages_now > 0:
                expected = self._pacer.delay() + page_seconds
                if self._clock().timestamp() + expected > deadline.timestamp():
                    log.info(
                        "userRegistrationDetails: stopping after page %d to meet the deadline; "
                        "%d users counted so far (client-request-id %s)",
                        tally.pages,
                        tally.total,
                        client_request_id,
                    )
                    return Checkpoint(next_link=url, tally=tally.to_json())
            started = self._clock()
            token = acquire_token(self._credential, self._endpoint)
            response, tries = self._get(url, token, client_request_id)
            if response.status_code != 200:
                if url == self._first_page and "$select=" in url and _query_refused(response):
                    # The report's page documents only $filter and $orderby: should Graph
                    # refuse $select/$top, whole records in Graph's own page size still work.
                    log.warning(
                        "userRegistrationDetails refused $select/$top (HTTP 400 %s, request-id "
                        "%s); reading whole records in Graph's page size instead",
                        error_body(response)[0],
                        response.headers.get("request-id"),
                    )
                    self._first_page = url = f"{self._endpoint}/{DETAILS_API}"
                    continue
                if not restarted and _is_expired_skiptoken(response):
                    log.warning(
                        "userRegistrationDetails: the skip token expired on page %d "
                        "(request-id %s); starting the pass over once",
                        tally.pages + 1,
                        response.headers.get("request-id"),
                    )
                    restarted = True
                    url, tally = self._first_page, self._new_tally()
                    continue
                raise graph_error(
                    response,
                    tries,
                    permission=PERMISSION,
                    request=f"page {tally.pages + 1} of userRegistrationDetails",
                )
            records, next_link = _parse_page(response.content, tally.pages + 1)
            try:
                tally.add_page(records)
            except ReportFormatError as exc:
                raise ReportFormatError(exc.field, f"{exc.problem} (page {tally.pages})") from exc
            pages_now += 1
            page_seconds = (self._clock() - started).total_seconds()
            log.debug(
                "userRegistrationDetails page %d: %d records (request-id %s)",
                tally.pages,
                len(records),
                response.headers.get("request-id"),
            )
            if next_link is None:
                break
            if _origin(_url(next_link)) != self._origin:
                raise GraphError(
                    "Graph's @odata.nextLink on page "
                    f"{tally.pages} points away from GRAPH_ENDPOINT ({_shown(next_link)}); "
                    "it is not followed so the token stays with GRAPH_ENDPOINT",
                    request_id=response.headers.get("request-id"),
                )
            url = next_link
        summary = tally.summary()
        log.info(
            "userRegistrationDetails: %d users counted of %d records in %d pages "
            "(client-request-id %s, last request-id %s, paced %.1f s)",
            summary.report.total_users,
            tally.records,
            tally.pages,
            client_request_id,
            response.headers.get("request-id"),
            self._pacer.waited,
        )
        return FetchedReport(
            tenant_id=tenant_of(token),
            report=summary.report,
            admins_without_mfa=summary.admins_without_mfa,
        )

    def _start(self, checkpoint: Checkpoint | None) -> tuple[str, Tally]:
        if checkpoint is None:
            return self._first_page, self._new_tally()
        if _origin(_url(checkpoint.next_link)) != self._origin:
            raise GraphError(
                "the checkpoint's next link points away from GRAPH_ENDPOINT "
                f"({_shown(checkpoint.next_link)}); it is not followed"
            )
        try:
            tally = Tally.from_json(checkpoint.tally, self._scope, admin_names=self._admin_names)
        except ValueError as exc:
            log.warning(
                "userRegistrationDetails: starting over, the checkpoint is unusable: %s", exc
            )
            return self._first_page, self._new_tally()
        return checkpoint.next_link, tally

    def _new_tally(self) -> Tally:
        return Tally(self._scope, admin_names=self._admin_names)

    def _get(
        self, url: str, token: str, client_request_id: str, **extra: str
    ) -> tuple[httpx.Response, str]:
        headers = {
            "Authorization": f"Bearer {token}",
            "Accept": "application/json",
            "client-request-id": client_request_id,
            **extra,
        }
        return get_with_retries(
            self._http,
            url,
            headers,
            what="Graph userRegistrationDetails",
            endpoint=self._endpoint,
            client_request_id=client_request_id,
            policy=self._policy,
            sleep=self._sleep,
            clock=self._clock,
            before_each=self._pacer.wait,
        )

    def _try_counts(self, client_request_id: str) -> FetchedReport | None:
        """The report from `$count` requests, or None to page (see the module's docstring)."""
        wanted = self._count_metrics
        if (
            wanted is None
            or not wanted <= COUNT_FILTERS.keys()
            or self._scope != Scope()
            or self._admin_names
        ):
            return None
        token = acquire_token(self._credential, self._endpoint)
        order = [_PROBE, "total", *sorted(wanted - {_PROBE, "total"})]
        counts: dict[str, int] = {}
        for metric in order:
            count = self._count(COUNT_FILTERS[metric], token, client_request_id)
            if count is None:
                log.info(
                    "userRegistrationDetails: $count %s for %s; paging instead",
                    "is not available" if metric == _PROBE else "failed",
                    metric,
                )
                return None
            counts[metric] = count
        total = counts.pop("total")
        if any(count > total for count in counts.values()):
            log.info("userRegistrationDetails: $count gave a count above the total; paging")
            return None
        # An undocumented $count might ignore $filter and give every metric the total (100%,
        # and never an alert): trust it only if "registered" and "not registered" add up.
        others = self._count("isMfaRegistered eq false", token, client_request_id)
        if others is None or counts[_PROBE] + others != total:
            log.info("userRegistrationDetails: $count's filters do not add up; paging instead")
            return None
        if _PROBE not in wanted:
            del counts[_PROBE]
        ordered = {metric: counts[metric] for metric in METRICS if metric in counts}
        report = Report(report_id=None, total_users=total, counts=ordered)
        log.info(
            "userRegistrationDetails: counted %d users with $count (client-request-id %s)",
            total,
            client_request_id,
        )
        return FetchedReport(tenant_id=tenant_of(token), report=report)

    def _count(self, condition: str | None, token: str, client_request_id: str) -> int | None:
        url = f"{self._endpoint}/{DETAILS_API}/$count"
        if condition is not None:
            url += "?$filter=" + quote(condition, safe="")
        try:
            response, _ = self._get(url, token, client_request_id, ConsistencyLevel="eventual")
        except GraphError as exc:
            log.info("userRegistrationDetails: $count request failed: %s", exc)
            return None
        # Graph may start a text/plain count with a byte-order mark.
        text = response.text.strip().lstrip("\ufeff") if response.status_code == 200 else ""
        if not _PLAIN_COUNT.fullmatch(text):
            return None
        return int(text)


def _parse_page(body: bytes, page: int) -> tuple[list[Any], str | None]:
    """The page's records and its nextLink (None on the last page)."""
    try:
        payload = json.loads(body)
    except ValueError as exc:
        raise ReportFormatError("body", f"page {page} is not JSON") from exc
    except RecursionError as exc:
        raise ReportFormatError("body", f"page {page} is nested too deeply") from exc
    if not isinstance(payload, dict):
        raise ReportFormatError("body", f"page {page} is not a JSON object")
    if "value" not in payload:
        raise ReportFormatError("value", f"missing on page {page}")
    records = payload["value"]
    if not isinstance(records, list):
        raise ReportFormatError("value", f"expected a list on page {page}")
    next_link = payload.get("@odata.nextLink")
    if next_link is not None and not (isinstance(next_link, str) and next_link):
        raise ReportFormatError("@odata.nextLink", f"expected a URL on page {page}")
    return records, next_link


def _query_refused(response: httpx.Response) -> bool:
    """A 400 whose code says the query options are not supported here."""
    return response.status_code == 400 and error_body(response)[0] in _QUERY_REFUSED_CODES


def _is_expired_skiptoken(response: httpx.Response) -> bool:
    if response.status_code != 400:
        return False
    code, _ = error_body(response)
    if not code:
        return False
    lowered = code.lower()
    return code in _EXPIRED_TOKEN_CODES or any(word in lowered for word in _TOKEN_WORDS)


def _url(text: str) -> httpx.URL | None:
    try:
        return httpx.URL(text)
    except (httpx.InvalidURL, TypeError):
        return None


def _origin(url: httpx.URL | None) -> tuple[str, str, int | None] | None:
    """Scheme, host and port (None for the scheme's default); None if the URL carries user
    info or is not absolute, which never matches GRAPH_ENDPOINT."""
    if url is None or not url.is_absolute_url or url.userinfo:
        return None
    return url.scheme, url.host, url.port


def _shown(link: str) -> str:
    """The link's origin only: its query may carry a skip token, which is nobody's business."""
    url = _url(link)
    if url is None or not url.is_absolute_url:
        return "not an absolute URL"
    return f"{url.scheme}://{url.host}" + (f":{url.port}" if url.port else "")
