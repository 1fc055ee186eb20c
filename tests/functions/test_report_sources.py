"""REPORT_SOURCE through the functions, as the host runs them: the v1.0 userRegistrationDetails
source counted into snapshots, `auto` moving to it once the beta report is gone, maxima such as
`adminsWithoutMfa<=0`, and passes that go on in ContinueFetch.

The Graph stand-in serves a deterministic synthetic tenant (standins/registration_details.py),
paged, rate-limited like Graph on the test clock; `expected()` counts it by a separate route.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from shared.errors import GraphError
from shared.sources.beta import API as SOURCE_API
from shared.sources.v1 import API as DETAILS_API
from standins.graph import DetailsService, RateLimit, graph_error
from standins.loopback import Reply
from standins.registration_details import SyntheticTenant
from standins.reports import PUBLISHED_API_EXAMPLE, report
from tests.auth_methods import PHISHING_RESISTANT, V1_EXAMPLE_SPELLING
from tests.conftest import CycleHarness, fails_with

TENANT = SyntheticTenant(users=2_300, seed=11)
METRICS = (
    "registered",
    "enabled",
    "capable",
    "mfaRegistered",
    "mfaCapable",
    "passwordlessCapable",
    "phishingResistant",
    "adminsWithoutMfa",
)


def serve_tenant(cycle: CycleHarness, tenant: SyntheticTenant = TENANT, **options) -> None:
    options.setdefault("max_page_size", 500)  # several pages for 2,300 users
    options.setdefault("rate_limit", RateLimit(clock=lambda: cycle.clock().timestamp()))
    cycle.graph.details = DetailsService(tenant, clock=lambda: cycle.clock().timestamp(), **options)


def stored_counts(cycle: CycleHarness) -> dict[str, int]:
    (entity,) = cycle.snapshots()
    return stored_counts_of(entity)


def stored_counts_of(entity: dict) -> dict[str, int]:
    counts = {
        k.removeprefix("Count_"): v.value for k, v in entity.items() if k.startswith("Count_")
    }
    return {"total": entity["TotalUserCount"].value, **counts}


def titles(cycle: CycleHarness) -> list[str]:
    return [card["body"][0]["items"][0]["text"] for card in cycle.teams.cards]


def admins_without_mfa(tenant: SyntheticTenant) -> list[str]:
    users = (tenant.user(index) for index in range(tenant.users))
    return [u["userPrincipalName"] for u in users if u["isAdmin"] and not u["isMfaRegistered"]]


def test_the_v1_source_counts_every_metric_over_several_pages(cycle: CycleHarness) -> None:
    cycle.configure(REPORT_SOURCE="v1")
    serve_tenant(cycle)

    cycle.run()

    assert stored_counts(cycle) == TENANT.expected()
    assert set(METRICS) <= set(stored_counts(cycle))
    (entity,) = cycle.snapshots()
    assert entity["Source"] == DETAILS_API
    assert len(cycle.graph.details_requests) >= 5  # 2,300 users in pages of 500
    assert cycle.graph.details.rate_limit.throttled == 0  # paced under 5 per 10 s, no 429s
    assert cycle.graph.report_requests == []  # the beta report is never asked


def test_guests_off_and_excluded_users_are_left_out_of_every_metric(cycle: CycleHarness) -> None:
    excluded = [TENANT.user(3)["userPrincipalName"].upper(), TENANT.user(7)["id"]]
    cycle.configure(REPORT_SOURCE="v1", INCLUDE_GUESTS="false", EXCLUDE_USERS=",".join(excluded))
    serve_tenant(cycle)

    cycle.run()

    expected = TENANT.expected(include_guests=False, exclude=excluded)
    assert stored_counts(cycle) == expected
    assert expected["total"] < TENANT.expected()["total"] - 2  # guests were there to leave out


@pytest.mark.parametrize("status", [404, 410])
def test_auto_moves_to_v1_once_the_beta_report_is_gone_and_says_so_once(
    cycle: CycleHarness, status: int
) -> None:
    cycle.use_webhook()
    serve_tenant(cycle)
    cycle.graph.script.then(graph_error(status, "Request_ResourceNotFound", "Gone."))

    cycle.run()
    cycle.clock.advance(days=1)
    cycle.run()

    assert len(cycle.graph.report_requests) == 1  # beta asked once, then never again
    assert [e["Source"] for e in cycle.snapshots()] == [DETAILS_API, DETAILS_API]
    switches = [t for t in titles(cycle) if "now reading v1.0" in t]
    assert len(switches) == 1
    assert "AuditLog.Read.All" in json.dumps(cycle.teams.cards[0])


@pytest.mark.parametrize(
    "reply",
    [
        graph_error(401, "InvalidAuthenticationToken", "Access token has expired."),
        graph_error(403, "Authorization_RequestDenied", "Insufficient privileges."),
        graph_error(429, "TooManyRequests", "Slow down.", **{"Retry-After": "1"}),
    ],
    ids=["401", "403", "429"],
)
def test_auto_does_not_move_on_errors_that_are_not_a_missing_report(
    cycle: CycleHarness, reply: Reply
) -> None:
    serve_tenant(cycle)
    cycle.graph.script.then(*[reply] * 20)

    with fails_with(GraphError):
        cycle.run_once()

    assert cycle.graph.details_requests == []
    assert cycle.snapshots() == []


def test_a_page_that_finally_fails_fails_the_fetch_and_stores_nothing(cycle: CycleHarness) -> None:
    cycle.configure(REPORT_SOURCE="v1")
    serve_tenant(cycle, page_failures={3: [graph_error(503, "ServiceUnavailable", "Busy.")] * 20})

    with fails_with(GraphError, match="page 3"):
        cycle.run_once()

    assert cycle.snapshots() == []


def test_admins_without_mfa_at_most_zero_fires_naming_them_then_resolves(
    cycle: CycleHarness,
) -> None:
    tenant = SyntheticTenant(users=600, seed=3)
    names = admins_without_mfa(tenant)
    assert 0 < len(names) <= 5, "the tenant should have a few admins without MFA"
    settings = {
        "TEAMS_WEBHOOK_URL": cycle.teams.webhook_url,
        "REPORT_SOURCE": "v1",
        "THRESHOLDS": "adminsWithoutMfa<=0",
        "ALERT_NAME_ADMINS": "true",
    }
    cycle.configure(**settings)
    serve_tenant(cycle, tenant)

    cycle.run()
    cycle.clock.advance(days=1)
    cycle.configure(**settings, EXCLUDE_USERS=",".join(names))  # e.g. break-glass accounts
    cycle.run()

    assert titles(cycle) == [
        f"Admins without MFA: {len(names)}, more than 0",
        "Resolved: Admins without MFA back to 0 (at most 0)",
    ]
    firing = json.dumps(cycle.teams.cards[0])
    assert all(name in firing for name in names)
    stored = [str(e) for setting in ("SNAPSHOT_TABLE", "ALERT_TABLE") for e in cycle.table(setting)]
    assert not any(name in entity for entity in stored for name in names)  # never stored


def test_admins_are_not_named_unless_asked(cycle: CycleHarness) -> None:
    tenant = SyntheticTenant(users=600, seed=3)
    cycle.configure(
        TEAMS_WEBHOOK_URL=cycle.teams.webhook_url,
        REPORT_SOURCE="v1",
        THRESHOLDS="adminsWithoutMfa<=0",
    )
    serve_tenant(cycle, tenant)

    cycle.run()

    firing = json.dumps(cycle.teams.cards[0])
    assert not any(name in firing for name in admins_without_mfa(tenant))
    lookups = [
        r for r in cycle.graph.details_requests if "$filter" in r.query and "$count" not in r.path
    ]
    assert lookups == []  # nobody's name is asked of Graph


def test_a_pass_longer_than_one_invocation_continues_and_counts_the_same(
    cycle: CycleHarness,
) -> None:
    app = cycle.configure(REPORT_SOURCE="v1")
    app.fetch_budget = timedelta(seconds=15)  # about 7 pages at 5 per 10 s
    tenant = SyntheticTenant(users=2_300, seed=11)
    serve_tenant(cycle, tenant, max_page_size=100)  # 23 pages

    result = cycle.run()

    assert result.outputs.get("check") is None and result.outputs["more"]
    continued = [d for d in result.deliveries if d.queue == "fetch-continuations"]
    assert len(continued) >= 2 and not any(d.poisoned for d in result.deliveries)
    assert [d.queue for d in result.deliveries][-1] == "snapshots-to-check"
    assert stored_counts(cycle) == tenant.expected()  # the same as one uninterrupted pass
    (entity,) = cycle.snapshots()
    assert entity["FetchedAt"].isoformat().startswith("2026-11-02T06:00:05")  # when it began


def test_the_beta_source_never_asks_for_user_details(cycle: CycleHarness) -> None:
    cycle.configure(REPORT_SOURCE="beta")
    serve_tenant(cycle)
    cycle.graph.script.then(graph_error(404, "Request_ResourceNotFound", "Gone."))

    with fails_with(GraphError, match="GRAPH_ENDPOINT"):
        cycle.run_once()

    assert cycle.graph.details_requests == []
    assert cycle.snapshots() == []
    assert SOURCE_API.startswith("beta/")


def test_a_graph_that_refuses_select_and_top_is_read_in_whole_records(
    cycle: CycleHarness, caplog: pytest.LogCaptureFixture
) -> None:
    # The report's reference page documents $filter and $orderby only.
    cycle.configure(REPORT_SOURCE="v1")
    serve_tenant(cycle, refuse_query_options=True, page_size=400)

    cycle.run()

    assert stored_counts(cycle) == TENANT.expected()
    pages = [r for r in cycle.graph.details_requests if not r.path.endswith("/$count")]
    assert "$select" in pages[0].query and "$select" not in pages[1].query
    assert "refused $select/$top" in caplog.text


def test_a_first_page_refused_again_fails_the_fetch_instead_of_looping(
    cycle: CycleHarness,
) -> None:
    cycle.configure(REPORT_SOURCE="v1")
    serve_tenant(cycle, page_failures={1: [graph_error(400, "BadRequest", "Bad request.")] * 9})

    with fails_with(GraphError, match="page 1 of userRegistrationDetails"):
        cycle.run_once()

    pages = [r for r in cycle.graph.details_requests if not r.path.endswith("/$count")]
    assert len(pages) == 2  # with $select/$top, then once without: then the error stands


def test_auto_moves_to_v1_when_graph_answers_the_removed_report_as_an_unknown_segment(
    cycle: CycleHarness,
) -> None:
    # What Graph sends for a removed beta function: 400 BadRequest, "Resource not found for
    # the segment 'getCredentialUserRegistrationCount'.", not 404.
    cycle.use_webhook()
    serve_tenant(cycle)
    cycle.graph.beta_removed = True

    cycle.run()

    (entity,) = cycle.snapshots()
    assert entity["Source"] == DETAILS_API
    assert [t for t in titles(cycle) if "now reading v1.0" in t]


def test_a_bad_request_that_is_not_a_missing_segment_does_not_move_auto(
    cycle: CycleHarness,
) -> None:
    serve_tenant(cycle)
    cycle.graph.script.then(*[graph_error(400, "BadRequest", "Invalid filter clause.")] * 3)

    with fails_with(GraphError, match="Invalid filter clause"):
        cycle.run_once()

    assert cycle.graph.details_requests == []
    assert cycle.snapshots() == []


@pytest.mark.parametrize(
    "body",
    [{"value": []}, report(0, {"registered": 0, "mfaRegistered": 0})],
    ids=["empty-collection", "total-0"],
)
def test_auto_reads_v1_for_a_run_whose_beta_answer_carries_no_data(
    cycle: CycleHarness, caplog: pytest.LogCaptureFixture, body: dict
) -> None:
    cycle.use_webhook()
    serve_tenant(cycle)
    cycle.graph.report_body = json.dumps(body).encode()

    cycle.run()
    cycle.clock.advance(days=1)
    cycle.run()

    assert [e["Source"] for e in cycle.snapshots()] == [DETAILS_API, DETAILS_API]
    assert stored_counts_of(cycle.snapshots()[0]) == TENANT.expected()
    assert len(cycle.graph.report_requests) == 2  # one run's fallback, not a switch for good
    assert not [t for t in titles(cycle) if "now reading v1.0" in t]
    warnings = [
        r for r in caplog.records if r.levelname == "WARNING" and "counts no users" in r.message
    ]
    assert len(warnings) == 2


def test_the_beta_source_stores_an_empty_report_as_zero_users(cycle: CycleHarness) -> None:
    cycle.configure(REPORT_SOURCE="beta")
    cycle.graph.report_body = b'{"value": []}'

    cycle.run()

    (entity,) = cycle.snapshots()
    assert entity["TotalUserCount"].value == 0
    assert entity["Source"] == SOURCE_API


def test_users_whose_nullable_fields_are_null_are_counted_and_null_types_as_members(
    cycle: CycleHarness,
) -> None:
    # The v1.0 metadata lets isAdmin, methodsRegistered and userType be null.
    users = [TENANT.user(index) for index in range(TENANT.users)]
    for name in ("isAdmin", "methodsRegistered", "userType"):
        assert any(user[name] is None for user in users), name
    cycle.configure(REPORT_SOURCE="v1", INCLUDE_GUESTS="false")
    serve_tenant(cycle)

    cycle.run()

    members = sum(1 for user in users if user["userType"] != "guest")  # null ones included
    assert stored_counts(cycle) == TENANT.expected(include_guests=False)
    assert stored_counts(cycle)["total"] == members


def test_every_documented_phishing_resistant_method_counts(cycle: CycleHarness) -> None:
    # Microsoft's documented phishing-resistant values (tests/auth_methods.py), not tally's.
    documented = set(PHISHING_RESISTANT | {V1_EXAMPLE_SPELLING})
    sole = {  # users whose one phishing-resistant method is this one
        method
        for user in (TENANT.user(index) for index in range(TENANT.users))
        for method in documented & set(user["methodsRegistered"] or ())
        if len(documented & set(user["methodsRegistered"] or ())) == 1
    }
    assert sole == documented, documented - sole
    cycle.configure(REPORT_SOURCE="v1")
    serve_tenant(cycle)

    cycle.run()

    assert stored_counts(cycle)["phishingResistant"] == TENANT.expected()["phishingResistant"]


def test_a_skip_token_refused_with_an_empty_code_restarts_the_pass(cycle: CycleHarness) -> None:
    # How this report refuses a skip token: 400, code "", message "Invalid Skip Token".
    cycle.configure(REPORT_SOURCE="v1")
    serve_tenant(cycle, page_failures={3: [graph_error(400, "", "Invalid Skip Token")]})

    cycle.run_once()  # one invocation: no host retry to hide a failed pass

    assert stored_counts(cycle) == TENANT.expected()
    pages = [r for r in cycle.graph.details_requests if not r.path.endswith("/$count")]
    assert sum("$skiptoken" not in r.query for r in pages) == 2  # the first page, twice


def test_the_beta_report_as_published_today_is_stored_as_it_is(cycle: CycleHarness) -> None:
    cycle.graph.report_body = PUBLISHED_API_EXAMPLE  # byte for byte, "id": "id-value"

    cycle.run()

    (entity,) = cycle.snapshots()
    assert entity["Source"] == SOURCE_API
    assert entity["ReportId"] == "id-value"
    assert stored_counts_of(entity) == {"total": 23123, "registered": 23423}
