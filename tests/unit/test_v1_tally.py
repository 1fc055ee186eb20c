"""The v1 aggregation (pure) and the pacer: pages in, counts out, every record validated."""

from __future__ import annotations

import json
from typing import Any

import pytest

from shared.errors import ReportFormatError
from shared.sources.v1.pacing import Pacer
from shared.sources.v1.tally import (
    METRICS,
    PHISHING_RESISTANT_METHODS,
    SELECT_FIELDS,
    Scope,
    Tally,
)
from standins.registration_details import SyntheticTenant
from tests.auth_methods import NOT_PHISHING_RESISTANT, PHISHING_RESISTANT, V1_EXAMPLE_SPELLING

TENANT = SyntheticTenant(users=2_345, seed=11)


def pages(tenant: SyntheticTenant, size: int) -> list[list[dict[str, Any]]]:
    return [
        tenant.records(start, start + size, SELECT_FIELDS) for start in range(0, tenant.users, size)
    ]


def tally_of(page_list: list[list[dict[str, Any]]], scope: Scope | None = None, **kw: Any) -> Tally:
    tally = Tally(scope or Scope(), **kw)
    for page in page_list:
        tally.add_page(page)
    return tally


def record(**overrides: Any) -> dict[str, Any]:
    """One userRegistrationDetails record, as the v1.0 schema shapes it; `overrides` change it."""
    base = {
        "id": "6f1c3b2a-0000-4000-8000-000000000001",
        "userPrincipalName": "alex@contoso.example",
        "userType": "member",
        "isAdmin": False,
        "isSsprRegistered": False,
        "isSsprEnabled": False,
        "isSsprCapable": False,
        "isMfaRegistered": False,
        "isMfaCapable": False,
        "isPasswordlessCapable": False,
        "methodsRegistered": [],
    }
    base.update(overrides)
    return base


def test_pages_of_a_tenant_add_up_to_every_metric() -> None:
    summary = tally_of(pages(TENANT, 999)).summary()

    expected = TENANT.expected()
    assert summary.report.total_users == expected.pop("total") == TENANT.users
    assert dict(summary.report.counts) == expected
    assert list(summary.report.counts) == list(METRICS)
    assert summary.report.report_id is None
    # The synthetic tenant exercises every metric with a non-trivial count.
    assert all(0 < count < TENANT.users for count in expected.values())


def test_page_size_does_not_change_the_counts() -> None:
    assert tally_of(pages(TENANT, 1)).summary() == tally_of(pages(TENANT, 999)).summary()


def test_guests_can_be_left_out_and_named_users_are_excluded_from_every_metric() -> None:
    users = [TENANT.user(index) for index in range(40)]
    admin = next(u for u in (TENANT.user(i) for i in range(TENANT.users)) if u["isAdmin"])
    # One by object id in upper case, one by UPN in mixed case, one admin by UPN.
    exclude = [users[3]["id"].upper(), users[5]["userPrincipalName"].title(), admin["id"]]
    scope = Scope.of(include_guests=False, exclude_users=exclude)

    summary = tally_of(pages(TENANT, 500), scope).summary()

    expected = TENANT.expected(include_guests=False, exclude=exclude)
    assert summary.report.total_users == expected.pop("total")
    assert dict(summary.report.counts) == expected
    guests = TENANT.expected()["total"] - TENANT.expected(include_guests=False)["total"]
    assert guests > 0
    assert summary.report.total_users == TENANT.users - guests - 3


def test_a_user_counts_as_phishing_resistant_with_any_one_such_method() -> None:
    for method in sorted(PHISHING_RESISTANT_METHODS):
        tally = Tally(Scope())
        tally.add_page([record(methodsRegistered=["mobilePhone", method])])
        assert tally.counts["phishingResistant"] == 1, method
    weak = ["microsoftAuthenticatorPush", "softwareOneTimePasscode", "mobilePhone", "email"]
    tally = Tally(Scope())
    tally.add_page([record(methodsRegistered=weak)])
    assert tally.counts["phishingResistant"] == 0


