"""Graph's budget across every tenant, shared by one worker's tenant clients.

Graph throttles the identity and access reports at 5 requests per 10 s per app and tenant, and
at 122 requests per 10 s per app across all tenants
(https://learn.microsoft.com/graph/throttling-limits#identity-and-access-reports-service-limits).
Each tenant's v1.0 source paces itself to the first (shared/sources/v1/pacing.py); this keeps
the worker under its share of the second: the app's limit divided among the instances that may
fetch at once (MAX_INSTANCE_COUNT, which infra/main.bicep sets from Flex Consumption's
maximumInstanceCount), so that all instances together stay under it without talking to each
other. host.json's queues batchSize=1 / newBatchThreshold=0 keep one tenant per instance.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from shared.sources.v1.pacing import Pacer

CROSS_TENANT_LIMIT = 122  # requests per app across all tenants, per window
CROSS_TENANT_WINDOW = 10.0  # seconds


class CrossTenantBudget:
    """A thread-safe pacer holding one worker to `limit // instances` requests per window."""

    def __init__(
        self,
        *,
        instances: int,
        clock: Callable[[], float],
        sleep: Callable[[float], None],
        limit: int = CROSS_TENANT_LIMIT,
        window: float = CROSS_TENANT_WINDOW,
    ) -> None:
        self.share = max(1, limit // max(1, instances))
        self._pacer = Pacer(clock=clock, sleep=sleep, limit=self.share, window=window)
        self._lock = threading.Lock()
        self.sent = 0

    def wait(self) -> None:
        """Block until this worker's share allows one more request, then count it."""
        with self._lock:
            self._pacer.wait()
            self.sent += 1

    @property
    def waited(self) -> float:
        return self._pacer.waited
