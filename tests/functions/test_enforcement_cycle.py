"""MFA enforcement end to end (#16): FetchReport reads Conditional Access from the Graph
stand-in, the snapshot keeps the verdicts in Azurite, CheckThresholds alerts in Teams. The pure
decision over every policy shape is tests/unit/test_enforcement.py's; here a few representative
shapes go through the worker-based host."""

from __future__ import annotations

import json
from typing import Any

import pytest

from standins import conditional_access as ca
from standins.conditional_access import ConditionalAccessService
from tests.conftest import CycleHarness
from tests.functions.test_lifecycle import serve, titles


def enforcing(cycle: CycleHarness, *policies: dict[str, Any], defaults: bool = False) -> None:
    cycle.graph.conditional_access = ConditionalAccessService(
        policies=list(policies), security_defaults_enabled=defaults
    )


def checking(cycle: CycleHarness, **settings: str) -> None:
    cycle.configure(TEAMS_WEBHOOK_URL=cycle.teams.webhook_url, CHECK_ENFORCEMENT="true", **settings)
    serve(cycle, 990)  # coverage is healthy: every card here is about enforcement


def card_text(cycle: CycleHarness, index: int = -1) -> str:
    return json.dumps(cycle.teams.cards[index])


def snapshot(cycle: CycleHarness) -> dict[str, Any]:
    (row,) = cycle.snapshots()
    return row


@pytest.mark.parametrize(
    ("policies", "all_users", "admins", "why"),
    [
        ((ca.require_mfa_all_users(),), True, True, "requires MFA for all users"),
        ((ca.authentication_strength(),), True, True, "requires MFA for all users"),
        ((ca.break_glass_group_excluded(),), True, True, "requires MFA for all users"),
        ((ca.require_mfa_all_users_report_only(),), False, False, "report-only"),
        ((ca.require_mfa_all_users(state="disabled"),), False, False, "disabled"),
        ((ca.require_mfa_one_app(),), False, False, "one app only"),
        ((ca.mfa_or_compliant_device(),), False, False, "MFA or a compliant device"),
        ((ca.require_mfa_admins(),), False, True, "selected users, groups or roles only"),
    ],
    ids=[
        "template",
        "strength",
        "break-glass-group",
        "report-only",
        "disabled",
        "one-app",
        "mfa-or-device",
        "admins-template",
    ],
)
def test_each_policy_shape_is_decided_and_stored(
    cycle: CycleHarness,
    policies: tuple[dict[str, Any], ...],
    all_users: bool,
    admins: bool,
    why: str,
) -> None:
    checking(cycle)
    enforcing(cycle, *policies)

    cycle.run()

    row = snapshot(cycle)
    assert (row["EnforcedAllUsers"], row["EnforcedAdmins"]) == (all_users, admins)
    assert why in row["EnforcementReasonAllUsers"]
    expected = [
        f"MFA is not enforced for {who}"
        for who, ok in (("all users", all_users), ("admins", admins))
        if not ok
    ]
    assert [t.split(" (+")[0] for t in titles(cycle)] == expected[:1]
    if expected:
        who = "all users" if not all_users else "admins"
        assert f"FIRING: MFA is not enforced for **{who}**" in card_text(cycle)
        assert why in card_text(cycle)


def test_report_only_fires_once_reminds_and_resolves_when_enabled(cycle: CycleHarness) -> None:
    checking(cycle)
    enforcing(cycle, ca.require_mfa_all_users_report_only())
    cycle.run()
    first = card_text(cycle)
    cycle.clock.advance(hours=1)
    cycle.run()  # within ALERT_REPEAT_HOURS: quiet
    cycle.clock.advance(hours=24)
    cycle.run()  # a reminder
    enforcing(cycle, ca.require_mfa_all_users())
    cycle.clock.advance(hours=1)
    cycle.run()

    assert titles(cycle) == [
        "MFA is not enforced for all users (+1 more)",
        "MFA is not enforced for all users (+1 more)",
        "Resolved: MFA is enforced for all users (+1 more)",
    ]
    assert "report-only" in first and "Require multifactor authentication for all users" in first
    assert "STILL FIRING: MFA is not enforced for **all users** for 1 day" in card_text(cycle, 1)
    resolved = card_text(cycle)
    assert "RESOLVED: MFA is enforced for **admins**" in resolved
    assert "enforced for all users by 'Require multifactor authentication for all users'" in (
        resolved
    )


