"""The v1 source at scale: a full userRegistrationDetails pass over synthetic 30k and 300k tenants.

    .venv/bin/python scripts/benchmark_v1.py                # both sizes, time compressed 10x
    .venv/bin/python scripts/benchmark_v1.py --users 30000 --scale 5

The loopback Graph runs in a child process (so that this process's CPU time and memory are the
client's alone), serves 999 users a page and enforces Graph's identity-report limit: 5 requests
in any 10 s, 429 with a decimal Retry-After beyond it. Time is compressed by `--scale`: the
stand-in's throttle, the client's pacer and retry sleeps all run on one clock that goes `scale`
times faster than real time, so a 300k pass that takes 10 minutes against Graph takes one here
at the default 10x. Keep the scale low enough that five pages' real work fits in a compressed
window (10 / scale real seconds), or the run measures the machine, not the pacing.

Reported per size, each pass run twice (timed without tracemalloc, then measured with it):
- wall time, in Graph seconds (real x scale), against the rate-limit floor: a pass of P pages
  cannot end before (P - 1) // 5 windows of 10 s have passed;
- 429s the stand-in had to send;
- this process's CPU time (httpx, JSON decoding and our aggregation; the stand-in is elsewhere),
  as a share of real wall time here and of the uncompressed floor a real tenant would see;
- peak memory growth during the pass (tracemalloc), which must not grow with the tenant, and
  what is still held after it (after a collection: a leak would show there).

Peak growth is mostly one or two pages in flight (the body, then its decoded records) plus
garbage awaiting Python's cyclic collector: an httpx Response is a reference cycle, so each
page's body is freed at the next full collection, not at once. The collector bounds that
garbage by the size of the long-lived heap, not by the number of pages, so it levels off (about
5 MB at 30k users, 7.5 MB at 120k, 8 MB at 300k on the machine these were measured on).

Targets: wall within 10% of the floor, at most a handful of 429s, CPU under 5% of wall time
(uncompressed), memory growth under 25 MB and about the same for 30k and 300k users.
"""

from __future__ import annotations

import argparse
import base64
import gc
import json
import logging
import math
import subprocess
import sys
import time
import tracemalloc
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from azure.core.credentials import AccessToken  # noqa: E402

WINDOW, LIMIT, PAGE = 10.0, 5, 999
TENANT_ID = "0b1e9c3d-5a7f-4e2b-9c8d-1f2e3a4b5c6d"


class ScaledTime:
    """One clock for everyone in a run: `scale` Graph seconds pass per real second."""

    def __init__(self, scale: float, origin: float) -> None:
        self.scale = scale
        self.origin = origin  # time.monotonic() at the run's start, shared with the stand-in
        self.epoch = datetime(2026, 11, 2, 6, 0, tzinfo=timezone.utc)

    def seconds(self) -> float:
        return (time.monotonic() - self.origin) * self.scale

    def now(self) -> datetime:
        return self.epoch + timedelta(seconds=self.seconds())

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds / self.scale)


class StaticToken:
    """A TokenCredential for the benchmark: a JWT-shaped token with a tid claim."""

    def __init__(self) -> None:
        claims = base64.urlsafe_b64encode(json.dumps({"tid": TENANT_ID}).encode()).decode()
        self._token = f"eyJhbGciOiJub25lIn0.{claims.rstrip('=')}.benchmark"

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken(self._token, int(time.time()) + 3600)


def serve(users: int, scale: float, origin: float) -> None:
    """The child process: serve the tenant until stdin closes, then print what happened."""
    from standins.graph import DetailsService, GraphStandIn, RateLimit
    from standins.registration_details import SyntheticTenant

    clock = ScaledTime(scale, origin)
    limit = RateLimit(limit=LIMIT, window=WINDOW, clock=clock.seconds)
    service = DetailsService(
        tenant=SyntheticTenant(users=users, seed=42),
        page_size=PAGE,
        max_page_size=PAGE,
        rate_limit=limit,
        clock=clock.seconds,
    )
    with GraphStandIn(details=service) as graph:
        print(graph.url, flush=True)
        sys.stdin.read()
        stats = {"throttled": limit.throttled, "pages": service.pages_served}
        print(json.dumps(stats), flush=True)


