"""Whether MFA is enforced, decided from Conditional Access and security defaults (pure)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from shared.core.enforcement import (
    SECURITY_DEFAULTS,
    Enforcement,
    decide_enforcement,
    parse_policies,
    parse_security_defaults,
)
from shared.errors import ReportFormatError
from standins import conditional_access as ca
from standins.loopback import Request


def decide(
    *policies: dict[str, Any], defaults: bool = False, max_exclusions: int | None = None
) -> Enforcement:
    """Decide over `policies` sent through JSON, exactly as Graph's page would arrive."""
    page = parse_policies(json.dumps(ca.collection(*policies)).encode())
    return decide_enforcement(
        page.policies, security_defaults=defaults, max_exclusions=max_exclusions
    )


def rejected_field(payload: Any) -> str:
    with pytest.raises(ReportFormatError) as failure:
        parse_policies(json.dumps(payload))
    return failure.value.field


def test_microsofts_all_users_template_enforces_mfa_for_everyone_admins_included() -> None:
    result = decide(ca.require_mfa_all_users())

    assert result.all_users.enforced
    assert result.all_users.policy == "Require multifactor authentication for all users"
    assert result.admins.enforced
    assert result.all_users.excluded.count == 0


@pytest.mark.parametrize(
    ("state", "named"),
    [("enabledForReportingButNotEnforced", "report-only"), ("disabled", "disabled")],
)
def test_a_report_only_or_disabled_template_enforces_nothing_and_says_so(
    state: str, named: str
) -> None:
    result = decide(ca.require_mfa_all_users(state=state))

    assert not result.all_users.enforced
    assert not result.admins.enforced
    assert result.all_users.policy == "Require multifactor authentication for all users"
    assert result.all_users.reason.endswith(f"': {named}")


def test_the_report_only_stand_in_is_the_template_in_report_only_mode() -> None:
    assert ca.require_mfa_all_users_report_only()["state"] == "enabledForReportingButNotEnforced"
    assert "report-only" in decide(ca.require_mfa_all_users_report_only()).all_users.reason


def test_a_policy_for_one_app_does_not_enforce_mfa() -> None:
    result = decide(ca.require_mfa_one_app())

    assert not result.all_users.enforced
    assert "one app only" in result.all_users.reason


def test_mfa_or_a_compliant_device_does_not_require_mfa() -> None:
    result = decide(ca.mfa_or_compliant_device())

    assert not result.all_users.enforced
    assert "MFA or a compliant device" in result.all_users.reason


def test_mfa_and_a_compliant_device_requires_mfa() -> None:
    assert decide(ca.mfa_and_compliant_device()).all_users.enforced


def test_block_alone_is_not_mfa() -> None:
    result = decide(ca.block_legacy_authentication())

    assert not result.all_users.enforced
    assert "blocks access" in result.all_users.reason
    assert "client app types exchangeActiveSync, other" in result.all_users.reason


def test_a_location_condition_narrows_the_policy() -> None:
    result = decide(ca.mfa_outside_trusted_locations())

    assert not result.all_users.enforced
    assert "a location condition" in result.all_users.reason


@pytest.mark.parametrize(
    ("condition", "named"),
    [
        ({"platforms": {"includePlatforms": ["android", "iOS"], "excludePlatforms": []}},
         "a platform condition"),
        ({"clientAppTypes": ["browser"]}, "client app types browser"),
        ({"devices": {"deviceFilter": {"mode": "exclude", "rule": "device.isCompliant -eq True"}}},
         "a device filter"),
        ({"signInRiskLevels": ["high", "medium"]}, "a sign-in risk condition"),
        ({"userRiskLevels": ["high"]}, "a user risk condition"),
        ({"insiderRiskLevels": "elevated"}, "insiderRiskLevels"),
        ({"authenticationFlows": {"transferMethods": "deviceCodeFlow"}}, "authenticationFlows"),
    ],
)  # fmt: skip
def test_each_narrowing_condition_voids_enforcement(condition: dict[str, Any], named: str) -> None:
    result = decide(ca.policy("p1", "Narrowed MFA", **condition))

    assert not result.all_users.enforced
    assert named in result.all_users.reason


def test_platforms_and_locations_that_include_all_and_exclude_nothing_do_not_narrow() -> None:
    result = decide(
        ca.policy(
            "p1",
            "MFA everywhere",
            platforms={"includePlatforms": ["all"], "excludePlatforms": []},
            locations={"includeLocations": ["All"], "excludeLocations": []},
        )
    )

    assert result.all_users.enforced


def test_an_authentication_strength_that_satisfies_mfa_enforces() -> None:
    result = decide(ca.authentication_strength())

    assert result.all_users.enforced
    assert result.all_users.policy == "Require MFA strength for all users"


