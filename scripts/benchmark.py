"""Numbers the tests deliberately do not time: cold-start import cost and worst-case card size.

    .venv/bin/python scripts/benchmark.py

Import cost: each measurement is a fresh interpreter (as a cold start is), median of 7.
Targets: importing FetchReport and CheckThresholds adds under 50 ms to importing their
dependencies; the largest card stays under 28 KB (what a Workflows webhook accepts).
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

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


def largest_card_bytes() -> int:
    from shared.alerting import decide_metrics
    from shared.cards import coverage_message, render_card
    from shared.coverage import readings
    from shared.report import Report
    from shared.snapshot import Snapshot, snapshot_key

    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    counts = {f"status{i:03d}" + "x" * 90: i for i in range(400)}
    counts["mfaRegistered"] = 1
    report = Report("id", 1000, counts)
    current = readings(report, {"mfaRegistered": 0.95})
    decision = decide_metrics({}, current, now=now, repeat=now - now, drop_points=None, detail="")
    snapshot = Snapshot(snapshot_key("tenant", now), now, report)
    card = render_card(coverage_message(snapshot, current, decision.events))
    return len(json.dumps(card).encode())


def main() -> int:
    added = import_seconds(FUNCTIONS)
    size = largest_card_bytes()
    print(f"import FetchReport, CheckThresholds after their dependencies: {added * 1000:.1f} ms")
    print(f"largest card (400 statuses with 100-character names): {size:,} bytes")
    ok = added < 0.050 and size < 28_000
    print("within targets" if ok else "OUTSIDE TARGETS")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
