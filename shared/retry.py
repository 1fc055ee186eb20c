"""Bounded retries for the app's two HTTP peers (Graph and the Teams webhook).

A retry loop that honours the server but always finishes: at most `max_attempts` calls and at
most `max_total_wait` seconds of sleeping, with each server-given `Retry-After` capped, so a run
ends well inside the function timeout (host.json) even during a throttling storm.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

import httpx

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 4
    max_total_wait: float = 90.0  # seconds of sleeping across one call's retries
    max_retry_after: float = 30.0  # a server asking for longer is not worth waiting for here
    base_delay: float = 2.0  # without Retry-After: 2, 4, 8 ... seconds

    def delay(self, attempt: int, retry_after: float | None) -> float:
        wanted = retry_after if retry_after is not None else self.base_delay * 2 ** (attempt - 1)
        return min(wanted, self.max_retry_after)


@dataclass(frozen=True)
class Attempts:
    """How a bounded series of calls ended: a response, or the transport error of the last try."""

    response: httpx.Response | None
    error: httpx.TransportError | None
    count: int
    waited: float

    @property
    def tries(self) -> str:
        """`after 3 attempts`, for error messages."""
        return f"after {self.count} attempt{'s' if self.count > 1 else ''}"


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds (Graph sends `2.128`) or a date."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        seconds = math.nan
    if math.isfinite(seconds):
        return max(seconds, 0.0)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        log.warning("ignoring a Retry-After header that is neither seconds nor a date: %r", value)
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max((when - now).total_seconds(), 0.0)


def call_with_retries(
    send: Callable[[], httpx.Response],
    *,
    what: str,
    retry_statuses: Collection[int],
    policy: RetryPolicy,
    sleep: Callable[[float], None],
    clock: Callable[[], datetime],
) -> Attempts:
    """Call `send` until it answers outside `retry_statuses`, or the policy's bounds are hit."""
    waited = 0.0
    attempt = 0
    while True:
        attempt += 1
        response: httpx.Response | None = None
        error: httpx.TransportError | None = None
        try:
            response = send()
        except httpx.TransportError as exc:  # connection refused/reset, timeouts
            error = exc
        if response is not None and response.status_code not in retry_statuses:
            return Attempts(response, None, attempt, waited)
        retry_after = (
            parse_retry_after(response.headers.get("Retry-After"), clock()) if response else None
        )
        delay = policy.delay(attempt, retry_after)
        if attempt >= policy.max_attempts or waited + delay > policy.max_total_wait:
            return Attempts(response, error, attempt, waited)
        failure = f"HTTP {response.status_code}" if response is not None else _describe(error)
        request_id = response.headers.get("request-id", "") if response is not None else ""
        log.warning(
            "%s: %s%s on attempt %d of %d; retrying in %.1f s",
            what,
            failure,
            f" (request-id {request_id})" if request_id else "",
            attempt,
            policy.max_attempts,
            delay,
        )
        sleep(delay)
        waited += delay


def _describe(error: httpx.TransportError | None) -> str:
    if error is None:
        return "no answer"
    detail = str(error) or "no detail"
    return f"{type(error).__name__} ({detail})"