def test_an_authentication_strength_that_does_not_satisfy_mfa_does_not_enforce() -> None:
    weak = dict(ca.MFA_STRENGTH, displayName="Password only", requirementsSatisfied="none")
    result = decide(ca.policy("p1", "Weak", built_in_controls=(), authentication_strength=weak))

    assert not result.all_users.enforced
    assert "does not require MFA" in result.all_users.reason


def test_a_break_glass_group_is_reported_by_id_and_enforcement_stands() -> None:
    result = decide(ca.break_glass_group_excluded(), max_exclusions=2)

    assert result.all_users.enforced
    assert result.all_users.excluded.groups == (ca.BREAK_GLASS_GROUP,)
    assert result.all_users.excluded.count == 1


def test_more_exclusions_than_the_cap_counts_as_not_enforced() -> None:
    many = ca.require_mfa_all_users(
        exclude_users=ca.BREAK_GLASS_USERS, exclude_groups=(ca.BREAK_GLASS_GROUP,)
    )

    capped = decide(many, max_exclusions=2)
    uncapped = decide(many)

    assert not capped.all_users.enforced
    assert "excludes 3" in capped.all_users.reason and "more than 2" in capped.all_users.reason
    assert capped.all_users.excluded.users == ca.BREAK_GLASS_USERS
    assert uncapped.all_users.enforced


def test_the_policy_within_the_cap_wins_over_one_beyond_it() -> None:
    many = ca.require_mfa_all_users(exclude_users=ca.BREAK_GLASS_USERS)
    few = ca.break_glass_group_excluded()

    result = decide(many, few, max_exclusions=1)

    assert result.all_users.enforced
    assert result.all_users.excluded.groups == (ca.BREAK_GLASS_GROUP,)


def test_excluded_roles_are_named_from_their_template_ids() -> None:
    excluding = ca.require_mfa_all_users(exclude_roles=("d29b2b05-8046-44ba-8758-1e26182fcf32",))

    result = decide(excluding)

    assert result.all_users.excluded.role_names == ("Directory Synchronization Accounts",)


def test_excluding_an_admin_role_leaves_admins_unenforced() -> None:
    result = decide(ca.require_mfa_all_users(exclude_roles=(ca.GLOBAL_ADMINISTRATOR,)))

    assert result.all_users.enforced
    assert not result.admins.enforced
    assert "excludes the Global Administrator role" in result.admins.reason


def test_security_defaults_on_count_as_enforced_for_everyone() -> None:
    body = json.dumps(ca.security_defaults(enabled=True))

    result = decide(defaults=parse_security_defaults(body))

    assert result.all_users.enforced and result.admins.enforced
    assert result.all_users.policy == SECURITY_DEFAULTS


def test_security_defaults_off_and_no_policy_fires_with_a_reason() -> None:
    result = decide(
        defaults=parse_security_defaults(json.dumps(ca.security_defaults(enabled=False)))
    )

    assert not result.all_users.enforced and not result.admins.enforced
    assert result.all_users.policy is None
    assert "security defaults are off" in result.all_users.reason


def test_the_admins_template_enforces_for_admins_only() -> None:
    result = decide(ca.require_mfa_admins())

    assert not result.all_users.enforced
    assert "selected users, groups or roles only" in result.all_users.reason
    assert result.admins.enforced
    assert result.admins.policy == "Require multifactor authentication for admins"


def test_an_admin_policy_missing_a_template_role_does_not_enforce_for_admins() -> None:
    result = decide(ca.require_mfa_admins(roles=ca.ADMIN_TEMPLATE_ROLES[1:]))

    assert not result.admins.enforced
    assert "admin roles left out (Global Administrator)" in result.admins.reason


def test_the_nearest_policy_is_the_mfa_one_with_fewest_gaps() -> None:
    result = decide(
        ca.block_legacy_authentication(),
        ca.require_mfa_one_app(),
        ca.require_mfa_all_users(state="enabledForReportingButNotEnforced", exclude_groups=()),
        ca.mfa_outside_trusted_locations(),
    )

    assert not result.all_users.enforced
    assert result.all_users.policy == "Require MFA for Exchange Online"  # first of the 1-gap ones
    assert "block" not in result.all_users.reason


def test_nulls_the_schema_allows_and_fields_it_does_not_know_are_tolerated() -> None:
    item = ca.require_mfa_all_users()
    item["conditions"].update(platforms=None, locations=None, devices=None)
    item["conditions"]["users"].update(excludeGroups=None, includeGuestsOrExternalUsers=None)
    item["grantControls"].update(operator=None, authenticationStrength=None, termsOfUse=None)
    item["sessionControls"] = None
    item["futureField"] = {"anything": [1, 2]}
    item["conditions"]["futureCondition"] = None
    del item["conditions"]["insiderRiskLevels"]  # older answers leave members out

    assert decide(item).all_users.enforced


