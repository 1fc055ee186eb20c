"""Claim, then post, then record what was told: one rule for every post, through the host.

Issue #15, items 5 and 6: two fetches that succeed at once after a failure say "works again"
once, and a post that fails gives its claim back at once, so the next check is not held up.
The helper itself is shared/usecases/announcing.py.
"""

from __future__ import annotations

import json
import os
import threading
from datetime import datetime, timedelta, timezone

import pytest

from shared.bootstrap import App
from shared.errors import ClaimHeldError, GraphError, NotificationError, StateConflictError
from shared.messages.model import Message
from shared.settings import Settings
from shared.stores.records import Claim, Record
from shared.usecases.announcing import Plan, announce
from shared.usecases.fetching import fetch_and_store
from standins.graph import graph_error
from standins.loopback import LoopbackServer, Reply, Request
from standins.reports import report
from tests.conftest import CycleHarness, fails_with

WORKS_AGAIN = "Entra registration monitor: fetching the report works again"
DENIED = graph_error(403, "Authorization_RequestDenied", "Insufficient privileges.")


def serve(cycle: CycleHarness, total: int = 1000, **counts: int) -> None:
    cycle.graph.report_body = json.dumps(report(total, counts)).encode()


def titles(cycle: CycleHarness) -> list[str]:
    return [card["body"][0]["items"][0]["text"] for card in cycle.teams.cards]


def test_two_fetches_that_succeed_at_once_after_a_failure_say_works_again_once(
    cycle: CycleHarness,
) -> None:
    # Fetching has been failing (told). Fetch B reads that, then asks Graph; while it waits,
    # fetch A succeeds and says "works again". B succeeds too: it must not say it a second time.
    cycle.use_webhook()
    serve(cycle, mfaRegistered=990, capable=950)
    cycle.graph.script.then(DENIED, DENIED, DENIED)
    with fails_with(GraphError):
        cycle.run()
    cycle.clock.advance(hours=1)
    settings_a = Settings.from_env(os.environ)  # fetch A: the ordinary Graph stand-in
    ran = threading.Event()

    def graph_for_b(request: Request) -> Reply:
        if not ran.is_set():
            ran.set()
            other = App(settings_a, clock=cycle.clock, sleep=cycle.clock.sleep)
            try:
                fetch_and_store(other)
            finally:
                other.close()
        return Reply(200, cycle.graph.report_body, {"Content-Type": "application/json"})

    with LoopbackServer(graph_for_b) as slow_graph:
        cycle.configure(GRAPH_ENDPOINT=slow_graph.url)
        cycle.run()  # fetch B, through the host, then its check

    assert ran.is_set()
    assert titles(cycle)[1:] == [WORKS_AGAIN]
    (health,) = [e for e in cycle.table("ALERT_TABLE") if e["PartitionKey"] == "monitor"]
    assert health["Firing"] is False and health["ToldFiring"] is False
    assert len(cycle.snapshots()) == 2  # both fetches stored their snapshot


def test_a_check_whose_post_failed_does_not_hold_up_the_next_snapshot_s_check(
    cycle: CycleHarness,
) -> None:
    cycle.use_webhook()
    cycle.teams.script.then(*[Reply(500)] * 20)  # every try of the first check is refused
    serve(cycle, mfaRegistered=900, capable=950)
    first = cycle.run()
    assert [d.poisoned for d in first.deliveries] == [True]
    cycle.clock.sleeps.clear()
    cycle.clock.advance(minutes=1)  # FetchReport run again by hand, within the 5-minute lease

    second = cycle.run()

    assert [d.poisoned for d in second.deliveries] == [False]
    assert second.deliveries[0].attempts == 1
    assert cycle.clock.sleeps == []  # no waiting for a claim nobody holds
    assert titles(cycle)[-1] == "Registered for MFA at 90%, below 95%"
    marker = next(e for e in cycle.table("ALERT_TABLE") if e["RowKey"] == "_checked")
    assert not marker.get("AnnouncingRowKey")


# The helper itself, against an in-memory ledger (the port's fake)


class MemoryLedger:
    """A record kept in memory, versioned like an ETag: a write on a stale read is refused."""

    def __init__(self, state: object, claim: Claim | None = None) -> None:
        self.current: Record[object] = Record(state, claim, 0)
        self.writes: list[tuple[object, Claim | None]] = []

    def read(self) -> Record[object]:
        return self.current

    def write(self, prior: Record[object], state: object, *, claim: Claim | None) -> Record[object]:
        if prior.version != self.current.version:
            raise StateConflictError("changed meanwhile")
        self.writes.append((state, claim))
        self.current = Record(state, claim, int(str(prior.version)) + 1)
        return self.current


NOW = datetime(2026, 11, 2, 6, 0, tzinfo=timezone.utc)
NOTICE = Message(title="news", severity="good", lines=[])


def tell(state: object) -> Plan[object] | None:
    return None if state == "told" else Plan("untold", "told", NOTICE)


def test_the_winner_posts_and_records_what_was_told_with_the_claim_cleared() -> None:
    ledger, posted = MemoryLedger("before"), []

    outcome = announce(
        ledger, tell, post=posted.append, owner="me", clock=lambda: NOW, sleep=lambda s: None
    )

    assert outcome.posted and posted == [NOTICE]
    assert ledger.writes == [("untold", Claim("me", NOW)), ("told", None)]


def test_a_post_that_fails_releases_the_claim_at_once_and_raises() -> None:
    ledger = MemoryLedger("before")

    def refuse(message: Message) -> None:
        raise NotificationError("Teams said no")

    with pytest.raises(NotificationError):
        announce(ledger, tell, post=refuse, owner="me", clock=lambda: NOW, sleep=lambda s: None)

    assert ledger.current.state == "untold" and ledger.current.claim is None


def test_a_run_that_finds_a_live_claim_waits_and_decides_on_what_the_other_told() -> None:
    ledger, posted, sleeps = MemoryLedger("untold", Claim("other", NOW)), [], []

    def other_finishes(seconds: float) -> None:
        sleeps.append(seconds)
        ledger.current = Record("told", None, 9)

    outcome = announce(
        ledger, tell, post=posted.append, owner="me", clock=lambda: NOW, sleep=other_finishes
    )

    assert sleeps == [2.0] and posted == [] and not outcome.posted


def test_a_claim_older_than_the_lease_is_taken_over() -> None:
    ledger, posted = MemoryLedger("untold", Claim("died", NOW - timedelta(minutes=6))), []

    announce(ledger, tell, post=posted.append, owner="me", clock=lambda: NOW, sleep=lambda s: None)

    assert posted == [NOTICE]


def test_a_claim_that_never_lapses_is_never_taken_over() -> None:
    ledger = MemoryLedger("untold", Claim("died", NOW - timedelta(days=6)))

    with pytest.raises(ClaimHeldError):
        announce(
            ledger,
            tell,
            post=lambda m: None,
            owner="me",
            clock=lambda: NOW,
            sleep=lambda s: None,
            lease=None,
            attempts=2,
        )


def test_a_decision_on_a_stale_read_is_made_again_on_the_stored_state() -> None:
    ledger, posted = MemoryLedger("told"), []
    stale: Record[object] = Record("before", None, -1)

    outcome = announce(
        ledger,
        tell,
        post=posted.append,
        owner="me",
        clock=lambda: NOW,
        sleep=lambda s: None,
        known=stale,
    )

    assert posted == [] and outcome.plan is None and ledger.writes == []
