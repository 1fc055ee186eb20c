"""Many tenants at scale: one fetch cycle over 1,000 synthetic customer tenants (#18).

    .venv/bin/python scripts/benchmark_tenants.py               # 1,000 tenants (and 100)
    .venv/bin/python scripts/benchmark_tenants.py --tenants 300

On the stand-ins, all on 127.0.0.1: Azurite, the managed identity, Entra (https, a token per
tenant for the multi-tenant app, the identity's token as the client assertion) and Graph,
which serves each tenant's beta report by the token's `tid` and enforces Graph's identity-report
limits (5 requests per 10 s per app and tenant, 122 per 10 s per app across all tenants,
https://learn.microsoft.com/graph/throttling-limits#identity-and-access-reports-service-limits)
with 429 + Retry-After. Each tenant goes through FetchTenant's use case (fetch, store, fetch
health) and CheckThresholds' (judge, alert states), as one instance would run the queue
(MAX_INSTANCE_COUNT=1: the whole cross-tenant budget is this worker's).

Time is compressed to nothing: the app's clock and sleep, the pacers and the stand-in's limits
all run on one virtual clock that a sleep moves forward at once, so the wall time reported is
Graph's time, which a real cycle would take, not this machine's.

Reported: wall time against the cross-tenant floor (the last of N requests cannot go before
ceil(N / 122) - 1 windows of 10 s), 429s drawn, Table requests per tenant (against one
tenant's cycle), peak memory (tracemalloc: the whole process, the in-process stand-ins and
garbage not yet collected included) and what is held after the run, in all and by the app alone
(allocations made under the stand-ins left out): at most 64 tenants' credentials and sources
(shared/tenants/cache.py), so the same for 100 tenants as for 1,000.
Targets: within 10% of the floor, a handful of 429s at most, the same Table requests per tenant
as for one tenant, memory flat in the number of tenants (README: At scale).
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import math
import os
import sys
import threading
import time
import tracemalloc
import uuid
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from azure.data.tables import TableServiceClient  # noqa: E402

from shared.bootstrap import App  # noqa: E402
from shared.settings import Settings  # noqa: E402
from shared.tenants.budget import CROSS_TENANT_LIMIT, CROSS_TENANT_WINDOW  # noqa: E402
from shared.tenants.jobs import TenantJob  # noqa: E402
from shared.usecases.checking import check_snapshot  # noqa: E402
from shared.usecases.fanout import fetch_tenant  # noqa: E402
from standins.azurite import Azurite  # noqa: E402
from standins.entra import MULTI_TENANT_APP_ID, EntraStandIn  # noqa: E402
from standins.graph import GraphStandIn  # noqa: E402
from standins.graph_tenants import Tenants  # noqa: E402
from standins.managed_identity import ManagedIdentityStandIn  # noqa: E402
from standins.reports import report  # noqa: E402

START = datetime(2026, 11, 2, 6, 0, tzinfo=timezone.utc)
# The stand-ins run in this process and keep every request they answered (and Graph one rate
# limit per tenant): what the worker holds is measured without them, by the allocating frames.
TRACE_FRAMES = 16
APP_ONLY = [
    tracemalloc.Filter(False, pattern, all_frames=True)
    for pattern in ("*/standins/*", "*/socketserver.py", "*/http/server.py")
]


class VirtualClock:
    """Seconds since START that only sleeping moves: the app's, the pacers' and Graph's."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._lock = threading.Lock()

    def now(self) -> datetime:
        return START + timedelta(seconds=self.seconds)

    def monotonic(self) -> float:
        return self.seconds

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.seconds += max(seconds, 0.0)


@dataclass
class Result:
    tenants: int
    graph_requests: int
    wall: float
    floor: float
    throttled: int
    table_requests: int
    peak_mib: float
    held_mib: float
    app_held_mib: float
    real_seconds: float


def tenant_ids(count: int) -> list[str]:
    return [str(uuid.uuid5(uuid.NAMESPACE_URL, f"tenant-{i}")) for i in range(count)]


@contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def run(count: int, azurite: Azurite) -> Result:
    tenants = tenant_ids(count)
    clock = VirtualClock()
    counted = {"table": 0}

    def on_table_request(_request: Any) -> None:
        counted["table"] += 1

    reports = {
        t: json.dumps(report(1000, {"mfaRegistered": 960 + i % 40, "capable": 950})).encode()
        for i, t in enumerate(tenants)
    }
    graph_tenants = Tenants(reports=reports, clock=clock.monotonic)
    suffix = uuid.uuid4().hex[:10]
    with ExitStack() as stack:
        identity = stack.enter_context(ManagedIdentityStandIn())
        entra = stack.enter_context(
            EntraStandIn(consented=tenants, assertions=identity.tokens_issued)
        )
        graph = stack.enter_context(GraphStandIn(tenants=graph_tenants))
        env = {
            **identity.environ,
            **entra.environ,
            "AzureWebJobsStorage": azurite.connection_string,
            "GRAPH_ENDPOINT": graph.url,
            "REPORT_SOURCE": "beta",
            "TENANTS": ",".join(tenants),
            "MULTI_TENANT_APP_ID": MULTI_TENANT_APP_ID,
            "SNAPSHOT_TABLE": f"BenchSnapshots{suffix}",
            "ALERT_TABLE": f"BenchAlerts{suffix}",
            "TENANT_TABLE": f"BenchTenants{suffix}",
            "MAX_INSTANCE_COUNT": "1",
        }
        stack.enter_context(environment(env))
        app = App(
            Settings.from_env(os.environ),
            clock=clock.now,
            sleep=clock.sleep,
            storage_options={"retry_total": 1, "raw_request_hook": on_table_request},
        )
        try:
            started = time.perf_counter()
            gc.collect()
            tracemalloc.start(TRACE_FRAMES)
            baseline = tracemalloc.get_traced_memory()[0]
            for tenant in tenants:
                outcome = fetch_tenant(app, TenantJob(tenant).to_message())
                assert outcome.check is not None
                check_snapshot(app, outcome.check)
            gc.collect()
            held, peak = tracemalloc.get_traced_memory()
            app_held = sum(
                s.size
                for s in tracemalloc.take_snapshot().filter_traces(APP_ONLY).statistics("filename")
            )
            tracemalloc.stop()
            real = time.perf_counter() - started
        finally:
            app.close()
            service = TableServiceClient.from_connection_string(azurite.connection_string)
            for name in ("SNAPSHOT_TABLE", "ALERT_TABLE"):
                service.delete_table(env[name])
    requests = sum(graph_tenants.served.values()) + graph_tenants.throttled
    floor = (math.ceil(count / CROSS_TENANT_LIMIT) - 1) * CROSS_TENANT_WINDOW
    return Result(
        tenants=count,
        graph_requests=requests,
        wall=clock.seconds,
        floor=floor,
        throttled=graph_tenants.throttled,
        table_requests=counted["table"],
        peak_mib=(peak - baseline) / 2**20,
        held_mib=(held - baseline) / 2**20,
        app_held_mib=app_held / 2**20,
        real_seconds=real,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/benchmark_tenants.py")
    parser.add_argument(
        "--tenants", type=int, action="append", help="repeatable; default: 1, 100 and 1000"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    sizes = args.tenants or [1, 100, 1000]
    print(
        "tenants | Graph requests | wall (Graph s) | floor (s) | vs floor | 429s | "
        "Table requests / tenant | peak memory (all) | held after (all) | held by the app | real s"
    )
    with Azurite() as azurite:
        for size in sizes:
            r = run(size, azurite)
            ratio = f"{r.wall / r.floor - 1:+.1%}" if r.floor else "–"
            print(
                f"{r.tenants:,} | {r.graph_requests:,} | {r.wall:.1f} | {r.floor:.1f} | {ratio} | "
                f"{r.throttled} | {r.table_requests / r.tenants:.1f} | {r.peak_mib:.1f} MiB | "
                f"{r.held_mib:.1f} MiB | {r.app_held_mib:.1f} MiB | {r.real_seconds:.0f}",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
