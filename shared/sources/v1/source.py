"""Microsoft Graph v1.0: count registrations from `userRegistrationDetails`, one pass, paged.

The supported successor of the beta `getCredentialUserRegistrationCount`:
`GET {GRAPH_ENDPOINT}/v1.0/reports/authenticationMethods/userRegistrationDetails`, one record
per user (application permission AuditLog.Read.All; Entra ID P1/P2), aggregated page by page
by `shared.sources.v1.tally` into the same `FetchedReport` the beta source returns.

The pass:
- asks for just the fields it counts (`$select`) and the largest page Graph gives (`$top=999`),
  then follows `@odata.nextLink` - but only while it points at GRAPH_ENDPOINT's own origin: any
  other link fails the pass before a request (and so the token) goes there;
- is paced under Graph's identity-report limit (`shared.sources.v1.pacing`), and still retries
  429/5xx within bounds honouring Retry-After (the Graph client's loop);
- is all or nothing: a page that finally fails (or a record that does not validate) fails the
  whole pass and returns nothing;
- restarts once from the first page when Graph says the skip token in a nextLink has expired
  (HTTP 400 with a code about the page/skip token, e.g. `Directory_ExpiredPageToken`, or with
  an empty code and the message "Invalid Skip Token", as this report answers);
- can stop early: given a deadline, it returns a `Checkpoint` (the next link and the counters so
  far, a small JSON) instead of outliving it, and a later call resumes from that checkpoint with
  the same result an uninterrupted pass gives. Each call reads at least one page, so a chain of
  calls always finishes;
- may be replaced by a few `$count` requests (`shared.sources.v1.counting`);
- keeps no user's name or id: `list_admins_without_mfa` asks Graph for a few admins when a card
  is about to name them (`shared.sources.v1.admins`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Collection, Iterable
from datetime import datetime

import httpx

from shared.errors import GraphError, ReportFormatError
from shared.sources.graph_client import (
    GraphClient,
    error_body,
    graph_error,
    new_request_id,
    tenant_of,
)
from shared.sources.links import shown
from shared.sources.port import Checkpoint, FetchedReport
from shared.sources.v1.admins import list_admins_without_mfa
from shared.sources.v1.counting import count_report, countable
from shared.sources.v1.pacing import Pacer
from shared.sources.v1.pages import parse_page, query_refused
from shared.sources.v1.tally import SELECT_FIELDS, Scope, Tally

log = logging.getLogger(__name__)

API = "v1.0/reports/authenticationMethods/userRegistrationDetails"
PERMISSION = "AuditLog.Read.All"
PAGE_SIZE = 999

# Counted whatever the checks need, so a v1.0 snapshot holds the beta report's four statuses.
_ALWAYS_COUNTED = frozenset({"registered", "enabled", "capable", "mfaRegistered"})

# Graph's error codes for a skip token that is no longer valid. Directory-backed lists answer
# 400 `Directory_ExpiredPageToken`; other codes naming the skip/page token are taken to mean the
# same (the reports service documents none), since restarting once is harmless.
_EXPIRED_TOKEN_CODES = frozenset({"Directory_ExpiredPageToken"})
_TOKEN_WORDS = ("skiptoken", "pagetoken")
# This report's own answer for a skip token it no longer takes: 400 with an EMPTY code and the
# message "Invalid Skip Token". With no code to branch on, the wording is all there is; a
# restart on a false match costs one pass, never a wrong count.
_INVALID_SKIPTOKEN_MESSAGE = re.compile(r"\s*invalid\s*skip\s*token\b", re.IGNORECASE)


def metrics_to_count(checked: Iterable[str]) -> frozenset[str]:
    """The metrics a pass must give when the checks read `checked`: what `$count` has to
    cover before it may stand in for paging."""
    return _ALWAYS_COUNTED | frozenset(checked)


class V1Source:
    api = API
    permission = PERMISSION

    def __init__(
        self,
        graph: GraphClient,
        *,
        pacer: Pacer | None = None,
        scope: Scope | None = None,
        count_metrics: Collection[str] | None = None,
        populations: Collection[str] = (),
        page_size: int = PAGE_SIZE,
    ) -> None:
        self._graph = graph
        self._clock = graph.clock
        # One pacer for the source's life: a worker's consecutive calls share Graph's window.
        self._pacer = pacer or Pacer(clock=lambda: graph.clock().timestamp(), sleep=graph.sleep)
        self._scope = scope or Scope()
        self._populations = tuple(populations)  # `metric.population` statuses to count too
        self._count_metrics = frozenset(count_metrics) if count_metrics is not None else None
        self._url = f"{graph.endpoint}/{API}"
        self._first_page = f"{self._url}?$select={','.join(SELECT_FIELDS)}&$top={page_size}"

    def fetch_report(self) -> FetchedReport:
        """One whole pass; raise CredentialError, GraphError or ReportFormatError."""
        result = self.fetch()
        assert isinstance(result, FetchedReport)  # no deadline, so the pass ran to its end
        return result

    def fetch(
        self, checkpoint: Checkpoint | None = None, *, deadline: datetime | None = None
    ) -> FetchedReport | Checkpoint:
        """Run (or resume) the pass; return the report, or a checkpoint if going on would
        outlive `deadline`. Nothing partial is ever returned as a report."""
        client_request_id = new_request_id()
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
            token = self._graph.token()
            response, tries = self._get(url, token, client_request_id)
            if response.status_code != 200:
                if url == self._first_page and "$select=" in url and query_refused(response):
                    # The report's page documents only $filter and $orderby: should Graph
                    # refuse $select/$top, whole records in Graph's own page size still work.
                    log.warning(
                        "userRegistrationDetails refused $select/$top (HTTP 400 %s, request-id "
                        "%s); reading whole records in Graph's page size instead",
                        error_body(response)[0],
                        response.headers.get("request-id"),
                    )
                    self._first_page = url = self._url
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
            records, next_link = parse_page(response.content, tally.pages + 1)
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
            if not self._graph.is_own(next_link):
                raise GraphError(
                    "Graph's @odata.nextLink on page "
                    f"{tally.pages} points away from GRAPH_ENDPOINT ({shown(next_link)}); "
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
            api=API,
        )

    def list_admins_without_mfa(self, limit: int) -> tuple[str, ...]:
        """Up to `limit` admins without MFA, in the pass's scope (`shared.sources.v1.admins`),
        for a card about to name them; never stored. Raise CredentialError, GraphError or
        ReportFormatError."""
        client_request_id = new_request_id()
        token = self._graph.token()
        return list_admins_without_mfa(
            self._url,
            self._scope,
            limit,
            get=lambda url: self._get(url, token, client_request_id),
            is_own=self._graph.is_own,
            permission=PERMISSION,
        )

    def _start(self, checkpoint: Checkpoint | None) -> tuple[str, Tally]:
        if checkpoint is None:
            return self._first_page, self._new_tally()
        if not self._graph.is_own(checkpoint.next_link):
            raise GraphError(
                "the checkpoint's next link points away from GRAPH_ENDPOINT "
                f"({shown(checkpoint.next_link)}); it is not followed"
            )
        try:
            tally = Tally.from_json(checkpoint.tally, self._scope, populations=self._populations)
        except ValueError as exc:
            log.warning(
                "userRegistrationDetails: starting over, the checkpoint is unusable: %s", exc
            )
            return self._first_page, self._new_tally()
        return checkpoint.next_link, tally

    def _new_tally(self) -> Tally:
        return Tally(self._scope, populations=self._populations)

    def _get(
        self, url: str, token: str, client_request_id: str, **headers: str
    ) -> tuple[httpx.Response, str]:
        return self._graph.get(
            url,
            token=token,
            what="Graph userRegistrationDetails",
            client_request_id=client_request_id,
            headers=headers,
            before_each=self._pacer.wait,
        )

    def _try_counts(self, client_request_id: str) -> FetchedReport | None:
        """The report from `$count` requests, or None to page (see `counting`; never with
        populations: a population's total has no plain `$filter`, a null userType is a member)."""
        wanted = self._count_metrics
        if wanted is None or not countable(wanted) or self._scope != Scope():
            return None
        if self._populations:
            return None
        token = self._graph.token()

        def get(url: str) -> httpx.Response:
            return self._get(url, token, client_request_id, ConsistencyLevel="eventual")[0]

        report = count_report(f"{self._url}/$count", wanted, get)
        if report is None:
            return None
        log.info(
            "userRegistrationDetails: counted %d users with $count (client-request-id %s)",
            report.total_users,
            client_request_id,
        )
        return FetchedReport(tenant_id=tenant_of(token), report=report, api=API)


def _is_expired_skiptoken(response: httpx.Response) -> bool:
    if response.status_code != 400:
        return False
    code, message = error_body(response)
    if not code:
        return bool(message and _INVALID_SKIPTOKEN_MESSAGE.match(message))
    lowered = code.lower()
    return code in _EXPIRED_TOKEN_CODES or any(word in lowered for word in _TOKEN_WORDS)
