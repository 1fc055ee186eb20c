"""Fault injection: full cycles against Azurite and the stand-ins while things go wrong.

Each test says what was stored, what was posted, how many calls were made, and what the error
says. Sleeps are recorded by the test clock, never waited.
"""

from __future__ import annotations

import json
import time

import pytest

from shared.errors import CredentialError, GraphError, ReportFormatError, StorageError
from standins.azurite import Azurite
from standins.graph import graph_error
from standins.loopback import LoopbackServer, Reply
from standins.reports import report
from tests.conftest import CycleHarness, fails_with

BREACHING = json.dumps(report(1000, {"mfaRegistered": 800})).encode()


def test_throttling_is_retried_after_the_decimal_retry_after(cycle: CycleHarness) -> None:
    throttled = graph_error(429, "TooManyRequests", "Too many requests", **{"Retry-After": "2.128"})
    cycle.graph.script.then(throttled, throttled)

    cycle.run()

    assert len(cycle.graph.report_requests) == 3
    assert cycle.clock.sleeps == [2.128, 2.128]
    assert len(cycle.snapshots()) == 1
    # One client-request-id follows the request through its retries.
    ids = {r.headers["client-request-id"] for r in cycle.graph.report_requests}
    assert len(ids) == 1


def test_retry_after_as_an_http_date_is_honoured(cycle: CycleHarness) -> None:
    # The test clock stands at 2026-11-02 06:00:05 UTC; the server asks for 06:00:12.
    when = "Mon, 02 Nov 2026 06:00:12 GMT"
    cycle.graph.script.then(Reply(503, "", {"Retry-After": when}))

    cycle.run()

    assert cycle.clock.sleeps == [7.0]
    assert len(cycle.snapshots()) == 1


def test_a_burst_of_server_errors_is_ridden_out(cycle: CycleHarness) -> None:
    cycle.graph.script.then(Reply(500), Reply(502), Reply(504))

    cycle.run()

    assert len(cycle.graph.report_requests) == 4
    assert cycle.clock.sleeps == [2.0, 4.0, 8.0]  # exponential without Retry-After
    assert len(cycle.snapshots()) == 1


def test_endless_server_errors_give_up_within_bounds_and_store_nothing(
    cycle: CycleHarness,
) -> None:
    cycle.graph.script.then(*[graph_error(500, "generalException", "boom")] * 50)

    with fails_with(GraphError) as failure:
        cycle.run_once()

    assert len(cycle.graph.report_requests) == 4  # RetryPolicy.max_attempts
    assert sum(cycle.clock.sleeps) <= 60
    assert "code=generalException" in failure.value.message
    assert "the next run will try again" in failure.value.message  # retryable
    assert "request-id=req-500-generalException" in str(failure.value)
    assert cycle.snapshots() == []


def test_a_server_asking_to_wait_too_long_is_not_waited_for_beyond_the_cap(
    cycle: CycleHarness,
) -> None:
    cycle.graph.script.then(*[Reply(429, "", {"Retry-After": "3600"})] * 10)

    with fails_with(GraphError):
        cycle.run_once()

    assert cycle.clock.sleeps == [30, 30]  # capped per wait, and 60 s in all


@pytest.mark.parametrize(
    ("status", "code", "advice"),
    [
        (400, "BadRequest", "Graph rejected the request"),
        (401, "InvalidAuthenticationToken", "Reports.Read.All"),
        (403, "Authorization_RequestDenied", "Reports.Read.All"),
        (403, "Authentication_RequestFromNonPremiumTenantOrB2CTenant", "Entra ID P1 or P2"),
        (404, "Request_ResourceNotFound", "GRAPH_ENDPOINT"),
    ],
)
def test_client_errors_fail_at_once_with_code_request_id_and_advice(
    cycle: CycleHarness, status: int, code: str, advice: str
) -> None:
    cycle.configure(REPORT_SOURCE="beta")  # with `auto`, a 404 moves to the v1.0 source
    cycle.graph.script.then(graph_error(status, code, "Graph's own words"))

    with fails_with(GraphError) as failure:
        cycle.run_once()

    assert len(cycle.graph.report_requests) == 1
    message = str(failure.value)
    assert code in message and f"req-{status}-{code}" in message and advice in message
    assert "Graph's own words" in message
    assert cycle.snapshots() == []


