"""Bounded retries: honour Retry-After, never exceed the attempts or the waiting budget (pure).

`send`, `sleep` and `clock` are passed in, so no test waits; responses are real httpx objects.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.retry import RetryPolicy, call_with_retries, parse_retry_after

NOW = datetime(2026, 11, 23, 6, 0, 0, tzinfo=timezone.utc)
RETRYABLE = {429, 500, 502, 503, 504}


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("2.128", 2.128),
        ("30", 30.0),
        (" 7 ", 7.0),
        ("-4", 0.0),
        ("Mon, 23 Nov 2026 06:00:45 GMT", 45.0),
        ("Mon, 23 Nov 2026 05:59:00 GMT", 0.0),
        (None, None),
        ("", None),
        ("soon", None),
        ("nan", None),
        ("inf", None),
    ],
)
def test_retry_after_is_seconds_or_an_http_date(header: str | None, seconds: float | None) -> None:
    assert parse_retry_after(header, NOW) == seconds


class Peer:
    """Answers with the given statuses (or exceptions) in order, recording the sleeps asked for."""

    def __init__(self, *answers: int | tuple[int, str] | Exception) -> None:
        self.answers = list(answers)
        self.calls = 0
        self.sleeps: list[float] = []

    def send(self) -> httpx.Response:
        answer = self.answers[min(self.calls, len(self.answers) - 1)]
        self.calls += 1
        if isinstance(answer, Exception):
            raise answer
        status, retry_after = answer if isinstance(answer, tuple) else (answer, None)
        headers = {"Retry-After": retry_after} if retry_after else {}
        return httpx.Response(status, headers=headers)

    def call(self, policy: RetryPolicy | None = None):
        return call_with_retries(
            self.send,
            what="test",
            retry_statuses=RETRYABLE,
            policy=policy or RetryPolicy(),
            sleep=self.sleeps.append,
            clock=lambda: NOW,
        )


def test_throttling_is_retried_after_the_time_the_server_asks() -> None:
    peer = Peer((429, "2.128"), (429, "1"), 200)

    attempts = peer.call()

    assert attempts.response is not None and attempts.response.status_code == 200
    assert peer.sleeps == [2.128, 1.0]
    assert attempts.count == 3


def test_without_retry_after_the_backoff_doubles() -> None:
    peer = Peer(503, 503, 503, 200)

    peer.call()

    assert peer.sleeps == [2.0, 4.0, 8.0]


def test_client_errors_are_not_retried() -> None:
    for status in (400, 401, 403, 404):
        peer = Peer(status, 200)
        attempts = peer.call()
        assert (attempts.count, peer.sleeps) == (1, [])


def test_endless_errors_stop_after_the_attempt_limit() -> None:
    peer = Peer(500)

    attempts = peer.call(RetryPolicy(max_attempts=4))

    assert attempts.count == 4 == peer.calls
    assert attempts.response is not None and attempts.response.status_code == 500


def test_a_server_asking_for_a_long_wait_is_capped() -> None:
    peer = Peer((429, "3600"), 200)

    peer.call()

    assert peer.sleeps == [30.0]


def test_the_total_wait_never_exceeds_the_budget() -> None:
    peer = Peer((429, "25"))

    attempts = peer.call(RetryPolicy(max_attempts=10, max_total_wait=60))

    assert sum(peer.sleeps) <= 60
    assert peer.sleeps == [25.0, 25.0]
    assert attempts.waited == 50.0


def test_connection_errors_and_timeouts_are_retried_and_reported() -> None:
    peer = Peer(httpx.ConnectError("refused"), httpx.ReadTimeout("slow"), 200)

    assert peer.call().response is not None
    assert peer.calls == 3

    failing = Peer(httpx.ConnectTimeout("no route"))
    attempts = failing.call(RetryPolicy(max_attempts=2))
    assert attempts.response is None
    assert isinstance(attempts.error, httpx.ConnectTimeout)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("Monday, 23-Nov-26 06:00:45 GMT", 45.0),  # RFC 850, which HTTP still allows
        ("Mon Nov 23 06:00:45 2026", 45.0),  # asctime
        ("Mon, 23 Nov 2026 07:00:45 +0100", 45.0),  # an offset is honoured
        ("Mon, 23 Nov 2026 06:00:45 -0000", 45.0),  # no zone: taken as UTC
        ("Mon, 23 Nov 2026 06:02:00 GMT", 120.0),
        ("Mon, 32 Nov 2026 06:00:45 GMT", None),
        ("Mon, 23 Nov 99999 06:00:45 GMT", None),
        ("0", 0.0),
        ("0.5", 0.5),
        ("-0.001", 0.0),
        ("   ", None),
        ("0x10", None),
        ("2 seconds", None),
    ],
)
def test_retry_after_in_every_form_http_allows(header: str, seconds: float | None) -> None:
    assert parse_retry_after(header, NOW) == seconds


def test_an_http_date_is_measured_from_the_given_now() -> None:
    header = "Mon, 23 Nov 2026 06:01:00 GMT"
    later = NOW.replace(second=30)

    assert (parse_retry_after(header, NOW), parse_retry_after(header, later)) == (60.0, 30.0)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_any_header_gives_nothing_or_a_finite_wait_of_zero_or_more(header: str) -> None:
    seconds = parse_retry_after(header, NOW)

    assert seconds is None or (math.isfinite(seconds) and seconds >= 0)


@pytest.mark.parametrize(
    ("attempt", "retry_after", "delay"),
    [
        (1, None, 2.0),
        (2, None, 4.0),
        (3, None, 8.0),
        (4, None, 16.0),
        (5, None, 30.0),  # 32, capped
        (1, 3.5, 3.5),
        (7, 0.0, 0.0),
        (1, 31.0, 30.0),
        (1, 1e308, 30.0),
    ],
)
def test_a_policy_doubles_its_backoff_and_caps_every_wait(
    attempt: int, retry_after: float | None, delay: float
) -> None:
    assert RetryPolicy().delay(attempt, retry_after) == delay


def test_a_policy_s_bounds_are_four_attempts_and_ninety_seconds_by_default() -> None:
    policy = RetryPolicy()

    assert (policy.max_attempts, policy.max_total_wait, policy.max_retry_after) == (4, 90.0, 30.0)


def test_a_non_retryable_answer_ends_at_once_even_if_it_names_a_retry_after() -> None:
    peer = Peer((403, "5"), 200)

    attempts = peer.call()

    assert (attempts.count, attempts.waited, peer.sleeps, peer.calls) == (1, 0.0, [], 1)
    assert attempts.response is not None and attempts.response.status_code == 403


def test_a_wait_longer_than_the_budget_left_ends_without_sleeping() -> None:
    peer = Peer((503, "20"), 200)

    attempts = peer.call(RetryPolicy(max_total_wait=10))

    assert (attempts.count, peer.sleeps, peer.calls) == (1, [], 1)
    assert attempts.response is not None and attempts.response.status_code == 503


def test_the_budget_allows_a_wait_that_uses_it_exactly() -> None:
    peer = Peer((503, "6"), (503, "4"), 200)

    attempts = peer.call(RetryPolicy(max_total_wait=10))

    assert (peer.sleeps, attempts.waited, attempts.count) == ([6.0, 4.0], 10.0, 3)


def test_an_http_date_retry_after_is_measured_with_the_clock_passed_in() -> None:
    peer = Peer((429, "Mon, 23 Nov 2026 06:00:12 GMT"), 200)

    peer.call()

    assert peer.sleeps == [12.0]


def test_one_attempt_means_no_retry() -> None:
    peer = Peer(503, 200)

    attempts = peer.call(RetryPolicy(max_attempts=1))

    assert (attempts.count, peer.sleeps) == (1, [])
    assert attempts.tries == "after 1 attempt"


def test_the_outcome_counts_attempts_and_the_time_waited() -> None:
    peer = Peer(500, 502, 504, 200)

    attempts = peer.call(RetryPolicy(max_attempts=4))

    assert (attempts.count, attempts.waited, attempts.tries) == (4, 14.0, "after 4 attempts")
    assert attempts.waited == sum(peer.sleeps)
    assert attempts.error is None


def test_a_success_after_a_transport_error_carries_no_error() -> None:
    peer = Peer(httpx.ConnectError("refused"), 200)

    attempts = peer.call()

    assert attempts.error is None
    assert attempts.response is not None and attempts.response.status_code == 200
    assert peer.sleeps == [2.0]


def test_a_throttling_storm_ends_within_the_attempts_and_the_budget() -> None:
    peer = Peer((429, "30"))
    policy = RetryPolicy(max_attempts=10, max_total_wait=90, max_retry_after=30)

    attempts = peer.call(policy)

    assert peer.sleeps == [30.0, 30.0, 30.0]
    assert (attempts.count, attempts.waited) == (4, 90.0)
