"""Numbers the tests deliberately do not time: cold start, import cost and worst-case card size.

    .venv/bin/python scripts/benchmark.py [PYTHON ...]

Cold start: from spawning a fresh interpreter to the end of the first FetchReport invocation
through the test host (Microsoft's worker), against Azurite and the loopback Graph and
managed-identity stand-ins, which are started beforehand and not counted. Split into the
interpreter's start, importing the worker and the app's dependencies (the import share),
loading the function (the worker imports FetchReport and shared/), and the invocation itself
(token, Graph, Table Storage). Median of 7, after one uncounted run that creates the tables;
for each interpreter given (default: the venvs of Python 3.13 and 3.11 that exist).
Import cost: each measurement is a fresh interpreter (as a cold start is), median of 7.
Table Storage per cycle: with 1,500 snapshots stored over 30 days (one every 29 minutes), the
Table requests and the bytes received of one scheduled cycle whose check posts a card with its
trends (FetchReport, then CheckThresholds, through the test host), after the first check built
the tenant's daily series.
Targets: a cold start under 5 s on the 2-core machine; importing FetchReport and CheckThresholds
adds under 50 ms to importing their dependencies; the largest card stays under 28 KB (what a
Workflows webhook accepts); a cycle makes at most 7 Table requests and reads under 256 KB.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from fractions import Fraction
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RUNS = 7

DEPENDENCIES = "import azure.functions, azure.identity, azure.data.tables, httpx"
FUNCTIONS = "import FetchReport, CheckThresholds"


def import_seconds(statement: str) -> float:
    probe = f"import time; t = time.perf_counter(); {statement}; print(time.perf_counter() - t)"
    times = []
    for _ in range(7):
        # A fixed argv: this interpreter and a probe built from constants above.
        result = subprocess.run(  # noqa: S603
            [sys.executable, "-c", f"{DEPENDENCIES}\n{probe}"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        times.append(float(result.stdout))
    return statistics.median(times)


# Printed as four monotonic instants (CLOCK_MONOTONIC is shared by every process on Linux, so
# the parent's spawn instant can be subtracted from them).
COLD_START = """
import time; started = time.perf_counter()
import os
import azure_functions_runtime_v1, azure.functions, azure.identity, azure.data.tables, httpx
imported = time.perf_counter()
from standins.functions_host import FunctionsHost
host = FunctionsHost(os.environ)
host.load("FetchReport")
loaded = time.perf_counter()
host.invoke("FetchReport")
print(started, imported, loaded, time.perf_counter())
"""


def cold_starts(pythons: list[str]) -> dict[str, dict[str, float]]:
    """Median seconds of each cold-start phase, per interpreter."""
    from standins.azurite import Azurite
    from standins.graph import GraphStandIn
    from standins.managed_identity import ManagedIdentityStandIn

    results: dict[str, dict[str, float]] = {}
    with Azurite() as azurite, GraphStandIn() as graph, ManagedIdentityStandIn() as identity:
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": os.environ.get("HOME", ""),
            **identity.environ,
            "AzureWebJobsStorage": azurite.connection_string,
            "GRAPH_ENDPOINT": graph.url,
            "FETCH_SCHEDULE": "0 0 6 * * *",
        }
        for python in pythons:
            phases: dict[str, list[float]] = {
                "interpreter start": [],
                "imports": [],
                "function load": [],
                "first invocation": [],
                "total": [],
            }
            for run in range(RUNS + 1):
                spawned = time.perf_counter()
                # A fixed argv: an interpreter named on the command line and a constant probe.
                result = subprocess.run(  # noqa: S603
                    [python, "-c", COLD_START],
                    cwd=ROOT,
                    capture_output=True,
                    text=True,
                    check=True,
                    env=env,
                )
                started, imported, loaded, done = map(float, result.stdout.split()[-4:])
                if run == 0:
                    continue  # creates the tables and the bytecode caches: not a cold start
                for phase, seconds in (
                    ("interpreter start", started - spawned),
                    ("imports", imported - started),
                    ("function load", loaded - imported),
                    ("first invocation", done - loaded),
                    ("total", done - spawned),
                ):
                    phases[phase].append(seconds)
            results[python] = {phase: statistics.median(v) for phase, v in phases.items()}
    return results


def default_pythons() -> list[str]:
    venvs = (ROOT / ".venv" / "bin" / "python", ROOT / ".venv-3.11" / "bin" / "python")
    return [str(python) for python in venvs if python.exists()]


def version_of(python: str) -> str:
    result = subprocess.run(  # noqa: S603
        [python, "-c", "import platform; print(platform.python_version())"],
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


def largest_card_bytes() -> int:
    from shared.core.alerting import decide_metrics
    from shared.core.coverage import readings
    from shared.core.report import Report
    from shared.core.snapshot import Snapshot, snapshot_key
    from shared.core.trends import trends
    from shared.messages.adaptive_card import render_card
    from shared.messages.coverage import coverage_message

    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    counts = {f"status{i:03d}" + "x" * 90: i for i in range(400)}
    counts["mfaRegistered"] = 1
    report = Report("id", 1000, counts)
    current = readings(report, {"mfaRegistered": Fraction(95, 100)})  # exact, as parsed
    decision = decide_metrics({}, current, now=now, repeat=now - now, drop_points=None, detail="")
    snapshot = Snapshot(snapshot_key("tenant", now), now, report)
    # With a month of daily history: every row also carries its trend line.
    history = [
        Snapshot(snapshot_key("tenant", now - timedelta(days=d)), now - timedelta(days=d), report)
        for d in range(1, 31)
    ]
    card = render_card(
        coverage_message(snapshot, current, decision.events, trends([snapshot, *history]))
    )
    return len(json.dumps(card).encode())


def table_reads_per_cycle(snapshots: int = 1500) -> tuple[int, int]:
    """Table requests and bytes received by one cycle with `snapshots` stored over 30 days."""
    from azure.data.tables import TableServiceClient

    from shared.bootstrap import App, use_app
    from shared.core.report import Report
    from shared.core.snapshot import Snapshot, snapshot_key
    from shared.settings import Settings
    from shared.stores.snapshots import _snapshot_entity
    from standins.azurite import Azurite
    from standins.functions_host import FunctionsHost
    from standins.graph import GraphStandIn
    from standins.managed_identity import ManagedIdentityStandIn
    from standins.reports import report
    from standins.teams import TeamsStandIn

    start = datetime(2026, 11, 2, 6, 0, 5, tzinfo=timezone.utc)
    clock = [start + timedelta(days=30)]
    counted: list[int] = []
    with (
        Azurite() as azurite,
        GraphStandIn() as graph,
        ManagedIdentityStandIn() as identity,
        TeamsStandIn() as teams,
    ):
        os.environ.update(
            identity.environ,
            AzureWebJobsStorage=azurite.connection_string,
            GRAPH_ENDPOINT=graph.url,
            FETCH_SCHEDULE="0 */30 * * * *",
            TEAMS_WEBHOOK_URL=teams.webhook_url,
            SNAPSHOT_TABLE="BenchmarkSnapshots",
            ALERT_TABLE="BenchmarkAlerts",
        )
        every = timedelta(days=30) / snapshots
        table = TableServiceClient.from_connection_string(
            azurite.connection_string
        ).create_table_if_not_exists(os.environ["SNAPSHOT_TABLE"])
        entities = []
        for i in range(snapshots):
            when = start + i * every
            report_of = Report("r", 1000, {"mfaRegistered": 970, "capable": 1000})
            snapshot = Snapshot(snapshot_key(identity.tenant_id, when), when, report_of)
            entities.append(_snapshot_entity(snapshot))
        for first in range(0, len(entities), 100):
            table.submit_transaction([("upsert", e) for e in entities[first : first + 100]])

        def hook(response: object) -> None:
            counted.append(len(response.http_response.body()))  # type: ignore[attr-defined]

        for mfa, options in ((970, {}), (940, {"raw_response_hook": hook})):
            body = report(1000, {"mfaRegistered": mfa, "capable": 1000})
            graph.report_body = json.dumps(body).encode()
            app = App(
                Settings.from_env(os.environ), clock=lambda: clock[0], storage_options=options
            )
            use_app(app)
            try:
                FunctionsHost(os.environ, now=lambda: clock[0]).run_timer("FetchReport")
            finally:
                use_app(None)
                app.close()
            clock[0] += timedelta(minutes=29)
    if len(teams.cards) != 1 or "30 days -3.0 pts" not in json.dumps(teams.cards[0]):
        raise RuntimeError("the counted check did not post one card with a 30-day trend")
    return len(counted), sum(counted)


def main() -> int:
    starts = cold_starts(sys.argv[1:] or default_pythons())
    for python, phases in starts.items():
        total = phases["total"]
        print(f"cold start to the end of the first FetchReport, Python {version_of(python)}:")
        for phase, seconds in phases.items():
            share = "" if phase == "total" else f" ({seconds / total:.0%})"
            print(f"  {phase:<18} {seconds * 1000:7.0f} ms{share}")
    added = import_seconds(FUNCTIONS)
    size = largest_card_bytes()
    requests, received = table_reads_per_cycle()
    print(f"import FetchReport, CheckThresholds after their dependencies: {added * 1000:.1f} ms")
    print(f"largest card (400 statuses with 100-character names): {size:,} bytes")
    print(
        f"one cycle with 1,500 snapshots in 30 days: {requests} Table requests, "
        f"{received / 1024:.1f} KB received"
    )
    ok = (
        all(phases["total"] < 5.0 for phases in starts.values())
        and added < 0.050
        and size < 28_000
        and requests <= 7
        and received < 256 * 1024
    )
    print("within targets" if ok else "OUTSIDE TARGETS")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
