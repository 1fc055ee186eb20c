"""The digest's claim lapses (S3), through the host: a claim left by a run that died while
posting (or whose claim could not be released) is said in Teams by the last retry, and once it
lapses, running WeeklyDigest again for that occurrence posts the digest: never lost silently."""

from __future__ import annotations

import json

from shared.errors import ClaimHeldError
from shared.stores.records import Claim
from shared.usecases.digest import DIGEST_LEASE
from standins.reports import report
from tests.conftest import CycleHarness, fails_with
from tests.functions.test_digest import timer_json


def titles(cycle: CycleHarness) -> list[str]:
    return [card["body"][0]["items"][0]["text"] for card in cycle.teams.cards]


def test_a_claim_left_by_a_run_that_died_is_said_and_lapses_so_the_digest_is_posted(
    cycle: CycleHarness,
) -> None:
    app = cycle.use_webhook()
    cycle.graph.report_body = json.dumps(
        report(1000, {"mfaRegistered": 990, "capable": 950})
    ).encode()
    cycle.run()
    occurrence = cycle.clock.now
    ledger = app.monitor.digest(f"{occurrence:%Y-%m-%dT%H:%M:%SZ}")
    ledger.write(ledger.read(), False, claim=Claim("died", occurrence))  # died while posting

    with fails_with(ClaimHeldError, match="run WeeklyDigest again after") as failure:
        cycle.host.invoke("WeeklyDigest", timer_json(occurrence), retry_count=2)  # the last try

    assert "claimed by run died" in failure.value.message
    assert titles(cycle) == [
        "Entra registration monitor: WeeklyDigest fails: another run kept holding the claim to post"
    ]
    cycle.clock.now = occurrence + DIGEST_LEASE + DIGEST_LEASE / 60

    cycle.host.invoke("WeeklyDigest", timer_json(occurrence))  # run again, by hand

    assert titles(cycle)[-1].startswith("Weekly digest:")
    assert ledger.read().state is True  # posted, at most once from now on