def test_the_published_list_example_parses() -> None:
    # https://learn.microsoft.com/graph/api/conditionalaccessroot-list-policies (response):
    # members left out, `includeUsers: ["None"]`, both policies disabled.
    published = {
        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#conditionalAccess/policies",
        "value": [
            {
                "id": "c558e346-969d-40a7-a64e-2df6c2c88490",
                "displayName": "SimplePolicy2",
                "createdDateTime": None,
                "modifiedDateTime": None,
                "state": "disabled",
                "sessionControls": None,
                "conditions": {
                    "signInRiskLevels": [],
                    "clientAppTypes": ["all"],
                    "platforms": None,
                    "locations": None,
                    "applications": {
                        "includeApplications": ["None"],
                        "excludeApplications": [],
                        "includeUserActions": [],
                    },
                    "users": {
                        "includeUsers": ["None"],
                        "excludeUsers": [],
                        "includeGroups": [],
                        "excludeGroups": [],
                        "includeRoles": [],
                        "excludeRoles": [],
                    },
                },
                "grantControls": {
                    "operator": "OR",
                    "builtInControls": ["mfa"],
                    "customAuthenticationFactors": [],
                    "termsOfUse": [],
                },
            }
        ],
    }

    page = parse_policies(json.dumps(published))
    verdict = decide_enforcement(page.policies, security_defaults=False).all_users

    assert page.next_link is None
    assert not verdict.enforced
    assert verdict.policy == "SimplePolicy2"
    assert "disabled" in verdict.reason and "no cloud apps" in verdict.reason


def test_the_next_link_is_handed_back_for_the_caller_to_follow() -> None:
    body = dict(ca.collection(ca.require_mfa_all_users()), **{"@odata.nextLink": "https://x/2"})

    assert parse_policies(json.dumps(body)).next_link == "https://x/2"


@pytest.mark.parametrize(
    ("break_it", "field"),
    [
        (lambda p: p.update(state="enforcedSometimes"), "value[0].state"),
        (lambda p: p.pop("displayName"), "value[0].displayName"),
        (lambda p: p.update(conditions=None), "value[0].conditions"),
        (lambda p: p["conditions"]["users"].update(excludeUsers="all of them"),
         "value[0].conditions.users.excludeUsers"),
        (lambda p: p["conditions"].update(locations=["AllTrusted"]),
         "value[0].conditions.locations"),
        (lambda p: p["grantControls"].update(operator="XOR"), "value[0].grantControls.operator"),
        (lambda p: p["grantControls"].update(builtInControls=[1]),
         "value[0].grantControls.builtInControls"),
        (lambda p: p["grantControls"].update(authenticationStrength={"displayName": "x"}),
         "value[0].grantControls.authenticationStrength.requirementsSatisfied"),
    ],
)  # fmt: skip
def test_a_malformed_policy_names_the_field(break_it: Any, field: str) -> None:
    item = ca.require_mfa_all_users()
    break_it(item)

    assert rejected_field(ca.collection(item)) == field


@pytest.mark.parametrize(
    ("payload", "field"),
    [([], "body"), ({"value": None}, "value"), ({"value": [None]}, "value[0]")],
)
def test_a_malformed_page_names_the_field(payload: Any, field: str) -> None:
    assert rejected_field(payload) == field


def test_a_body_that_is_not_json_is_rejected() -> None:
    with pytest.raises(ReportFormatError) as failure:
        parse_policies(b"<html>")
    assert failure.value.field == "body"


@pytest.mark.parametrize("enabled", [None, "true", 1])
def test_security_defaults_without_a_boolean_name_is_enabled(enabled: Any) -> None:
    with pytest.raises(ReportFormatError) as failure:
        parse_security_defaults(
            json.dumps(dict(ca.security_defaults(enabled=True), isEnabled=enabled))
        )
    assert failure.value.field == "isEnabled"


def request(path: str) -> Request:
    return Request("GET", path, {}, {"authorization": "Bearer t"}, b"")


def test_the_stand_in_serves_both_paths_and_nothing_else() -> None:
    service = ca.ConditionalAccessService(
        [ca.require_mfa_all_users()], security_defaults_enabled=True
    )

    policies = service.answer(request(ca.POLICIES_PATH))
    defaults = service.answer(request(ca.SECURITY_DEFAULTS_PATH))

    assert policies is not None and defaults is not None
    assert policies.status == defaults.status == 200
    assert isinstance(policies.body, dict) and len(policies.body["value"]) == 1
    assert parse_security_defaults(json.dumps(defaults.body)) is True
    assert service.answer(request("/v1.0/me")) is None


def test_without_the_permission_the_stand_in_answers_403_access_denied() -> None:
    service = ca.ConditionalAccessService(permitted=False)

    for path in (ca.POLICIES_PATH, ca.SECURITY_DEFAULTS_PATH):
        reply = service.answer(request(path))
        assert reply is not None and reply.status == 403
        assert isinstance(reply.body, dict) and reply.body["error"]["code"] == "AccessDenied"
