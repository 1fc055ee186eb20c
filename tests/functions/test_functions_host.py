"""The test host: Microsoft's worker loads and invokes, the host retries, routes and poisons.

Small fixture apps (tests/functions/function_apps/) pin down what the host and the worker do;
the last tests run the real FetchReport's retry block against the stand-ins.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from shared.errors import GraphError
from standins.functions_host import FunctionLoadError, FunctionsHost, InvocationFailed
from standins.graph import graph_error
from tests.conftest import Clock, CycleHarness, fails_with

APPS = Path(__file__).resolve().parent / "function_apps"
START = datetime(2026, 11, 2, 6, 0, 0, tzinfo=timezone.utc)


@pytest.fixture
def clock() -> Clock:
    return Clock(START)


def host(app: str, clock: Clock, **settings: str) -> FunctionsHost:
    return FunctionsHost(
        {"TICK_SCHEDULE": "0 */5 * * * *", **settings},
        APPS / app,
        sleep=clock.sleep,
        now=clock,
    )


# -- the worker refuses what does not match function.json ------------------------------------


def test_the_worker_refuses_an_output_binding_annotated_as_a_plain_str(clock: Clock) -> None:
    with pytest.raises(FunctionLoadError) as refusal:
        host("misannotated", clock).load("OutAsStr")

    # The worker's own words (azure_functions_runtime_v1.functions), not this host's.
    assert str(refusal.value) == (
        "FunctionLoadError: cannot load the OutAsStr function: binding check is declared to "
        'have the "out" direction, but its annotation in Python is not a subclass of '
        "azure.functions.Out"
    )


def test_the_worker_refuses_a_queue_trigger_annotated_as_an_http_request(clock: Clock) -> None:
    with pytest.raises(FunctionLoadError, match=r"cannot load the QueueAsHttp function") as refusal:
        host("misannotated", clock).load("QueueAsHttp")

    assert 'type of msg binding in function.json "queueTrigger" does not match its Python ' in (
        str(refusal.value)
    )


def test_the_worker_fails_a_return_value_without_a_return_binding(clock: Clock) -> None:
    with pytest.raises(InvocationFailed) as failure:
        host("misannotated", clock).run_timer("StrayReturn")

    assert failure.value.exception_type == "RuntimeError"
    assert "without a $return binding" in failure.value.message


def test_a_binding_expression_needs_its_app_setting(clock: Clock) -> None:
    bare = FunctionsHost({}, APPS / "retrying", sleep=clock.sleep, now=clock)

    with pytest.raises(FunctionLoadError, match=r"%TICK_SCHEDULE% needs the app setting"):
        bare.run_timer("RetryFixedTimer")


# -- timer retries and the retry context ------------------------------------------------------


def test_a_fixed_delay_retry_re_invokes_with_the_retry_context(
    clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FIXTURE_FAILURES", "2")
    timers = host("retrying", clock)

    cycle = timers.run_timer("RetryFixedTimer")

    assert cycle.attempts == 3
    assert clock.sleeps == [10.0, 10.0]
    assert [e.message for e in cycle.errors] == [
        "RuntimeError: attempt with retry_count=0 max_retry_count=2",
        "RuntimeError: attempt with retry_count=1 max_retry_count=2",
    ]
    seen = json.loads(cycle.outputs["item"])
    assert seen["retry_count"] == 2 and seen["max_retry_count"] == 2
    assert seen["previous_error"] == cycle.errors[-1].message
    # The timer payload as the host sends it: due now, never run before.
    assert seen["past_due"] is False
    assert seen["schedule_status"]["Last"] == "0001-01-01T00:00:00"
    assert seen["schedule_status"]["Next"] == START.isoformat()
    # The output went to the queue trigger listening on its queue, and was accepted.
    (delivery,) = cycle.deliveries
    assert delivery.queue == "work-items" and not delivery.poisoned


def test_the_first_attempt_gets_retry_count_zero_and_the_blocks_maximum(
    clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FIXTURE_FAILURES", "0")

    cycle = host("retrying", clock).run_timer("RetryFixedTimer")

    seen = json.loads(cycle.outputs["item"])
    assert (seen["retry_count"], seen["max_retry_count"], seen["previous_error"]) == (0, 2, "")
    assert cycle.attempts == 1 and clock.sleeps == []


def test_a_second_occurrence_reports_the_first_as_last(
    clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FIXTURE_FAILURES", "0")
    timers = host("retrying", clock)
    timers.run_timer("RetryFixedTimer")
    clock.advance(minutes=5)

    seen = json.loads(timers.run_timer("RetryFixedTimer").outputs["item"])

    assert seen["schedule_status"]["Last"] == START.isoformat()
    assert seen["schedule_status"]["Next"] == (START + timedelta(minutes=5)).isoformat()


def test_exponential_backoff_doubles_up_to_its_maximum_then_the_last_error_is_raised(
    clock: Clock,
) -> None:
    with pytest.raises(InvocationFailed) as failure:
        host("retrying", clock).run_timer("RetryBackoffTimer")

    assert clock.sleeps == [4.0, 8.0, 10.0]
    assert failure.value.attempts == 4
    assert failure.value.message == "ValueError: attempt with retry_count=3"
    assert "RetryBackoffTimer failed (4 times)" in str(failure.value)


def test_without_a_retry_block_one_failure_is_final(clock: Clock) -> None:
    with pytest.raises(InvocationFailed) as failure:
        host("retrying", clock).run_timer("NoRetryTimer")

    assert failure.value.attempts == 1 and clock.sleeps == []
    assert failure.value.message == ("ValueError: attempt with retry_count=0 max_retry_count=0")


def test_retries_false_invokes_once_with_a_first_attempts_context(
    clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FIXTURE_FAILURES", "1")

    with pytest.raises(InvocationFailed) as failure:
        host("retrying", clock).run_timer("RetryFixedTimer", retries=False)

    assert failure.value.attempts == 1 and clock.sleeps == []
    assert "retry_count=0 max_retry_count=2" in failure.value.message


# -- queues: redelivery up to maxDequeueCount, then poison; no retry block ---------------------


def test_a_failing_queue_message_is_redelivered_then_poisoned_ignoring_the_retry_block(
    clock: Clock,
) -> None:
    queues = host("retrying", clock)

    delivery = queues.deliver("work-items", "not json")

    assert delivery.poisoned and delivery.attempts == queues.max_dequeue_count == 3
    assert clock.sleeps == []  # the function's retry block does not apply to a queue trigger
    assert queues.poison == {"work-items-poison": ["not json"]}
    messages = [e.message for e in delivery.errors]
    assert all(f"dequeue_count={n}," in m for n, m in zip((1, 2, 3), messages, strict=True))
    assert all(f"inserted={START.isoformat()}" in m and "pop_receipt=True" in m for m in messages)
    ids = {m.split("id=")[1].split(",")[0] for m in messages}
    assert len(ids) == 1  # the same message, dequeued again


def test_a_queue_nobody_listens_on_is_an_error(clock: Clock) -> None:
    with pytest.raises(FunctionLoadError, match=r"queue 'nowhere' has 0 listeners"):
        host("retrying", clock).deliver("nowhere", "{}")


# -- the real FetchReport's retry block ------------------------------------------------------


def test_a_failing_scheduled_fetch_is_retried_twice_five_minutes_apart(
    cycle: CycleHarness,
) -> None:
    cycle.graph.script.then(*[graph_error(403, "Authorization_RequestDenied", "nope")] * 3)

    with fails_with(GraphError) as failure:
        cycle.run()

    assert failure.value.attempts == 3
    assert len(cycle.graph.report_requests) == 3
    assert cycle.clock.sleeps == [300.0, 300.0]  # function.json: fixedDelay 00:05:00
    assert "Authorization_RequestDenied" in failure.value.message
    assert cycle.snapshots() == []


def test_a_fetch_that_fails_once_is_stored_by_the_host_retry(cycle: CycleHarness) -> None:
    cycle.graph.script.then(graph_error(403, "Authorization_RequestDenied", "nope"))

    result = cycle.run()

    assert result.attempts == 2
    assert result.errors[0].exception_type == "GraphError"
    assert len(cycle.snapshots()) == 1
    assert [d.poisoned for d in result.deliveries] == [False]
