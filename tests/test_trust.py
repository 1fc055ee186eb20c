"""Issue #15 through the host: what real tenants and the real host take, each case by number.

Items 5 and 6 (every post claims first) are in tests/test_announcing.py.
"""

from __future__ import annotations

import json
import os

from shared.bootstrap import use_app
from shared.errors import ConfigurationError
from standins.reports import report
from tests.conftest import CycleHarness, fails_with


def serve(cycle: CycleHarness, total: int = 1000, **counts: int) -> None:
    cycle.graph.report_body = json.dumps(report(total, counts)).encode()


def titles(cycle: CycleHarness) -> list[str]:
    return [card["body"][0]["items"][0]["text"] for card in cycle.teams.cards]


# 8. The tables the app owns have distinct names


def test_a_snapshot_table_that_is_the_alert_table_is_refused_before_anything_is_written(
    cycle: CycleHarness,
) -> None:
    serve(cycle, mfaRegistered=990, capable=950)
    cycle.run()  # a first cycle: one snapshot, and the alert table
    before = (cycle.table("SNAPSHOT_TABLE"), cycle.table("ALERT_TABLE"))
    snapshot_table = os.environ["SNAPSHOT_TABLE"]
    cycle.monkeypatch.setenv("SNAPSHOT_TABLE", os.environ["ALERT_TABLE"].upper())  # names: any case
    use_app(None)  # the entry points build the App from the settings, as in Azure
    try:
        with fails_with(ConfigurationError, match="SNAPSHOT_TABLE") as failure:
            cycle.run_once()
    finally:
        cycle.monkeypatch.setenv("SNAPSHOT_TABLE", snapshot_table)  # for the fixture's cleanup

    assert "ALERT_TABLE" in failure.value.message
    assert (cycle.table("SNAPSHOT_TABLE"), cycle.table("ALERT_TABLE")) == before
    assert len(cycle.graph.report_requests) == 1  # the refused run never asked Graph