def test_a_timeout_is_retried_then_reported(cycle: CycleHarness) -> None:
    # The harness gives the app a 1 s HTTP timeout; Graph answers after 3 s, four times.
    cycle.graph.script.then(*[Reply(200, b"{}", delay=3)] * 4)
    started = time.monotonic()

    with fails_with(GraphError, match=r"could not be reached.*ReadTimeout"):
        cycle.run_once()

    assert len(cycle.graph.report_requests) == 4
    assert time.monotonic() - started < 30
    assert cycle.snapshots() == []


def test_a_timeout_then_an_answer_stores_the_report(cycle: CycleHarness) -> None:
    cycle.graph.script.then(Reply(200, b"{}", delay=3))

    cycle.run()

    assert len(cycle.snapshots()) == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"<!DOCTYPE html><html><body>Service unavailable</body></html>", "body"),
        (json.dumps({"value": {"totalUserCount": 3}}).encode(), "value"),
        (
            json.dumps({"value": [{"userRegistrationCounts": []}]}).encode(),
            "value[0].totalUserCount",
        ),
        (
            json.dumps(report(10, {"mfaRegistered": -1})).encode(),
            "value[0].userRegistrationCounts[0].registrationCount",
        ),
        (
            json.dumps(report(10, {"mfaRegistered": "many"})).encode(),
            "value[0].userRegistrationCounts[0].registrationCount",
        ),
    ],
)
def test_a_malformed_report_is_rejected_naming_the_field_and_nothing_is_stored(
    cycle: CycleHarness, body: bytes, field: str
) -> None:
    cycle.graph.report_body = body

    with fails_with(ReportFormatError) as failure:
        cycle.run_once()

    assert f"nothing stored: {field}: " in failure.value.message
    assert cycle.snapshots() == []
    assert len(cycle.graph.report_requests) == 1  # a malformed answer is not retried


def test_a_total_of_zero_is_stored_and_checked_without_dividing(
    cycle: CycleHarness, caplog: pytest.LogCaptureFixture
) -> None:
    cycle.configure(TEAMS_WEBHOOK_URL=cycle.teams.webhook_url, REPORT_SOURCE="beta")
    cycle.graph.report_body = json.dumps(report(0, {"mfaRegistered": 0, "capable": 0})).encode()

    result = cycle.run()

    assert not result.deliveries[0].poisoned
    (entity,) = cycle.snapshots()
    assert entity["TotalUserCount"].value == 0
    (card,) = cycle.teams.cards  # nothing divided, and the empty report said (#15 item 2)
    assert card["body"][0]["items"][0]["text"] == "The report counts no users"
    assert "coverage ratios are undefined" in caplog.text


def test_a_redirect_is_not_followed_and_the_token_goes_nowhere_else(
    cycle: CycleHarness,
) -> None:
    with LoopbackServer(lambda request: Reply(200, b"{}")) as elsewhere:
        location = f"{elsewhere.url}/beta/reports/getCredentialUserRegistrationCount"
        cycle.graph.script.then(Reply(302, "", {"Location": location}))

        with fails_with(GraphError, match=r"redirect.*not followed"):
            cycle.run_once()

        assert elsewhere.requests == []
    assert cycle.snapshots() == []


def test_no_managed_identity_endpoint_fails_saying_so(cycle: CycleHarness) -> None:
    cycle.identity.stop()  # the endpoint is gone: connection refused

    with fails_with(CredentialError, match="managed identity endpoint could not be reached"):
        cycle.run_once()

    assert cycle.graph.requests == []


