"""Parse Graph's Conditional Access policies and security defaults (pure: no I/O).

Bodies of Graph v1.0 `GET /identity/conditionalAccess/policies` (a page of conditionalAccessPolicy,
https://learn.microsoft.com/graph/api/resources/conditionalaccesspolicy; schema in
microsoftgraph/msgraph-metadata `schemas/v1.0-Prod.csdl`) and of
`GET /policies/identitySecurityDefaultsEnforcementPolicy` (`isEnabled`,
https://learn.microsoft.com/graph/api/identitysecuritydefaultsenforcementpolicy-get).
Each policy is reduced to what enforcement depends on: who it includes and excludes, which
resources, what narrows it, and whether its grant requires MFA. Fields the schema lets be null,
and collections older answers leave out, are tolerated; fields not known here are ignored. A
wrong type, or a `state` or `operator` this code cannot read, raises ReportFormatError naming
the field (`value[2].grantControls.operator`): a guess could call a tenant protected when it is
not.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from shared.errors import ReportFormatError

# Microsoft's "Require multifactor authentication for admins" template (c7503427-338e-4c5e-
# 902d-abe252abfb43) roles, https://learn.microsoft.com/entra/identity/conditional-access/
# howto-conditional-access-policy-admin-mfa; template ids from https://learn.microsoft.com/
# entra/identity/role-based-access-control/permissions-reference.
ADMIN_ROLES = {
    "62e90394-69f5-4237-9190-012177145e10": "Global Administrator",
    "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3": "Application Administrator",
    "c4e39bd9-1100-46d3-8c65-fb160da0071f": "Authentication Administrator",
    "b0f54661-2d74-4c50-afa3-1ec803f12efe": "Billing Administrator",
    "158c047a-c907-4556-b7ef-446551a6b5f7": "Cloud Application Administrator",
    "b1be1c3e-b65d-4f19-8427-f6fa0d97feb9": "Conditional Access Administrator",
    "29232cdf-9323-42fd-ade2-1d097af3e4de": "Exchange Administrator",
    "729827e3-9c14-49f7-bb1b-9608f156bbb8": "Helpdesk Administrator",
    "966707d0-3269-4727-9be2-8c3a10f19b9d": "Password Administrator",
    "7be44c8a-adaf-4e2a-84d6-ab2649e08a13": "Privileged Authentication Administrator",
    "e8611ab8-c189-46e8-94e1-60213ab1f814": "Privileged Role Administrator",
    "194ae4cb-b126-40b2-bd5b-6091b380977d": "Security Administrator",
    "f28a1f50-f6e7-4571-818b-6a12f2af6b6c": "SharePoint Administrator",
    "fe930be7-5e62-47db-91af-98c3a49a38b1": "User Administrator",
}
# Other built-in roles policies often exclude (same permissions reference), to name them.
ROLE_NAMES = ADMIN_ROLES | {
    "f2ef992c-3afb-46b9-b7cf-a126ee74c451": "Global Reader",
    "5d6b6bb7-de71-4623-b4af-96380a352509": "Security Reader",
    "5f2222b1-57c3-48ba-8ad5-d4759f1fde6f": "Security Operator",
    "d29b2b05-8046-44ba-8758-1e26182fcf32": "Directory Synchronization Accounts",
    "9360feb5-f418-4baa-8175-e2a00bac4301": "Directory Writers",
    "8ac3fc64-6eca-42ea-9e69-59f4c7b60eb2": "Hybrid Identity Administrator",
    "3a2c62db-5318-420d-8d74-23affee5d9d5": "Intune Administrator",
    "0526716b-113d-4c15-b2c8-68e3c22b9f80": "Authentication Policy Administrator",
}
_STATES = {"enabled", "disabled", "enabledForReportingButNotEnforced"}
_ALTERNATIVES = {  # what an OR lets a user present instead of MFA
    "compliantDevice": "a compliant device",
    "domainJoinedDevice": "a hybrid-joined device",
    "approvedApplication": "an approved client app",
    "compliantApplication": "an app protection policy",
    "passwordChange": "a password change",
    "riskRemediation": "risk remediation",
}


@dataclass(frozen=True)
class Exclusions:
    """What a policy leaves out: object ids only (names are resolved by the caller, if at all)."""

    users: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()  # role template ids
    guests_or_external_users: bool = False
    applications: tuple[str, ...] = ()  # reported; not counted as principals

    @property
    def count(self) -> int:
        """Excluded principals: users, groups, roles, and guests (as one) if excluded."""
        return len(self.users) + len(self.groups) + len(self.roles) + self.guests_or_external_users

    @property
    def role_names(self) -> tuple[str, ...]:
        return tuple(ROLE_NAMES.get(role, f"role {role}") for role in self.roles)


@dataclass(frozen=True)
class Policy:
    """One Conditional Access policy, reduced to what enforcement depends on."""

    id: str
    name: str
    state: str
    include_users: tuple[str, ...]
    include_groups: tuple[str, ...]
    include_roles: tuple[str, ...]
    include_applications: tuple[str, ...]
    excluded: Exclusions
    narrowing: tuple[str, ...]  # conditions that narrow when the policy applies
    grant_gap: str | None  # why the grant does not require MFA (None: it does)
    mentions_mfa: bool


@dataclass(frozen=True)
class PoliciesPage:
    policies: tuple[Policy, ...]
    next_link: str | None


def parse_security_defaults(body: bytes | str) -> bool:
    """`isEnabled` of Graph's identitySecurityDefaultsEnforcementPolicy, or ReportFormatError."""
    payload = _load(body)
    enabled = payload.get("isEnabled")
    if not isinstance(enabled, bool):
        raise ReportFormatError("isEnabled", f"expected true or false, got {_kind(enabled)}")
    return enabled