def test_security_defaults_on_count_as_enforced_with_one_request(cycle: CycleHarness) -> None:
    checking(cycle)
    enforcing(cycle, ca.require_mfa_all_users_report_only(), defaults=True)

    cycle.run()

    row = snapshot(cycle)
    assert row["EnforcedAllUsers"] and row["EnforcedAdmins"]
    assert row["EnforcementPolicyAllUsers"] == "Security defaults"
    assert cycle.teams.cards == []  # nothing to say
    assert [r.path for r in cycle.graph.policy_requests] == [ca.SECURITY_DEFAULTS_PATH]


def test_more_exclusions_than_allowed_fire_and_only_counts_are_stored(
    cycle: CycleHarness,
) -> None:
    checking(cycle, ENFORCEMENT_MAX_EXCLUSIONS="2")
    enforcing(
        cycle,
        ca.require_mfa_all_users(
            exclude_users=ca.BREAK_GLASS_USERS,
            exclude_groups=(ca.BREAK_GLASS_GROUP,),
            exclude_roles=(ca.GLOBAL_ADMINISTRATOR,),
        ),
    )

    cycle.run()

    assert titles(cycle)[0].startswith("MFA is not enforced for all users")
    assert "excludes 4 users, groups or roles (more than 2 allowed)" in card_text(cycle)
    row = snapshot(cycle)
    assert row["EnforcementExcludedUsersAllUsers"] == 2
    assert row["EnforcementExcludedGroupsAllUsers"] == 1
    assert json.loads(row["EnforcementExcludedRolesAllUsers"]) == ["Global Administrator"]
    stored = json.dumps([cycle.snapshots(), cycle.table("ALERT_TABLE")], default=str)
    for principal in (*ca.BREAK_GLASS_USERS, ca.BREAK_GLASS_GROUP):
        assert principal not in stored


def test_within_the_cap_the_card_says_what_the_policy_excludes(cycle: CycleHarness) -> None:
    checking(cycle)
    enforcing(
        cycle,
        ca.require_mfa_all_users(
            exclude_users=ca.BREAK_GLASS_USERS[:1], exclude_groups=(ca.BREAK_GLASS_GROUP,)
        ),
    )
    serve(cycle, 900)  # a coverage card, which carries the enforcement line

    cycle.run()

    assert titles(cycle) == ["Registered for MFA at 90%, below 95%"]
    assert (
        "MFA enforcement: enforced for all users by 'Require multifactor authentication for all "
        "users', which excludes 1 group and 1 user"
    ) in card_text(cycle)


def test_without_policy_read_all_coverage_is_checked_and_the_permission_is_named_once(
    cycle: CycleHarness,
) -> None:
    checking(cycle)
    cycle.graph.conditional_access = ConditionalAccessService(permitted=False)
    serve(cycle, 900)

    outcome = cycle.run()
    cycle.clock.advance(hours=1)
    cycle.run()  # still missing, within ALERT_REPEAT_HOURS: nothing new
    cycle.clock.advance(hours=24)
    serve(cycle, 990)
    cycle.run()  # coverage resolves; the permission is reminded
    enforcing(cycle, ca.require_mfa_all_users())
    cycle.clock.advance(hours=1)
    cycle.run()  # granted

    assert outcome.outputs["check"]
    rows = cycle.snapshots()
    assert {r["EnforcementUnknown"] for r in rows} >= {"permission missing: Policy.Read.All"}
    assert titles(cycle) == [
        "Registered for MFA at 90%, below 95% (+1 more)",
        "Resolved: Registered for MFA back to 99% (threshold 95%) (+1 more)",
        "Resolved: MFA enforcement is read again",
    ]
    first = card_text(cycle, 0)
    assert "NOT KNOWN: whether MFA is enforced" in first
    assert "Policy.Read.All" in first and "grant-reports-read-all.sh --enforcement" in first
    assert "STILL NOT KNOWN" in card_text(cycle, 1)