@dataclass
class Run:
    users: int
    wall: float  # real seconds
    cpu: float  # this process's CPU seconds
    peak_growth: int  # bytes, 0 unless traced
    retained: int  # bytes still allocated after the pass (a leak would show here), if traced
    throttled: int
    pages: int
    total_users: int


def one_pass(users: int, scale: float, *, traced: bool) -> Run:
    from shared.retry import RetryPolicy
    from shared.sources.graph_client import GraphClient
    from shared.sources.v1 import V1Source
    from shared.sources.v1.pacing import Pacer

    origin = time.monotonic()
    clock = ScaledTime(scale, origin)
    # A fixed argv: this interpreter and this script, with numbers from argparse.
    child = subprocess.Popen(  # noqa: S603
        [sys.executable, __file__, "--serve", str(users), str(scale), repr(origin)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert child.stdin is not None and child.stdout is not None
    url = child.stdout.readline().strip()
    with httpx.Client(timeout=httpx.Timeout(60.0), follow_redirects=False) as http:
        graph = GraphClient(
            endpoint=url,
            credential=StaticToken(),
            http=http,
            policy=RetryPolicy(),
            sleep=clock.sleep,
            clock=clock.now,
        )
        client = V1Source(
            graph,
            pacer=Pacer(clock=clock.seconds, sleep=clock.sleep, limit=LIMIT, window=WINDOW),
        )
        if traced:
            gc.collect()
            tracemalloc.start()
            baseline = tracemalloc.get_traced_memory()[0]
            tracemalloc.reset_peak()
        cpu = time.process_time()
        started = time.monotonic()
        fetched = client.fetch_report()
        wall = time.monotonic() - started
        cpu = time.process_time() - cpu
        growth = retained = 0
        if traced:
            growth = tracemalloc.get_traced_memory()[1] - baseline
            gc.collect()  # what is left now is held, not garbage awaiting a collection
            retained = tracemalloc.get_traced_memory()[0] - baseline
            tracemalloc.stop()
    out, _ = child.communicate("")
    stats = json.loads(out.strip().splitlines()[-1])
    return Run(
        users=users,
        wall=wall,
        cpu=cpu,
        peak_growth=growth,
        retained=retained,
        throttled=stats["throttled"],
        pages=stats["pages"],
        total_users=fetched.report.total_users,
    )


def report(timed: Run, traced: Run, scale: float) -> bool:
    pages = math.ceil(timed.users / PAGE)
    floor = (pages - 1) // LIMIT * WINDOW  # Graph seconds
    wall = timed.wall * scale  # Graph seconds
    over = wall / floor - 1 if floor else 0.0
    cpu_share_here = timed.cpu / timed.wall
    cpu_share_real = timed.cpu / floor if floor else 0.0
    mb = traced.peak_growth / 2**20
    print(
        f"{timed.users:>7,} users, {pages} pages: wall {wall:7.1f} s vs floor {floor:6.0f} s "
        f"({over:+.1%}); 429s {timed.throttled} (+{traced.throttled} traced run); "
        f"CPU {timed.cpu:5.2f} s = {cpu_share_real:.2%} of the real floor "
        f"({cpu_share_here:.1%} of this compressed run); peak memory growth {mb:.1f} MB, "
        f"{traced.retained / 2**20:.2f} MB retained after the pass"
    )
    assert timed.total_users == timed.users == traced.total_users
    return over <= 0.10 and timed.throttled <= 3 and cpu_share_real < 0.05 and mb < 25


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, nargs="*", default=[30_000, 300_000])
    parser.add_argument("--scale", type=float, default=10.0)
    parser.add_argument("--serve", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(int(args.serve[0]), float(args.serve[1]), float(args.serve[2]))
        return 0
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    print(f"time compressed {args.scale:g}x; Graph's limit {LIMIT} requests / {WINDOW:g} s")
    ok = True
    growths = []
    for users in args.users:
        timed = one_pass(users, args.scale, traced=False)
        traced = one_pass(users, args.scale, traced=True)
        ok = report(timed, traced, args.scale) and ok
        growths.append(traced.peak_growth)
    if len(growths) > 1 and max(growths) > 1.5 * min(growths) + 2 * 2**20:
        print("memory grows with the tenant's size")
        ok = False
    print("within targets" if ok else "OUTSIDE TARGETS")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