def parse_policies(body: bytes | str) -> PoliciesPage:
    """One page of Conditional Access policies; follow `next_link` for the rest."""
    payload = _load(body)
    value = payload.get("value")
    if not isinstance(value, list):
        raise ReportFormatError("value", f"expected a list of policies, got {_kind(value)}")
    link = payload.get("@odata.nextLink")
    if link is not None and not isinstance(link, str):
        raise ReportFormatError("@odata.nextLink", f"expected a string, got {_kind(link)}")
    return PoliciesPage(tuple(_policy(p, f"value[{i}]") for i, p in enumerate(value)), link)


def _policy(raw: Any, path: str) -> Policy:
    item = _required(raw, path)
    name, state = _string(item, "displayName", path), _string(item, "state", path)
    if state not in _STATES:
        raise ReportFormatError(f"{path}.state", f"unknown state {state!r}")
    conditions = _required(item.get("conditions"), f"{path}.conditions")
    cpath = f"{path}.conditions"
    users = _object(conditions.get("users"), f"{cpath}.users") or {}
    upath = f"{cpath}.users"
    apps = _object(conditions.get("applications"), f"{cpath}.applications") or {}
    apath = f"{cpath}.applications"
    excluded_users = _strings(users, "excludeUsers", upath)
    guests = "GuestsOrExternalUsers" in excluded_users
    guests |= (
        _object(users.get("excludeGuestsOrExternalUsers"), f"{upath}.excludeGuests") is not None
    )
    excluded = Exclusions(
        users=tuple(u for u in excluded_users if u != "GuestsOrExternalUsers"),
        groups=_strings(users, "excludeGroups", upath),
        roles=_strings(users, "excludeRoles", upath),
        guests_or_external_users=guests,
        applications=_strings(apps, "excludeApplications", apath),
    )
    grant_gap, mentions = _grant(item.get("grantControls"), f"{path}.grantControls")
    return Policy(
        id=_string(item, "id", path), name=name, state=state,
        include_users=_strings(users, "includeUsers", upath),
        include_groups=_strings(users, "includeGroups", upath),
        include_roles=_strings(users, "includeRoles", upath),
        include_applications=_strings(apps, "includeApplications", apath),
        excluded=excluded, narrowing=_narrowing(conditions, apps, cpath),
        grant_gap=grant_gap, mentions_mfa=mentions,
    )  # fmt: skip


