"""Coverage per population (`mfaRegistered.admins`), pure: parsing, the tally, readings, labels,
trends and the settings that refuse populations where nothing counts them."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from fractions import Fraction
from typing import Any

import pytest

from shared.core.coverage import label, parse_limits, ratio_of, readings
from shared.core.report import Report
from shared.core.snapshot import Snapshot, snapshot_key
from shared.core.trends import trends
from shared.errors import ConfigurationError
from shared.settings import Settings
from shared.sources.v1.tally import METRICS, SELECT_FIELDS, Scope, Tally
from standins.registration_details import SyntheticTenant
from tests.unit.test_v1_tally import record

TENANT = SyntheticTenant(users=2_345, seed=11)
AZURITE = {"AzureWebJobsStorage": "UseDevelopmentStorage=true"}
EVERY_POPULATION = tuple(
    f"{metric}.{population}" for population in ("admins", "guests", "members") for metric in METRICS
)


def tally_of(tenant: SyntheticTenant, scope: Scope | None = None, **kw: Any) -> Tally:
    tally = Tally(scope or Scope(), **kw)
    for start in range(0, tenant.users, 500):
        tally.add_page(tenant.records(start, start + 500, SELECT_FIELDS))
    return tally


# Parsing


def test_a_metric_of_a_population_is_parsed_in_any_case() -> None:
    limits = parse_limits(
        "mfaRegistered=95%,MFAREGISTERED.Admins=100%,phishingResistant.admins=1,"
        "adminsWithoutMfa.guests<=0"
    )

    assert limits.minimums == {
        "mfaRegistered": Fraction(95, 100),
        "mfaRegistered.admins": 1,
        "phishingResistant.admins": 1,
    }
    assert limits.maximums == {"adminsWithoutMfa.guests": 0}


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("mfaRegistered.admin=100%", "did you mean 'admins'?"),
        ("mfaRegistered.owners=100%", "the populations are admins, guests, members"),
        ("mfaRegistred.admins=100%", "did you mean 'mfaRegistered'?"),
        (
            "mfaRegistered.admins=100%,mfaregistered.ADMINS=90%",
            "mfaRegistered.admins is given twice",
        ),
        ("adminsWithoutMfa.admins=0", "write adminsWithoutMfa.admins<=0"),
        ("mfaRegistered.admins.guests=1", "is not status=minimum"),
        ("mfaRegistered.=1", "is not status=minimum"),
    ],
)
def test_a_population_nobody_counts_is_refused_with_a_suggestion(text: str, says: str) -> None:
    with pytest.raises(ValueError, match=says.replace("?", r"\?").replace(".", r"\.")):
        parse_limits(text)


def test_a_population_s_metric_is_labelled_with_the_population() -> None:
    assert label("mfaRegistered.admins") == "Registered for MFA (admins)"
    assert label("phishingResistant.guests") == "Phishing-resistant method (guests)"


# The tally


@pytest.mark.parametrize("population", ["admins", "guests", "members"])
def test_the_tally_counts_each_population_over_its_own_users(population: str) -> None:
    summary = tally_of(TENANT, populations=EVERY_POPULATION).summary()

    expected = TENANT.expected(population=population)
    report = summary.report
    assert report.totals[population] == expected.pop("total")
    assert {m: report.counts[f"{m}.{population}"] for m in METRICS} == expected
    assert 0 < report.totals[population] < report.total_users
    # The tenant-wide counts are those of a tally that counts no population.
    plain = tally_of(TENANT).summary().report
    assert {m: report.counts[m] for m in METRICS} == dict(plain.counts)
    assert report.total_users == plain.total_users


def test_only_the_populations_asked_for_are_counted() -> None:
    report = tally_of(TENANT, populations=["mfaRegistered.admins"]).summary().report

    assert list(report.counts) == [*METRICS, "mfaRegistered.admins"]
    assert list(report.totals) == ["admins"]
    assert tally_of(TENANT).summary().report.totals == {}


def test_null_is_admin_is_no_admin_and_null_user_type_is_a_member() -> None:
    tally = Tally(Scope(), populations=["mfaRegistered.admins", "mfaRegistered.members"])
    tally.add_page(
        [
            record(isAdmin=None, userType=None, isMfaRegistered=True),
            record(isAdmin=True, userType="member"),
            record(isAdmin=True, userType="guest", isMfaRegistered=True),  # a guest admin
            record(userType="unknownFutureValue"),  # neither a member nor a guest
        ]
    )

    report = tally.summary().report
    assert report.totals == {"admins": 2, "members": 2}
    assert report.counts["mfaRegistered.admins"] == 1
    assert report.counts["mfaRegistered.members"] == 1
    assert report.total_users == 4


def test_excluded_users_and_left_out_guests_are_in_no_population() -> None:
    admin = next(u for u in (TENANT.user(i) for i in range(TENANT.users)) if u["isAdmin"])
    scope = Scope.of(include_guests=False, exclude_users=[admin["userPrincipalName"]])

    report = tally_of(TENANT, scope, populations=EVERY_POPULATION).summary().report

    expected = TENANT.expected(
        include_guests=False, exclude=[admin["userPrincipalName"]], population="admins"
    )
    assert report.totals["admins"] == expected["total"]
    assert expected["total"] < TENANT.expected(population="admins")["total"]
    assert report.counts["mfaRegistered.admins"] == expected["mfaRegistered"]
    assert report.totals["guests"] == 0


def test_a_checkpoint_keeps_the_populations_and_refuses_other_ones() -> None:
    wanted = ["mfaRegistered.admins", "capable.guests"]
    first = Tally(Scope(), populations=wanted)
    first.add_page(TENANT.records(0, 700, SELECT_FIELDS))

    saved = json.loads(json.dumps(first.to_json()))
    resumed = Tally.from_json(saved, Scope(), populations=wanted)
    resumed.add_page(TENANT.records(700, TENANT.users, SELECT_FIELDS))

    assert resumed.summary() == tally_of(TENANT, populations=wanted).summary()
    with pytest.raises(ValueError, match="populations"):
        Tally.from_json(saved, Scope(), populations=["mfaRegistered.admins"])
    with pytest.raises(ValueError, match="populations"):
        Tally.from_json(saved, Scope())
    bad = {**saved, "totals": {**saved["totals"], "admins": 0}}
    with pytest.raises(ValueError, match="population's metric"):
        Tally.from_json(bad, Scope(), populations=wanted)


def test_a_checkpoint_without_populations_is_read_as_before() -> None:
    tally = Tally(Scope())
    tally.add_page(TENANT.records(0, 100, SELECT_FIELDS))
    saved = tally.to_json()

    assert "totals" not in saved  # what earlier versions wrote, and still read
    assert Tally.from_json(saved, Scope()).summary() == tally.summary()


# Readings, over the population's own total


def test_a_population_s_ratio_is_over_its_own_total() -> None:
    report = Report(
        "r",
        1000,
        {"mfaRegistered": 950, "mfaRegistered.admins": 9, "mfaRegistered.guests": 0},
        totals={"admins": 10, "guests": 0},
    )
    limits = parse_limits("mfaRegistered=95%,mfaRegistered.admins=100%,mfaRegistered.guests=50%")

    by_status = {r.status: r for r in readings(report, limits.minimums)}

    admins = by_status["mfaRegistered.admins"]
    assert (admins.count, admins.total, admins.ratio) == (9, 10, Fraction(9, 10))
    assert admins.breached
    assert not by_status["mfaRegistered"].breached
    # A population of nobody has no ratio: not judged, and no alert by itself.
    guests = by_status["mfaRegistered.guests"]
    assert (guests.total, guests.ratio, guests.judged, guests.breached) == (0, None, False, False)


def test_a_snapshot_stored_before_populations_has_no_population_ratio() -> None:
    old = Report("r", 1000, {"mfaRegistered": 950})
    assert ratio_of(old, "mfaRegistered.admins") is None


def test_trends_follow_a_population_over_its_own_totals() -> None:
    start = datetime(2026, 11, 1, 6, tzinfo=timezone.utc)

    def snapshot(days: int, admins: int, registered: int) -> Snapshot:
        when = start + timedelta(days=days)
        counts = {"mfaRegistered": 900, "mfaRegistered.admins": registered}
        report = Report(None, 1000, counts, totals={"admins": admins})
        return Snapshot(snapshot_key("t", when), when, report)

    history = [snapshot(7, 20, 20), snapshot(0, 20, 10)]

    trend = trends(history)["mfaRegistered.admins"]
    assert trend.change_7d == 50  # 50% to 100% of the admins, not 1% to 2% of everyone
    assert [ratio for _, ratio in trend.series] == [Fraction(1, 2), 1]


# Settings


def problems(env: dict[str, str]) -> list[str]:
    with pytest.raises(ConfigurationError) as error:
        Settings.from_env({**AZURITE, **env})
    return error.value.problems


def test_population_thresholds_with_the_beta_source_are_refused_saying_why() -> None:
    (problem,) = problems(
        {"REPORT_SOURCE": "beta", "THRESHOLDS": "mfaRegistered=95%,mfaRegistered.admins=100%"}
    )

    assert problem.startswith("THRESHOLDS names mfaRegistered.admins")
    assert "the beta report has no populations" in problem
    assert "REPORT_SOURCE=v1" in problem


def test_population_thresholds_with_auto_are_refused_with_a_hint_to_read_v1() -> None:
    (problem,) = problems({"THRESHOLDS": "phishingResistant.admins=100%"})  # auto: the default

    assert "REPORT_SOURCE=auto may read the beta report" in problem
    assert "Set REPORT_SOURCE=v1" in problem


def test_guest_thresholds_with_guests_left_out_are_refused_saying_why() -> None:
    (problem,) = problems(
        {
            "REPORT_SOURCE": "v1",
            "INCLUDE_GUESTS": "false",
            "THRESHOLDS": "mfaRegistered.admins=100%,mfaRegistered.guests=50%",
        }
    )

    assert problem.startswith("THRESHOLDS names mfaRegistered.guests, but INCLUDE_GUESTS=false")


def test_population_thresholds_with_the_v1_source_are_taken() -> None:
    settings = Settings.from_env(
        {**AZURITE, "REPORT_SOURCE": "v1", "THRESHOLDS": "mfaRegistered.guests=50%"}
    )

    assert settings.thresholds == {"mfaRegistered.guests": Fraction(1, 2)}
