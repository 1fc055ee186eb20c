"""Bounded retries: honour Retry-After, never exceed the attempts or the waiting budget (pure).

`send`, `sleep` and `clock` are passed in, so no test waits; responses are real httpx objects.
"""

from __future__ import annotations

from datetime import datetime, timezone

import httpx
import pytest

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
