"""Pace requests to stay under a per-window limit instead of colliding with it.

Graph throttles its identity reports at about 5 requests per 10 seconds per app and tenant
(https://learn.microsoft.com/graph/throttling-limits#identity-and-access-reports-service-limits).
Paging a large tenant's userRegistrationDetails takes hundreds of requests: sending them as fast
as possible would earn a 429 every sixth request and a Retry-After each time. The pacer keeps a
sliding window of the last `limit` send times and waits until the oldest has left the window
(plus a small margin for the clock skew between us and Graph's front door), so a whole pass runs
at the limit's floor with no 429 at all. A 429 that comes anyway is still honoured by the retry
loop (shared.sources.graph_client), whose attempts pass through the pacer too.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable


class Pacer:
    """At most `limit` sends in any `window` seconds of `clock` (seconds, monotonic in spirit).

    `clock` and `sleep` are injected: tests pass a fake clock, the benchmark a compressed one.
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float],
        sleep: Callable[[float], None],
        limit: int = 5,
        window: float = 10.0,
        margin: float = 0.1,
    ) -> None:
        if limit < 1 or window <= 0 or margin < 0:
            raise ValueError("a pacer needs limit >= 1, window > 0 and margin >= 0")
        self._clock = clock
        self._sleep = sleep
        self._window = window + margin
        self._sent: deque[float] = deque(maxlen=limit)
        self.waited = 0.0  # seconds slept so far, for logs and the benchmark

    def delay(self) -> float:
        """Seconds to wait before the next send may go."""
        if len(self._sent) < (self._sent.maxlen or 0):
            return 0.0
        return max(0.0, self._sent[0] + self._window - self._clock())

    def idle(self) -> bool:
        """True if no send is in the window any more: a fresh pacer would do the same."""
        return not self._sent or self._sent[-1] + self._window <= self._clock()

    def wait(self) -> None:
        """Sleep until a send is allowed, then count one send now."""
        pause = self.delay()
        if pause > 0:
            self._sleep(pause)
            self.waited += pause
        self._sent.append(self._clock())
