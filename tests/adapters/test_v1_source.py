"""The v1 userRegistrationDetails source against the loopback Graph and managed identity.

Time is the test's: the client's pacer and retries sleep on a fake clock that the stand-in's
throttle and skip tokens read too, so a pass over thousands of users takes no real waiting.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from azure.identity import ManagedIdentityCredential

from shared.errors import GraphError, ReportFormatError
from shared.retry import RetryPolicy
from shared.sources import Checkpoint, FetchedReport
from shared.sources.graph_client import GraphClient
from shared.sources.v1 import Scope, V1Source
from shared.sources.v1.pacing import Pacer
from standins.graph import DETAILS_PATH, DetailsService, GraphStandIn, RateLimit, graph_error
from standins.loopback import Reply
from standins.managed_identity import TENANT_ID, ManagedIdentityStandIn
from standins.registration_details import SyntheticTenant
from tests.conftest import Clock

TENANT = SyntheticTenant(users=1_150, seed=6)
PAGES = 12  # at 100 a page


@dataclass
class Harness:
    graph: GraphStandIn
    identity: ManagedIdentityStandIn
    service: DetailsService
    clock: Clock
    http: httpx.Client

    def client(self, **options: Any) -> V1Source:
        options.setdefault("page_size", 100)
        graph = GraphClient(
            endpoint=self.graph.url,
            credential=ManagedIdentityCredential(),
            http=self.http,
            policy=RetryPolicy(max_attempts=4, max_total_wait=60, max_retry_after=30),
            sleep=self.clock.sleep,
            clock=self.clock,
        )
        return V1Source(graph, **options)

    def seconds(self) -> float:
        return self.clock().timestamp()

    def pages_requested(self) -> list[str]:
        """Each details request's skip token ('' for the first page)."""
        return [r.query.get("$skiptoken", [""])[0] for r in self.graph.details_requests]


@pytest.fixture
def v1(monkeypatch: pytest.MonkeyPatch) -> Iterator[Harness]:
    for name in ("MSI_ENDPOINT", "MSI_SECRET", "IDENTITY_SERVER_THUMBPRINT", "AZURE_CLIENT_ID"):
        monkeypatch.delenv(name, raising=False)
    clock = Clock(datetime(2026, 11, 2, 6, 0, 5, tzinfo=timezone.utc))
    service = DetailsService(
        tenant=TENANT,
        rate_limit=RateLimit(limit=5, window=10.0, clock=lambda: clock().timestamp()),
        clock=lambda: clock().timestamp(),
    )
    with (
        ManagedIdentityStandIn() as identity,
        GraphStandIn(details=service) as graph,
        httpx.Client(timeout=httpx.Timeout(5.0), follow_redirects=False) as http,
    ):
        for name, value in identity.environ.items():
            monkeypatch.setenv(name, value)
        yield Harness(graph, identity, service, clock, http)


@functools.cache
def _expected(include_guests: bool, exclude: tuple[str, ...]) -> dict[str, int]:
    return TENANT.expected(include_guests=include_guests, exclude=exclude)


def expected_counts(
    *, include_guests: bool = True, exclude: Iterable[str] = ()
) -> tuple[int, dict[str, int]]:
    counts = dict(_expected(include_guests, tuple(exclude)))
    return counts.pop("total"), counts


def test_a_paced_pass_counts_every_metric_without_a_single_429(v1: Harness) -> None:
    fetched = v1.client().fetch_report()

    total, counts = expected_counts()
    assert fetched.report.total_users == total == TENANT.users
    assert dict(fetched.report.counts) == counts
    assert fetched.tenant_id == TENANT_ID
    assert len(v1.graph.details_requests) == PAGES  # each page asked for once
    assert v1.service.rate_limit is not None and v1.service.rate_limit.throttled == 0
    # Paced, not idle: 12 requests at 5 per 10 s need two full windows of waiting, and no more.
    assert 20 <= sum(v1.clock.sleeps) <= 21


def test_without_pacing_the_stand_in_throttles_and_retry_after_is_honoured(v1: Harness) -> None:
    unpaced = Pacer(clock=v1.seconds, sleep=v1.clock.sleep, limit=1000, window=1.0)

    fetched = v1.client(pacer=unpaced).fetch_report()

    assert fetched.report.total_users == TENANT.users
    limit = v1.service.rate_limit
    assert limit is not None and limit.throttled > 0
    assert len(v1.graph.details_requests) == PAGES + limit.throttled


