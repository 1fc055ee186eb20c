"""Fetch health is decided on the state as stored once the fetch is over (S1), through the
host: a fetch that started while fetching worked, and ends after another fetch said it fails,
says "works again" at once, not a fetch later."""

from __future__ import annotations

import json
import os
import threading
from datetime import datetime, timezone

import pytest

from shared.bootstrap import App
from shared.errors import GraphError
from shared.messages.model import Message
from shared.settings import Settings
from shared.stores.records import Record
from shared.usecases.announcing import Plan, announce
from shared.usecases.fetching import fetch_and_store
from standins.graph import graph_error
from standins.loopback import LoopbackServer, Reply, Request
from standins.reports import report
from tests.conftest import CycleHarness
from tests.functions.test_announcing import MemoryLedger

DENIED = graph_error(403, "Authorization_RequestDenied", "Insufficient privileges.")


def titles(cycle: CycleHarness) -> list[str]:
    return [card["body"][0]["items"][0]["text"] for card in cycle.teams.cards]


def test_a_fetch_that_ends_after_another_failed_says_works_again_at_once(
    cycle: CycleHarness,
) -> None:
    cycle.use_webhook()
    cycle.graph.report_body = json.dumps(report(1000, {"mfaRegistered": 990})).encode()
    ran = threading.Event()

    def graph_for_b(request: Request) -> Reply:
        if not ran.is_set():  # while B waits for Graph, A's last try fails and says so
            ran.set()
            with LoopbackServer(lambda r: DENIED) as denying:
                settings = Settings.from_env({**os.environ, "GRAPH_ENDPOINT": denying.url})
                other = App(settings, clock=cycle.clock, sleep=cycle.clock.sleep)
                try:
                    with pytest.raises(GraphError):
                        fetch_and_store(other)
                finally:
                    other.close()
        return Reply(200, cycle.graph.report_body, {"Content-Type": "application/json"})

    with LoopbackServer(graph_for_b) as slow_graph:
        cycle.configure(TEAMS_WEBHOOK_URL=cycle.teams.webhook_url, GRAPH_ENDPOINT=slow_graph.url)
        cycle.run()  # fetch B, through the host

    assert ran.is_set()
    assert titles(cycle)[:2] == [
        "Entra registration monitor: fetching the report fails",
        "Entra registration monitor: fetching the report works again",
    ]
    (health,) = [e for e in cycle.table("ALERT_TABLE") if e["PartitionKey"] == "monitor"]
    assert health["Firing"] is False


NOW = datetime(2026, 11, 2, 6, 0, tzinfo=timezone.utc)
NEWS = Message(title="news", severity="good", lines=[])


def test_nothing_to_do_on_a_first_guess_is_decided_again_on_the_stored_record() -> None:
    ledger, posted = MemoryLedger("failing"), []
    guess: Record[object] = Record("fine", None, -1)  # read before the other run wrote

    def decide(state: object) -> Plan[object] | None:
        return Plan("fine", "fine", NEWS) if state == "failing" else None

    outcome = announce(
        ledger,
        decide,
        post=posted.append,
        owner="me",
        clock=lambda: NOW,
        sleep=lambda s: None,
        known=guess,
    )

    assert outcome.posted and posted == [NEWS]