def test_admins_without_mfa_are_counted_and_never_kept_by_name() -> None:
    admins = [
        record(id=f"id-{i}", userPrincipalName=f"admin{i}@contoso.example", isAdmin=True)
        for i in range(5)
    ]
    registered_admin = record(isAdmin=True, isMfaRegistered=True)
    user_without_mfa = record()
    tally = Tally(Scope())

    tally.add_page([*admins, registered_admin, user_without_mfa])

    assert tally.summary().report.counts["adminsWithoutMfa"] == 5
    checkpoint = json.dumps(tally.to_json())
    assert "admin0" not in checkpoint and "id-0" not in checkpoint  # no name in a checkpoint


@pytest.mark.parametrize(
    ("bad", "field", "problem"),
    [
        ({"isMfaRegistered": None}, "value[12].isMfaRegistered", "boolean, got null"),
        ({"isMfaRegistered": "true"}, "value[12].isMfaRegistered", "boolean, got a string"),
        ({"isSsprCapable": 1}, "value[12].isSsprCapable", "boolean, got an integer"),
        ({"isAdmin": []}, "value[12].isAdmin", "boolean or null, got a list"),
        ({"id": ""}, "value[12].id", "non-empty string"),
        ({"userType": 3}, "value[12].userType", "string or null, got an integer"),
        ({"userPrincipalName": None}, "value[12].userPrincipalName", "never null"),
        ({"id": None}, "value[12].id", "got null"),
        ({"userPrincipalName": 7}, "value[12].userPrincipalName", "string, got an integer"),
        ({"methodsRegistered": "fido2"}, "value[12].methodsRegistered", "list, got a string"),
        ({"methodsRegistered": ["email", 5]}, "value[12].methodsRegistered[1]", "an integer"),
    ],
)
def test_a_malformed_record_names_its_field(bad: dict[str, Any], field: str, problem: str) -> None:
    page = [record(id=f"id-{i}") for i in range(20)]
    page[12] = record(**bad)

    with pytest.raises(ReportFormatError) as failure:
        Tally(Scope()).add_page(page)

    assert failure.value.field == field
    assert problem in failure.value.problem


@pytest.mark.parametrize("name", ["isMfaRegistered", "methodsRegistered", "userPrincipalName"])
def test_a_missing_field_is_named(name: str) -> None:
    incomplete = record()
    del incomplete[name]

    with pytest.raises(ReportFormatError) as failure:
        Tally(Scope()).add_page([record(), incomplete])

    assert failure.value.field == f"value[1].{name}"
    assert failure.value.problem == "missing"


def test_a_record_that_is_not_an_object_and_a_value_that_is_not_a_list_are_rejected() -> None:
    with pytest.raises(ReportFormatError, match=r"value\[0\]: expected an object"):
        Tally(Scope()).add_page(["alex"])
    with pytest.raises(ReportFormatError, match="value: expected a list"):
        Tally(Scope()).add_page({"id": "x"})


def test_an_empty_upn_still_counts_under_the_user_id() -> None:
    tally = Tally(Scope(exclude_users=frozenset({"6f1c3b2a-0000-4000-8000-000000000001"})))
    tally.add_page([record(userPrincipalName="", isAdmin=True), record(id="other", isAdmin=True)])
    assert tally.total == 1  # the first is excluded by its id
    assert tally.counts["adminsWithoutMfa"] == 1


def test_the_fields_the_schema_lets_be_null_are_counted() -> None:
    # v1.0 metadata: isAdmin, methodsRegistered and userType have no Nullable="false".
    tally = Tally(Scope())
    tally.add_page(
        [
            record(isAdmin=None, methodsRegistered=["fido2SecurityKey"]),  # not an admin
            record(methodsRegistered=None),  # no methods
            record(userType=None, methodsRegistered=["fido2SecurityKey"]),  # counted
        ]
    )

    summary = tally.summary()
    assert summary.report.total_users == 3
    assert summary.report.counts["adminsWithoutMfa"] == 0
    assert summary.report.counts["phishingResistant"] == 2