def test_the_first_request_selects_only_the_needed_fields_at_the_largest_page_size(
    v1: Harness,
) -> None:
    v1.service.max_page_size = 999

    v1.client(page_size=999).fetch_report()

    first = v1.graph.details_requests[0]
    assert first.path == DETAILS_PATH
    assert first.query["$top"] == ["999"]
    assert first.query["$select"][0].split(",") == [
        "id",
        "userPrincipalName",
        "userType",
        "isAdmin",
        "isSsprRegistered",
        "isSsprEnabled",
        "isSsprCapable",
        "isMfaRegistered",
        "isMfaCapable",
        "isPasswordlessCapable",
        "methodsRegistered",
    ]
    assert len(v1.graph.details_requests) == 2
    ids = {r.headers["client-request-id"] for r in v1.graph.details_requests}
    assert len(ids) == 1  # one id follows the whole pass


def test_guests_off_and_exclusions_are_applied_by_the_client(v1: Harness) -> None:
    excluded = [TENANT.user(1)["userPrincipalName"].upper(), TENANT.user(2)["id"]]
    scope = Scope.of(include_guests=False, exclude_users=excluded)

    fetched = v1.client(scope=scope).fetch_report()

    total, counts = expected_counts(include_guests=False, exclude=excluded)
    assert fetched.report.total_users == total < TENANT.users - 2
    assert dict(fetched.report.counts) == counts


def admins_of(tenant: SyntheticTenant = TENANT, scope: Scope | None = None) -> list[str]:
    scope = scope or Scope()
    return [
        u["userPrincipalName"]
        for u in (tenant.user(i) for i in range(tenant.users))
        if u["isAdmin"]
        and not u["isMfaRegistered"]
        and scope.counts(u["id"], u["userPrincipalName"], u["userType"])
    ]


def test_the_pass_keeps_no_names_and_may_count_with_admins_named(v1: Harness) -> None:
    v1.service.count_supported = True

    fetched = v1.client(count_metrics={"adminsWithoutMfa"}).fetch_report()

    assert fetched.report.counts["adminsWithoutMfa"] == len(admins_of())
    assert not hasattr(fetched, "admins_without_mfa")


def test_admins_without_mfa_are_listed_with_one_filtered_request(v1: Harness) -> None:
    names = v1.client().list_admins_without_mfa(3)

    assert len(admins_of()) > 3
    assert names == tuple(admins_of()[:3])
    (request,) = v1.graph.details_requests
    assert request.query["$filter"] == ["isAdmin eq true and isMfaRegistered eq false"]


def test_a_refused_admin_filter_falls_back_to_the_documented_one(v1: Harness) -> None:
    v1.service.refuse_admin_filter = True

    names = v1.client().list_admins_without_mfa(5)

    assert names == tuple(admins_of()[:5])
    filters = [r.query.get("$filter") for r in v1.graph.details_requests]
    assert filters[1:] and all(f == ["isMfaRegistered eq false"] for f in filters[1:])
    assert "$select" not in v1.graph.details_requests[1].query  # the documented form alone


def test_the_admins_listed_are_those_the_pass_counts(v1: Harness) -> None:
    everyone = admins_of()
    scope = Scope.of(include_guests=False, exclude_users=[everyone[0].upper()])

    names = v1.client(scope=scope).list_admins_without_mfa(50)

    assert names == tuple(admins_of(scope=scope)) == tuple(everyone[1:])


def test_a_page_that_keeps_failing_fails_the_whole_pass(v1: Harness) -> None:
    v1.service.page_failures[7] = [graph_error(503, "serviceUnavailable", "busy")] * 10

    with pytest.raises(GraphError) as failure:
        v1.client().fetch_report()

    assert failure.value.retryable and failure.value.status == 503
    assert "page 7 of userRegistrationDetails" in str(failure.value)
    assert v1.service.pages_served == 6  # nothing after the failing page was asked for


def test_a_page_that_fails_then_recovers_is_retried_in_place(v1: Harness) -> None:
    v1.service.page_failures[4] = [graph_error(503, "serviceUnavailable", "busy")] * 2

    fetched = v1.client().fetch_report()

    assert fetched.report.total_users == TENANT.users
    assert v1.service.pages_served == PAGES


