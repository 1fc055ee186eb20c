"""Memory flat in the number of tenants: the fleet keeps a small LRU of tenants' parts, closes an
evicted tenant's credential, and keeps its pacer while its sends still hold Graph's window."""

from __future__ import annotations

from shared.sources.v1.pacing import Pacer
from shared.tenants.cache import LruCache
from shared.tenants.fleet import Fleet
from tests.functions import test_tenants
from tests.functions.test_tenants import CONTOSO, FABRIKAM, NORTHWIND
from tests.functions.test_tenants import Fleet as Tenants

fleet = test_tenants.fleet  # the three tenants, through the host (tests/functions/test_tenants.py)


def test_the_least_recently_used_value_is_evicted_and_handed_over() -> None:
    evicted: list[tuple[str, int]] = []
    cache: LruCache[int] = LruCache(capacity=2, on_evict=lambda k, v: evicted.append((k, v)))

    cache.get_or_build("a", lambda: 1)
    cache.get_or_build("b", lambda: 2)
    cache.get_or_build("a", lambda: 99)  # a is used again: b is now the oldest
    cache.get_or_build("c", lambda: 3)

    assert evicted == [("b", 2)]
    assert "a" in cache and "c" in cache and len(cache) == 2


def test_a_fleet_holds_at_most_its_capacity_and_closes_what_it_evicts(fleet: Tenants) -> None:
    app = fleet.cycle.app
    assert app is not None
    tenants = Fleet(app, capacity=2)
    closed: list[str] = []
    first = tenants._parts(CONTOSO)
    first.credential.close = lambda: closed.append(CONTOSO)  # type: ignore[method-assign]

    tenants.source_for(CONTOSO)
    tenants.source_for(FABRIKAM)
    tenants.source_for(NORTHWIND)

    assert len(tenants.parts) == 2 and CONTOSO not in tenants.parts
    assert closed == [CONTOSO]
    assert tenants.source_for(CONTOSO) is not first.source  # built again, with a new credential
    tenants.close()


def test_an_evicted_tenants_pacer_is_kept_while_it_holds_the_window(fleet: Tenants) -> None:
    app = fleet.cycle.app
    assert app is not None
    tenants = Fleet(app, capacity=1)
    pacer: Pacer = tenants._parts(CONTOSO).pacer
    for _ in range(5):
        pacer.wait()  # five sends now: Graph's window for Contoso is full

    tenants.source_for(FABRIKAM)  # evicts Contoso

    assert tenants._parts(CONTOSO).pacer is pacer and pacer.delay() > 0
    fleet.cycle.clock.advance(seconds=11)
    tenants.source_for(FABRIKAM)  # evicts Contoso again, now idle: its pacer is let go
    assert tenants._parts(CONTOSO).pacer is not pacer
    tenants.close()