def test_with_guests_left_out_a_null_user_type_counts_as_a_member() -> None:
    tally = Tally(Scope.of(include_guests=False))
    tally.add_page([record(userType=None), record(userType="guest"), record(userType="member")])

    assert tally.summary().report.total_users == 2


def test_a_tally_saved_mid_way_and_resumed_gives_the_uninterrupted_result() -> None:
    scope = Scope.of(include_guests=False, exclude_users=["user000007@contoso.example"])
    all_pages = pages(TENANT, 300)
    first = tally_of(all_pages[:4], scope)

    saved = json.dumps(first.to_json())
    resumed = Tally.from_json(json.loads(saved), scope)
    for page in all_pages[4:]:
        resumed.add_page(page)

    assert resumed.summary() == tally_of(all_pages, scope).summary()
    assert len(saved) < 400  # a small dict, whatever the tenant's size
    assert "user000007" not in saved


def test_a_tally_from_another_scope_or_malformed_is_refused() -> None:
    saved = tally_of(pages(TENANT, 999)[:1]).to_json()

    with pytest.raises(ValueError, match="other guest or exclusion"):
        Tally.from_json(saved, Scope.of(include_guests=False))
    with pytest.raises(ValueError, match="other guest or exclusion"):
        Tally.from_json(saved, Scope.of(exclude_users=["someone"]))
    broken = {**saved, "counts": {**saved["counts"], "mfaRegistered": -1}}
    with pytest.raises(ValueError, match="bad number"):
        Tally.from_json(broken, Scope())
    too_many = {**saved, "counts": {**saved["counts"], "capable": saved["total"] + 1}}
    with pytest.raises(ValueError, match="more users"):
        Tally.from_json(too_many, Scope())
    with pytest.raises(ValueError):
        Tally.from_json({"v": 99}, Scope())


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_the_pacer_allows_five_requests_in_any_ten_seconds_and_no_more() -> None:
    time = FakeTime()
    pacer = Pacer(clock=time.clock, sleep=time.sleep, limit=5, window=10.0, margin=0.1)
    sent: list[float] = []

    for _ in range(23):
        pacer.wait()
        sent.append(time.now)
        time.now += 0.3  # each request takes a while

    assert sent[:5] == pytest.approx([1000.0, 1000.3, 1000.6, 1000.9, 1001.2])
    assert all(later - earlier >= 10.0 for earlier, later in zip(sent[:-5], sent[5:], strict=True))
    # Just under the limit, not far under it: request 22 goes 4 windows (+ margins) after
    # request 2, which went 0.6 s after the first.
    assert sent[-1] - sent[0] == pytest.approx(0.6 + 4 * 10.1)
    assert pacer.waited == pytest.approx(sum(time.sleeps))


def test_the_pacer_does_not_wait_when_requests_are_already_slow() -> None:
    time = FakeTime()
    pacer = Pacer(clock=time.clock, sleep=time.sleep)
    for _ in range(10):
        pacer.wait()
        time.now += 2.5
    assert time.sleeps == []


def test_each_documented_method_counts_as_phishing_resistant_as_microsoft_says() -> None:
    # Every member of usageAuthMethod, one user each: only Microsoft's phishing-resistant ones
    # (and the v1.0 example's fido2) count (tests/auth_methods.py cites the pages).
    for method in sorted(PHISHING_RESISTANT | NOT_PHISHING_RESISTANT | {V1_EXAMPLE_SPELLING}):
        tally = Tally(Scope())
        tally.add_page([record(methodsRegistered=[method])])
        counted = tally.summary().report.counts["phishingResistant"]
        expected = method in PHISHING_RESISTANT or method == V1_EXAMPLE_SPELLING
        assert counted == int(expected), method


def test_a_method_graph_adds_later_or_a_strength_name_is_counted_nowhere() -> None:
    tally = Tally(Scope())
    tally.add_page(
        [
            record(methodsRegistered=["someMethodGraphAddsNextYear"]),
            record(methodsRegistered=["x509CertificateMultiFactor"]),  # a strength, not a method
            record(methodsRegistered=["fido"]),  # the legacy value
        ]
    )

    assert tally.summary().report.counts["phishingResistant"] == 1
    assert tally.summary().report.total_users == 3