def test_a_next_link_to_another_host_is_refused_before_the_token_goes_there(
    v1: Harness,
) -> None:
    with GraphStandIn(details=DetailsService(tenant=TENANT)) as elsewhere:
        v1.service.next_link_origin = elsewhere.url

        with pytest.raises(GraphError, match="points away from GRAPH_ENDPOINT") as failure:
            v1.client().fetch_report()

        assert elsewhere.requests == []
    assert "$skiptoken" not in str(failure.value)
    assert len(v1.graph.details_requests) == 1


@pytest.mark.parametrize(
    "link",
    [
        "https://127.0.0.1/v1.0/reports",  # another scheme and port
        "http://localhost:{port}/v1.0/reports",  # another host name for the same machine
        "http://user:pw@127.0.0.1:{port}/v1.0/reports",  # user info
        "/v1.0/reports?$skiptoken=x",  # not absolute
    ],
)
def test_only_links_to_graph_endpoints_own_origin_are_followed(v1: Harness, link: str) -> None:
    port = httpx.URL(v1.graph.url).port
    body = {"value": TENANT.records(0, 100), "@odata.nextLink": link.format(port=port)}
    v1.graph.script.then(Reply(200, body))

    with pytest.raises(GraphError, match="points away from GRAPH_ENDPOINT"):
        v1.client().fetch_report()

    assert len(v1.graph.requests) == 1


def test_a_checkpointed_pass_resumed_gives_the_uninterrupted_counts(v1: Harness) -> None:
    scope = Scope.of(exclude_users=[TENANT.user(9)["id"]])
    uninterrupted = v1.client(scope=scope).fetch_report()
    requests_for_one_pass = len(v1.graph.details_requests)
    v1.clock.advance(seconds=30)  # the throttle's window is over before the next run

    results: list[FetchedReport | Checkpoint] = []
    checkpoint: Checkpoint | None = None
    for _ in range(10):
        deadline = v1.clock() + timedelta(seconds=8)
        client = v1.client(scope=scope)  # a new invocation, a new client
        result = client.fetch(checkpoint, deadline=deadline)
        results.append(result)
        if isinstance(result, FetchedReport):
            break
        assert v1.clock() <= deadline
        checkpoint = Checkpoint.from_json(result.to_json())  # through a queue message
        v1.clock.advance(seconds=30)

    assert isinstance(results[-1], FetchedReport)
    assert len(results) >= 3  # really interrupted, more than once
    assert results[-1].report == uninterrupted.report
    assert len(v1.graph.details_requests) == 2 * requests_for_one_pass  # no page read twice
    assert v1.service.rate_limit is not None and v1.service.rate_limit.throttled == 0


def test_a_checkpoint_pointing_elsewhere_is_refused(v1: Harness) -> None:
    checkpoint = Checkpoint("https://evil.example/v1.0/x?$skiptoken=abc", {"v": 1})

    with pytest.raises(GraphError, match="points away from GRAPH_ENDPOINT"):
        v1.client().fetch(checkpoint)

    assert v1.graph.requests == []


def test_an_unusable_checkpoint_tally_starts_the_pass_over(v1: Harness) -> None:
    stopped = v1.client().fetch(deadline=v1.clock() + timedelta(seconds=5))
    assert isinstance(stopped, Checkpoint)
    other_scope = Scope.of(include_guests=False)

    fetched = v1.client(scope=other_scope).fetch(stopped)

    assert isinstance(fetched, FetchedReport)
    assert fetched.report.total_users == expected_counts(include_guests=False)[0]


def test_an_expired_skip_token_restarts_the_pass_once(v1: Harness) -> None:
    expired = graph_error(400, "Directory_ExpiredPageToken", "The page token has expired.")
    v1.service.page_failures[9] = [expired]

    fetched = v1.client().fetch_report()

    assert fetched.report.total_users == TENANT.users
    assert dict(fetched.report.counts) == expected_counts()[1]
    assert v1.pages_requested().count("") == 2  # the first page, twice


