"""Coverage per population through the functions, as the host runs them: `mfaRegistered.admins`
and `mfaRegistered.guests` fire and resolve over their own totals, stored in the snapshot,
shown in the card, the trends and the digest; populations refused where nothing counts them.

The Graph stand-in serves a synthetic v1.0 tenant (standins/registration_details.py), changed
between runs; `expected(population=...)` counts it by a separate route. Of 400 users, seed 3
has 8 of 10 admins and 9 of 31 guests registered for MFA, seed 33 all 6 admins and 18 of 29
guests: over everyone, the admins would be 2% (never at 100%), so only ratios over the
population's own total fire and resolve as these tests expect.
"""

from __future__ import annotations

import json

from shared.bootstrap import use_app
from shared.errors import ConfigurationError
from standins.graph import DetailsService
from standins.registration_details import SyntheticTenant
from tests.conftest import CycleHarness, fails_with

BELOW = SyntheticTenant(users=400, seed=3)
MEETS = SyntheticTenant(users=400, seed=33)
THRESHOLDS = "mfaRegistered=80%,mfaRegistered.admins=100%,mfaRegistered.guests=50%"


def serve(cycle: CycleHarness, tenant: SyntheticTenant) -> None:
    cycle.graph.details = DetailsService(
        tenant, count_supported=True, clock=lambda: cycle.clock().timestamp()
    )


def titles(cycle: CycleHarness) -> list[str]:
    return [card["body"][0]["items"][0]["text"] for card in cycle.teams.cards]


def users(tenant: SyntheticTenant, population: str) -> str:
    """How a card says a population's MFA registration: '8 of 10 users'."""
    counted = tenant.expected(population=population)
    return f"{counted['mfaRegistered']:,} of {counted['total']:,} users"


def test_population_thresholds_fire_and_resolve_over_their_own_totals(
    cycle: CycleHarness,
) -> None:
    cycle.configure(
        REPORT_SOURCE="v1", THRESHOLDS=THRESHOLDS, TEAMS_WEBHOOK_URL=cycle.teams.webhook_url
    )
    serve(cycle, BELOW)

    cycle.run()

    (firing,) = cycle.teams.cards
    body = json.dumps(firing, ensure_ascii=False)
    assert titles(cycle) == ["Registered for MFA (admins) at 80%, below 100% (+1 more)"]
    assert f"FIRING: **Registered for MFA (admins)** is 80% ({users(BELOW, 'admins')})" in body
    assert f"FIRING: **Registered for MFA (guests)** is 29% ({users(BELOW, 'guests')})" in body
    assert "FIRING: **Registered for MFA**" not in body  # 87% of everyone, above 80%
    assert "Registered for MFA (members)" not in body  # no threshold names members

    cycle.clock.advance(days=1)
    serve(cycle, MEETS)
    cycle.run()

    resolved = json.dumps(cycle.teams.cards[-1], ensure_ascii=False)
    assert (
        titles(cycle)[-1]
        == "Resolved: Registered for MFA (admins) back to 100% (threshold 100%) (+1 more)"
    )
    assert (
        f"RESOLVED: **Registered for MFA (admins)** is back to 100% ({users(MEETS, 'admins')})"
        in resolved
    )
    assert (
        f"RESOLVED: **Registered for MFA (guests)** is back to 62.1% ({users(MEETS, 'guests')})"
        in resolved
    )
    assert "+33.0 pts" in resolved and "+20.0 pts" in resolved  # 29% to 62.1%, 80% to 100%
    # Paged, not `$count`: a population's total has no filter the shortcut trusts.
    assert all("$count" not in r.path for r in cycle.graph.details_requests)


def test_the_snapshot_stores_each_population_s_counts_and_total(cycle: CycleHarness) -> None:
    cycle.configure(REPORT_SOURCE="v1", THRESHOLDS=THRESHOLDS)
    serve(cycle, BELOW)

    cycle.run()

    (entity,) = cycle.snapshots()
    admins, guests = BELOW.expected(population="admins"), BELOW.expected(population="guests")
    assert entity["TotalUserCount__admins"].value == admins["total"]
    assert entity["Count_mfaRegistered__admins"].value == admins["mfaRegistered"]
    assert entity["TotalUserCount__guests"].value == guests["total"]
    assert entity["Count_mfaRegistered__guests"].value == guests["mfaRegistered"]
    assert "TotalUserCount__members" not in entity
    assert entity["TotalUserCount"].value == BELOW.expected()["total"]


def test_the_digest_shows_each_population_with_its_trend(cycle: CycleHarness) -> None:
    cycle.configure(
        REPORT_SOURCE="v1", THRESHOLDS=THRESHOLDS, TEAMS_WEBHOOK_URL=cycle.teams.webhook_url
    )
    for day, tenant in enumerate([MEETS] * 7 + [BELOW]):
        if day:
            cycle.clock.advance(days=1)
        serve(cycle, tenant)
        cycle.run()
    cycle.clock.advance(hours=2)

    cycle.host.run_timer("WeeklyDigest")

    body = json.dumps(cycle.teams.cards[-1], ensure_ascii=False)
    assert titles(cycle)[-1] == "Weekly digest: 2 metrics below their thresholds"
    assert "Registered for MFA (admins)" in body and "Registered for MFA (guests)" in body
    assert "7 days -20.0 pts" in body  # the admins: 100% a week ago, 80% now


def test_population_thresholds_with_the_beta_source_are_refused_at_start(
    cycle: CycleHarness,
) -> None:
    cycle.monkeypatch.setenv("REPORT_SOURCE", "beta")
    cycle.monkeypatch.setenv("THRESHOLDS", "mfaRegistered=95%,mfaRegistered.admins=100%")
    use_app(None)  # the entry points build the App from the settings, as in Azure

    with fails_with(ConfigurationError, match="THRESHOLDS names mfaRegistered.admins") as failure:
        cycle.run_once()

    assert "the beta report has no populations" in failure.value.message
    assert cycle.graph.requests == []