def _narrowing(conditions: dict[str, Any], apps: dict[str, Any], path: str) -> tuple[str, ...]:
    found = []
    if _object(apps.get("applicationFilter"), f"{path}.applications.applicationFilter"):
        found.append("an application filter")
    for key, what in (("locations", "Locations"), ("platforms", "Platforms")):
        scope = _object(conditions.get(key), f"{path}.{key}") or {}
        included = _strings(scope, f"include{what}", f"{path}.{key}")
        if _strings(scope, f"exclude{what}", f"{path}.{key}") or (
            included and included[0].lower() != "all"
        ):
            found.append(f"a {key[:-1]} condition")
    app_types = _strings(conditions, "clientAppTypes", path)
    if app_types and "all" not in app_types:
        found.append("client app types " + ", ".join(app_types))
    devices = _object(conditions.get("devices"), f"{path}.devices") or {}
    if _object(devices.get("deviceFilter"), f"{path}.devices.deviceFilter"):
        found.append("a device filter")
    for key, what in (("signIn", "sign-in"), ("user", "user"), ("servicePrincipal", "app")):
        if _strings(conditions, f"{key}RiskLevels", path):
            found.append(f"a {what} risk condition")
    # Narrowing when set; `times`, `deviceStates` and `signInRiskDetections` are beta-only but
    # appear (null) in v1.0 answers, as in the published template example.
    for key in ("insiderRiskLevels", "authenticationFlows", "times", "deviceStates"):
        if conditions.get(key) not in (None, [], {}):
            found.append(f"a condition on {key}")
    client_apps = _object(conditions.get("clientApplications"), f"{path}.clientApplications")
    if client_apps and _strings(
        client_apps, "includeServicePrincipals", f"{path}.clientApplications"
    ):
        found.append("workload identities only")
    return tuple(found)


def _grant(raw: Any, path: str) -> tuple[str | None, bool]:
    """(why this grant does not require MFA, or None; whether it names MFA at all)."""
    grant = _object(raw, path)
    if grant is None:
        return "no grant control", False
    controls = _strings(grant, "builtInControls", path)
    strength = _object(grant.get("authenticationStrength"), f"{path}.authenticationStrength")
    strength_mfa = False
    if strength is not None:
        spath = f"{path}.authenticationStrength"
        satisfied = _string(strength, "requirementsSatisfied", spath)
        strength_mfa = "mfa" in (part.strip() for part in satisfied.split(","))
    mfa = "mfa" in controls or strength_mfa
    if "block" in controls:
        return "blocks access instead of requiring MFA", mfa
    operator = grant.get("operator")
    if operator is not None and operator not in ("AND", "OR"):
        raise ReportFormatError(f"{path}.operator", f"expected AND or OR, got {operator!r}")
    if not mfa:
        return "does not require MFA", strength is not None
    if operator == "AND":
        return None, True
    others = [_ALTERNATIVES.get(c, c) for c in controls if c != "mfa"]
    others += ["a custom control"] * bool(_strings(grant, "customAuthenticationFactors", path))
    others += ["accepting terms of use"] * bool(_strings(grant, "termsOfUse", path))
    if strength is not None and not strength_mfa:
        others.append("an authentication strength that is not MFA")
    return (f"MFA or {' or '.join(others)}" if others else None), True


def _load(body: bytes | str) -> dict[str, Any]:
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise ReportFormatError("body", "not JSON Graph could have sent") from exc
    if not isinstance(payload, dict):
        raise ReportFormatError("body", f"expected a JSON object, got {_kind(payload)}")
    return payload


def _object(raw: Any, path: str) -> dict[str, Any] | None:
    """An object the schema lets be null (None then)."""
    return None if raw is None else _required(raw, path)


def _required(raw: Any, path: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise ReportFormatError(path, f"expected an object, got {_kind(raw)}")
    return raw


def _string(item: dict[str, Any], key: str, path: str) -> str:
    value = item.get(key)
    if not isinstance(value, str):
        raise ReportFormatError(f"{path}.{key}", f"expected a string, got {_kind(value)}")
    return value


def _strings(item: dict[str, Any], key: str, path: str) -> tuple[str, ...]:
    """A string collection; missing or null counts as empty (older answers leave them out)."""
    value = item.get(key)
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ReportFormatError(f"{path}.{key}", f"expected a list of strings, got {_kind(value)}")
    return tuple(value)


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    return names.get(type(value), f"a {type(value).__name__}")
