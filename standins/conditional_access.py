"""Conditional Access policies and security defaults the way Graph v1.0 returns them.

Each policy is a whole conditionalAccessPolicy as `GET /v1.0/identity/conditionalAccess/policies`
returns it (https://learn.microsoft.com/graph/api/conditionalaccessroot-list-policies): every
condition present, unset ones `null` or `[]` (as in Microsoft's template examples,
https://learn.microsoft.com/graph/api/conditionalaccesstemplate-get), and `grantControls` with
its `authenticationStrength@odata.context` beside `authenticationStrength` (`null`, or the
authenticationStrengthPolicy inline). Property names and enum values follow the v1.0 schema
(microsoftgraph/msgraph-metadata, `schemas/v1.0-Prod.csdl`).

The role ids here are written out from Microsoft's documents on purpose, not imported from the
code under test, so a test cannot pass by agreeing with itself.

`ConditionalAccessService.answer(request)` serves them (or 403 without `Policy.Read.All`) for
the Graph stand-in to call before its own routes.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from standins.loopback import Reply, Request

POLICIES_PATH = "/v1.0/identity/conditionalAccess/policies"
SECURITY_DEFAULTS_PATH = "/v1.0/policies/identitySecurityDefaultsEnforcementPolicy"
POLICIES_CONTEXT = "https://graph.microsoft.com/v1.0/$metadata#identity/conditionalAccess/policies"

# Template ids, https://learn.microsoft.com/graph/api/conditionalaccessroot-list-templates
ALL_USERS_TEMPLATE = "a3d0a415-b068-4326-9251-f9cdf9feeb64"
ADMINS_TEMPLATE = "c7503427-338e-4c5e-902d-abe252abfb43"
# The roles https://learn.microsoft.com/entra/identity/conditional-access/howto-conditional-
# access-policy-admin-mfa lists, by template id from .../role-based-access-control/
# permissions-reference: Global, Application, Authentication, Billing, Cloud Application,
# Conditional Access, Exchange, Helpdesk, Password, Privileged Authentication, Privileged Role,
# Security, SharePoint and User Administrator.
ADMIN_TEMPLATE_ROLES = (
    "62e90394-69f5-4237-9190-012177145e10",
    "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3",
    "c4e39bd9-1100-46d3-8c65-fb160da0071f",
    "b0f54661-2d74-4c50-afa3-1ec803f12efe",
    "158c047a-c907-4556-b7ef-446551a6b5f7",
    "b1be1c3e-b65d-4f19-8427-f6fa0d97feb9",
    "29232cdf-9323-42fd-ade2-1d097af3e4de",
    "729827e3-9c14-49f7-bb1b-9608f156bbb8",
    "966707d0-3269-4727-9be2-8c3a10f19b9d",
    "7be44c8a-adaf-4e2a-84d6-ab2649e08a13",
    "e8611ab8-c189-46e8-94e1-60213ab1f814",
    "194ae4cb-b126-40b2-bd5b-6091b380977d",
    "f28a1f50-f6e7-4571-818b-6a12f2af6b6c",
    "fe930be7-5e62-47db-91af-98c3a49a38b1",
)
GLOBAL_ADMINISTRATOR = ADMIN_TEMPLATE_ROLES[0]
EXCHANGE_ONLINE_APP = "00000002-0000-0ff1-ce00-000000000000"  # Office 365 Exchange Online
BREAK_GLASS_GROUP = "a68ee561-2427-4058-b307-7e2f7b8f6c07"
BREAK_GLASS_USERS = ("7b368f5d-0186-4650-9d50-3559567906f0", "7a4c09e1-dfff-4536-a2c1-f9545e8bdc50")

# The built-in "Multifactor authentication" strength as Graph returns it,
# https://learn.microsoft.com/graph/api/authenticationstrengthroot-list-policies (response).
MFA_STRENGTH: dict[str, Any] = {
    "id": "00000000-0000-0000-0000-000000000002",
    "createdDateTime": "2021-12-01T00:00:00Z",
    "modifiedDateTime": "2021-12-01T00:00:00Z",
    "displayName": "Multifactor authentication",
    "description": "Combinations of methods that satisfy strong authentication, such as a "
    "password + SMS",
    "policyType": "builtIn",
    "requirementsSatisfied": "mfa",
    "allowedCombinations": [
        "windowsHelloForBusiness",
        "fido2",
        "x509CertificateMultiFactor",
        "deviceBasedPush",
        "temporaryAccessPassOneTime",
        "temporaryAccessPassMultiUse",
        "password,microsoftAuthenticatorPush",
        "password,softwareOath",
        "password,hardwareOath",
        "password,sms",
        "password,voice",
    ],
    "combinationConfigurations": [],
}


def policy(
    policy_id: str,
    name: str,
    *,
    state: str = "enabled",
    include_users: tuple[str, ...] = ("All",),
    include_roles: tuple[str, ...] = (),
    exclude_users: tuple[str, ...] = (),
    exclude_groups: tuple[str, ...] = (),
    exclude_roles: tuple[str, ...] = (),
    include_applications: tuple[str, ...] = ("All",),
    built_in_controls: tuple[str, ...] = ("mfa",),
    operator: str = "OR",
    authentication_strength: dict[str, Any] | None = None,
    template_id: str | None = None,
    **conditions: Any,
) -> dict[str, Any]:
    """A conditionalAccessPolicy in full; `conditions` override the condition set's members."""
    condition_set: dict[str, Any] = {
        "userRiskLevels": [],
        "signInRiskLevels": [],
        "clientAppTypes": ["all"],
        "servicePrincipalRiskLevels": [],
        "insiderRiskLevels": None,
        "platforms": None,
        "locations": None,
        "devices": None,
        "clientApplications": None,
        "authenticationFlows": None,
        "applications": {
            "includeApplications": list(include_applications),
            "excludeApplications": [],
            "includeUserActions": [],
            "includeAuthenticationContextClassReferences": [],
            "applicationFilter": None,
        },
        "users": {
            "includeUsers": list(include_users),
            "excludeUsers": list(exclude_users),
            "includeGroups": [],
            "excludeGroups": list(exclude_groups),
            "includeRoles": list(include_roles),
            "excludeRoles": list(exclude_roles),
            "includeGuestsOrExternalUsers": None,
            "excludeGuestsOrExternalUsers": None,
        },
    }
    condition_set.update(conditions)
    return {
        "id": policy_id,
        "templateId": template_id,
        "displayName": name,
        "createdDateTime": "2024-03-04T09:12:45.5712934Z",
        "modifiedDateTime": None,
        "state": state,
        "sessionControls": None,
        "conditions": condition_set,
        "grantControls": {
            "operator": operator,
            "builtInControls": list(built_in_controls),
            "customAuthenticationFactors": [],
            "termsOfUse": [],
            "authenticationStrength@odata.context": "https://graph.microsoft.com/v1.0/$metadata"
            f"#identity/conditionalAccess/policies('{policy_id}')/grantControls/"
            "authenticationStrength/$entity",
            "authenticationStrength": copy.deepcopy(authentication_strength),
        },
    }