def test_other_failures_of_the_read_are_said_not_silent(cycle: CycleHarness) -> None:
    checking(cycle)
    broken = ca.require_mfa_all_users()
    broken["state"] = "paused"
    enforcing(cycle, broken)

    cycle.run()

    assert titles(cycle) == ["MFA enforcement unknown: reading the policies fails"]
    assert "value[0].state: unknown state" in card_text(cycle)
    assert snapshot(cycle)["EnforcementUnknown"].startswith("reading the policies failed")


def test_nothing_is_read_when_check_enforcement_is_off(cycle: CycleHarness) -> None:
    cycle.use_webhook()
    enforcing(cycle, ca.require_mfa_all_users_report_only())
    serve(cycle, 900)

    cycle.run()

    assert cycle.graph.policy_requests == []
    assert "EnforcedAllUsers" not in snapshot(cycle)
    assert "MFA enforcement" not in card_text(cycle)


def test_enforcement_costs_at_most_two_graph_requests_per_fetch(cycle: CycleHarness) -> None:
    checking(cycle)
    enforcing(cycle, ca.require_mfa_all_users(), ca.require_mfa_admins())
    cycle.run_once()
    without = len(cycle.graph.requests) - len(cycle.graph.policy_requests)

    assert len(cycle.graph.policy_requests) == 2
    assert without == 1  # the beta report


def test_turning_the_check_off_closes_a_firing_enforcement_alert(cycle: CycleHarness) -> None:
    checking(cycle)
    enforcing(cycle, ca.require_mfa_all_users_report_only(), ca.require_mfa_admins())
    cycle.run()
    cycle.configure(CHECK_ENFORCEMENT="false")
    cycle.clock.advance(hours=1)
    cycle.run()

    assert titles(cycle) == [
        "MFA is not enforced for all users",
        "No longer checked: MFA enforcement (CHECK_ENFORCEMENT is off)",
    ]


def test_the_digest_carries_the_enforcement_line(cycle: CycleHarness) -> None:
    checking(cycle)
    enforcing(cycle, ca.require_mfa_all_users_report_only(), ca.require_mfa_admins())
    cycle.run()
    cycle.clock.advance(hours=2)

    cycle.host.run_timer("WeeklyDigest")

    assert titles(cycle)[-1] == "Weekly digest: MFA is not enforced for all users"
    digest = card_text(cycle)
    assert "NOT ENFORCED: MFA for **all users**" in digest
    assert "enforced for admins by 'Require multifactor authentication for admins'" in digest


def test_policies_on_further_pages_are_read(cycle: CycleHarness) -> None:
    checking(cycle)
    cycle.graph.conditional_access = ConditionalAccessService(
        policies=[ca.require_mfa_one_app(), ca.require_mfa_admins(), ca.require_mfa_all_users()],
        page_size=1,
    )

    cycle.run()

    assert snapshot(cycle)["EnforcedAllUsers"] is True
    assert len(cycle.graph.policy_requests) == 4  # security defaults, then three pages


def test_a_next_link_to_another_origin_is_not_followed(cycle: CycleHarness) -> None:
    checking(cycle)
    cycle.graph.conditional_access = ConditionalAccessService(
        policies=[ca.require_mfa_one_app(), ca.require_mfa_all_users()],
        page_size=1,
        next_link_origin="https://graph.example.net",
    )

    cycle.run()

    assert len(cycle.graph.policy_requests) == 2
    assert "not at GRAPH_ENDPOINT" in snapshot(cycle)["EnforcementUnknown"]
    assert titles(cycle) == ["MFA enforcement unknown: reading the policies fails"]