def test_a_skip_token_that_keeps_expiring_fails_after_one_restart(v1: Harness) -> None:
    # Tokens live 5 s; the pacer makes the sixth request wait about 10 s, so it always expires.
    v1.service.skiptoken_ttl = 5.0

    with pytest.raises(GraphError) as failure:
        v1.client().fetch_report()

    assert failure.value.code == "Directory_ExpiredPageToken"
    assert v1.pages_requested().count("") == 2


def test_a_malformed_record_on_a_later_page_names_the_field_and_page(v1: Harness) -> None:
    records = TENANT.records(300, 400)
    records[12]["isMfaRegistered"] = "yes"
    v1.service.page_failures[4] = [Reply(200, {"value": records, "@odata.nextLink": None})]

    with pytest.raises(ReportFormatError) as failure:
        v1.client().fetch_report()

    assert failure.value.field == "value[12].isMfaRegistered"
    assert "page 4" in str(failure.value)


def test_a_page_that_is_not_json_is_rejected(v1: Harness) -> None:
    v1.service.page_failures[2] = [Reply(200, "<html>maintenance</html>")]

    with pytest.raises(ReportFormatError, match="page 2 is not JSON"):
        v1.client().fetch_report()


def test_a_missing_permission_says_which_one(v1: Harness) -> None:
    v1.graph.script.then(graph_error(403, "Authorization_RequestDenied", "Insufficient privileges"))

    with pytest.raises(GraphError, match=r"AuditLog\.Read\.All") as failure:
        v1.client().fetch_report()

    assert failure.value.request_id == "req-403-Authorization_RequestDenied"
    assert not failure.value.retryable


def test_count_is_used_when_every_needed_metric_comes_back_as_a_plain_integer(
    v1: Harness,
) -> None:
    v1.service.count_supported = True

    fetched = v1.client(count_metrics={"capable", "adminsWithoutMfa"}).fetch_report()

    total, counts = expected_counts()
    assert fetched.report.total_users == total
    assert dict(fetched.report.counts) == {
        "capable": counts["capable"],
        "adminsWithoutMfa": counts["adminsWithoutMfa"],
    }
    assert [r.path.rsplit("/", 1)[1] for r in v1.graph.details_requests] == ["$count"] * 5
    assert all(r.headers["consistencylevel"] == "eventual" for r in v1.graph.details_requests)
    assert v1.graph.details_requests[0].query["$filter"] == ["isMfaRegistered eq true"]


def test_a_count_that_ignores_its_filter_is_not_trusted(v1: Harness) -> None:
    # Every metric would equal the total: 100% coverage and never an alert.
    v1.service.count_supported = True
    v1.service.count_ignores_filter = True

    fetched = v1.client(count_metrics={"capable"}).fetch_report()

    total, counts = expected_counts()
    assert fetched.report.counts["capable"] == counts["capable"] < total
    paths = [r.path.rsplit("/", 1)[1] for r in v1.graph.details_requests]
    assert paths.count("userRegistrationDetails") == PAGES


def test_count_is_probed_once_then_paging_does_the_job(v1: Harness) -> None:
    fetched = v1.client(count_metrics={"capable"}).fetch_report()

    assert fetched.report.total_users == TENANT.users
    paths = [r.path.rsplit("/", 1)[1] for r in v1.graph.details_requests]
    assert paths.count("$count") == 1
    assert paths.count("userRegistrationDetails") == PAGES


@pytest.mark.parametrize(
    "options",
    [
        {"count_metrics": {"capable", "phishingResistant"}},  # not a plain filter
        {"count_metrics": {"capable"}, "scope": Scope.of(exclude_users=["a@b.example"])},
        {},  # the caller did not say which metrics it needs
    ],
)
def test_count_is_not_tried_when_it_cannot_give_everything(
    v1: Harness, options: dict[str, Any]
) -> None:
    v1.service.count_supported = True

    v1.client(**options).fetch_report()

    assert all(not r.path.endswith("$count") for r in v1.graph.details_requests)


def test_a_checkpoint_is_a_small_json_without_names_or_tokens(v1: Harness) -> None:
    stopped = v1.client().fetch(deadline=v1.clock() + timedelta(seconds=12))
    assert isinstance(stopped, Checkpoint)

    text = stopped.to_json()

    assert len(text) < 1000
    assert "@contoso.example" not in text
    for token in v1.identity.tokens_issued:
        assert token not in text
    assert json.loads(text)["nextLink"].startswith(v1.graph.url + DETAILS_PATH)