def require_mfa_all_users(*, state: str = "enabled", **changes: Any) -> dict[str, Any]:
    """Microsoft's "Require multifactor authentication for all users" template, as created."""
    return policy(
        "1c4b2e7a-0f3d-4a8e-9b61-2d5f8c3e7a10",
        "Require multifactor authentication for all users",
        state=state,
        template_id=ALL_USERS_TEMPLATE,
        **changes,
    )


def require_mfa_all_users_report_only() -> dict[str, Any]:
    return require_mfa_all_users(state="enabledForReportingButNotEnforced")


def require_mfa_one_app() -> dict[str, Any]:
    """All users, MFA, but for Exchange Online only."""
    return policy(
        "2d5c3f8b-1a4e-4b9f-8c72-3e6a9d4f8b21",
        "Require MFA for Exchange Online",
        include_applications=(EXCHANGE_ONLINE_APP,),
    )


def mfa_or_compliant_device() -> dict[str, Any]:
    """MFA *or* a compliant device: a compliant device alone lets a user in."""
    return policy(
        "3e6d4a9c-2b5f-4c0a-9d83-4f7b0e5a9c32",
        "Require MFA or a compliant device",
        built_in_controls=("mfa", "compliantDevice"),
    )


def mfa_and_compliant_device() -> dict[str, Any]:
    """MFA *and* a compliant device: MFA is required."""
    return policy(
        "4f7e5b0d-3c6a-4d1b-8e94-5a8c1f6b0d43",
        "Require MFA and a compliant device",
        built_in_controls=("mfa", "compliantDevice"),
        operator="AND",
    )


def break_glass_group_excluded() -> dict[str, Any]:
    """The all-users template with the emergency-access group excluded, as Microsoft advises."""
    return require_mfa_all_users(exclude_groups=(BREAK_GLASS_GROUP,))