def test_an_app_without_an_identity_fails_saying_how_to_turn_one_on(cycle: CycleHarness) -> None:
    # What App Service's endpoint answers when the app has no (such) identity.
    no_identity = Reply(
        400, {"statusCode": 400, "message": "Unable to load the proper Managed Identity."}
    )
    cycle.identity.script.then(*[no_identity] * 5)

    with fails_with(CredentialError) as failure:
        cycle.run_once()

    assert "no managed identity is available" in str(failure.value)
    assert "AZURE_CLIENT_ID" in str(failure.value)

    assert cycle.graph.requests == []


def test_storage_unreachable_fails_clearly_and_within_bounded_time(
    cycle: CycleHarness,
) -> None:
    with Azurite() as doomed:
        cycle.configure(AzureWebJobsStorage=doomed.connection_string)
    started = time.monotonic()  # Azurite stopped: nothing listens on its port any more

    with fails_with(StorageError, match=r"unreachable.*Azurite"):
        cycle.run_once()

    assert time.monotonic() - started < 30
    # The fetch health is read once the fetch is over (on the state as it is then): the report
    # was fetched, once, and could not be stored.
    assert len(cycle.graph.requests) == 1


def test_storage_stopping_between_fetch_and_check_fails_the_check_clearly(
    cycle: CycleHarness,
) -> None:
    with Azurite() as doomed:
        cycle.configure(AzureWebJobsStorage=doomed.connection_string)
        message = cycle.host.run("FetchReport")["check"]
    cycle.use_webhook()  # the same, stopped, Azurite

    delivery = cycle.host.deliver("snapshots-to-check", message)

    assert delivery.poisoned
    assert all(e.exception_type == "StorageError" for e in delivery.errors)
    # Said once, by the last try (#15 item 9): Teams is reachable even if storage is not.
    (card,) = cycle.teams.cards
    assert card["body"][0]["items"][0]["text"] == (
        "Entra registration monitor: CheckThresholds fails: Table Storage fails"
    )


def test_teams_throttling_then_acceptance_posts_once(cycle: CycleHarness) -> None:
    cycle.use_webhook()
    cycle.teams.script.then(Reply(429, "", {"Retry-After": "5"}))
    cycle.graph.report_body = BREACHING

    result = cycle.run()

    assert not result.deliveries[0].poisoned
    assert len(cycle.teams.requests) == 2
    assert cycle.clock.sleeps == [5.0]


def test_teams_failing_forever_is_a_visible_error_and_the_message_goes_to_poison(
    cycle: CycleHarness,
) -> None:
    cycle.use_webhook()
    cycle.teams.script.then(*[Reply(500, "flow failed")] * 100)
    cycle.graph.report_body = BREACHING

    (delivery,) = cycle.run().deliveries

    assert delivery.poisoned
    assert len(cycle.teams.requests) == 4 * cycle.host.max_dequeue_count
    error = str(delivery.errors[-1])
    assert "HTTP 500" in error and "after 4 attempts" in error
    assert "sig=" not in error and "[redacted]" in error


def test_a_permanent_teams_refusal_is_not_retried(cycle: CycleHarness) -> None:
    cycle.use_webhook()
    cycle.teams.script.then(Reply(400, "Bad Request"))
    cycle.graph.report_body = BREACHING

    (delivery,) = cycle.run().deliveries

    assert len(cycle.teams.requests) == 2  # one per delivery: the second one succeeded
    assert not delivery.poisoned and delivery.attempts == 2
    assert "HTTP 400" in str(delivery.errors[0])


def test_a_legacy_connector_error_in_a_200_is_a_failure(cycle: CycleHarness) -> None:
    cycle.use_webhook()
    cycle.teams.script.then(Reply(200, "Microsoft Teams endpoint returned HTTP error 413"))
    cycle.graph.report_body = BREACHING

    (delivery,) = cycle.run().deliveries

    assert "legacy connector" in str(delivery.errors[0])
    assert delivery.attempts == 2


def test_a_re_run_of_the_same_fetch_is_a_snapshot_of_its_own(cycle: CycleHarness) -> None:
    cycle.run()
    cycle.clock.advance(minutes=5)  # a manual run, five minutes later
    cycle.run()

    assert len(cycle.snapshots()) == 2
