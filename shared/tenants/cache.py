"""A small least-recently-used cache: what keeps a worker's memory flat in the number of tenants.

A worker that fetches 1,000 tenants in turn would otherwise keep every tenant's credential (its
msal token cache) and source, about 65 KiB each. The working set (the tenants a worker is
serving now, and those it served last) stays cached, so each keeps one credential and its
token for the worker's life; a tenant pushed out is closed by `on_evict` and built again the
next time it comes.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

V = TypeVar("V")

# How many tenants' parts one worker keeps. One instance takes one message at a time (host.json
# batchSize 1, newBatchThreshold 0), so 64 is far more than it serves at once.
MAX_CACHED_TENANTS = 64


class LruCache(Generic[V]):
    """At most `capacity` values by key; `get_or_build` is thread-safe and builds each value
    once (under the lock: building is cheap, no I/O). The evicted value goes to `on_evict`,
    outside the lock."""

    def __init__(
        self,
        *,
        capacity: int = MAX_CACHED_TENANTS,
        on_evict: Callable[[str, V], None] = lambda _key, _value: None,
    ) -> None:
        if capacity < 1:
            raise ValueError("an LRU cache holds at least one value")
        self.capacity = capacity
        self._on_evict = on_evict
        self._values: OrderedDict[str, V] = OrderedDict()
        self._lock = threading.Lock()
        self.evicted = 0  # for tests and the benchmark

    def get_or_build(self, key: str, build: Callable[[], V]) -> V:
        evicted: list[tuple[str, V]] = []
        with self._lock:
            value = self._values.get(key)
            if value is not None:
                self._values.move_to_end(key)
                return value
            value = self._values[key] = build()
            while len(self._values) > self.capacity:
                evicted.append(self._values.popitem(last=False))
            self.evicted += len(evicted)
        for old_key, old in evicted:
            self._on_evict(old_key, old)
        return value

    def get(self, key: str) -> V | None:
        with self._lock:
            value = self._values.get(key)
            if value is not None:
                self._values.move_to_end(key)
            return value

    def put(self, key: str, value: V) -> None:
        """Keep `value` for `key` (built outside the lock: reading it may take I/O)."""
        with self._lock:
            self._values[key] = value
            self._values.move_to_end(key)
            evicted = []
            while len(self._values) > self.capacity:
                evicted.append(self._values.popitem(last=False))
            self.evicted += len(evicted)
        for old_key, old in evicted:
            self._on_evict(old_key, old)

    def discard(self, key: str) -> None:
        """Forget `key`'s value (to build it again), without `on_evict`."""
        with self._lock:
            self._values.pop(key, None)

    def __len__(self) -> int:
        return len(self._values)

    def __contains__(self, key: str) -> bool:
        return key in self._values

    def clear(self) -> None:
        """Empty the cache, handing every value to `on_evict`."""
        with self._lock:
            values, self._values = list(self._values.items()), OrderedDict()
        for key, value in values:
            self._on_evict(key, value)