def authentication_strength() -> dict[str, Any]:
    """All users, All resources, the built-in "Multifactor authentication" strength."""
    return policy(
        "5a8f6c1e-4d7b-4e2c-9fa5-6b9d2a7c1e54",
        "Require MFA strength for all users",
        built_in_controls=(),
        authentication_strength=MFA_STRENGTH,
    )


def mfa_outside_trusted_locations() -> dict[str, Any]:
    """All users, MFA, except from trusted locations (Microsoft's named-locations variant)."""
    return policy(
        "6b9a7d2f-5e8c-4f3d-8ab6-7c0e3b8d2f65",
        "Require MFA outside trusted locations",
        locations={"includeLocations": ["All"], "excludeLocations": ["AllTrusted"]},
    )


def require_mfa_admins(*, roles: tuple[str, ...] = ADMIN_TEMPLATE_ROLES) -> dict[str, Any]:
    """Microsoft's "Require multifactor authentication for admins" template, as created."""
    return policy(
        "7c0b8e3a-6f9d-4a4e-9bc7-8d1f4c9e3a76",
        "Require multifactor authentication for admins",
        include_users=(),
        include_roles=roles,
        template_id=ADMINS_TEMPLATE,
    )


def block_legacy_authentication() -> dict[str, Any]:
    """Microsoft's "Block legacy authentication" template: All users, blocked, two app types."""
    return policy(
        "8d1c9f4b-7a0e-4b5f-8cd8-9e2a5d0f4b87",
        "Block legacy authentication",
        built_in_controls=("block",),
        clientAppTypes=["exchangeActiveSync", "other"],
        template_id="0b2282f9-2862-4178-88b5-d79340b36cb8",
    )


def security_defaults(*, enabled: bool) -> dict[str, Any]:
    """https://learn.microsoft.com/graph/api/identitysecuritydefaultsenforcementpolicy-get"""
    return {
        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata"
        "#policies/identitySecurityDefaultsEnforcementPolicy/$entity",
        "description": "Security defaults is a set of basic identity security mechanisms "
        "recommended by Microsoft. When enabled, these recommendations will be automatically "
        "enforced in your organization. Administrators and users will be better protected "
        "from common identity related attacks.",
        "displayName": "Security Defaults",
        "id": "00000000-0000-0000-0000-000000000005",
        "isEnabled": enabled,
    }


def collection(*policies: dict[str, Any]) -> dict[str, Any]:
    """One page of the policies list, as Graph sends it."""
    return {"@odata.context": POLICIES_CONTEXT, "value": list(policies)}


# Graph's 403 on the policies list for a token without Policy.Read.All, as callers quote it
# (hugobatista/zerotrust-ca-powertoys#8, Microsoft365DSC/Microsoft365DSC#3556). No published
# example shows security defaults' 403 body; the same is served there.
MISSING_SCOPE = (
    "AccessDenied",
    "You cannot perform the requested operation, required scopes are missing in the token.",
)


@dataclass
class ConditionalAccessService:
    """What the Graph stand-in answers on the two enforcement paths.

    `policies`: the tenant's policies; `security_defaults_enabled`; `permitted`: False answers
    both paths with the 403 Graph gives a token without Policy.Read.All; `page_size`: policies
    per page, further pages behind an `@odata.nextLink` with a `$skiptoken` (None: one page);
    `next_link_origin`: where those links point (None: the Host the request was sent to).
    """

    policies: list[dict[str, Any]] = field(default_factory=list)
    security_defaults_enabled: bool = False
    permitted: bool = True
    page_size: int | None = None
    next_link_origin: str | None = None

    def answer(self, request: Request) -> Reply | None:
        """The reply for `request`, or None when its path is not one of these two."""
        if request.path not in (POLICIES_PATH, SECURITY_DEFAULTS_PATH):
            return None
        if not self.permitted:
            code, message = MISSING_SCOPE
            body = {"error": {"code": code, "message": message, "innerError": {}}}
            return Reply(403, body, {"request-id": "req-403-" + code})
        if request.path == POLICIES_PATH:
            return Reply(200, self._page(request), {"request-id": "req-ca-policies"})
        body = security_defaults(enabled=self.security_defaults_enabled)
        return Reply(200, body, {"request-id": "req-security-defaults"})

    def _page(self, request: Request) -> dict[str, Any]:
        start = int(request.query.get("$skiptoken", ["0"])[0])
        size = self.page_size or max(len(self.policies), 1)
        body = collection(*self.policies[start : start + size])
        if start + size < len(self.policies):
            origin = self.next_link_origin or f"http://{request.headers.get('host', '')}"
            body["@odata.nextLink"] = f"{origin}{POLICIES_PATH}?$skiptoken={start + size}"
        return body
