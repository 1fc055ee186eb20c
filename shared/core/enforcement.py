"""Decide whether MFA is enforced for all users and for admins (pure: no I/O, no clock).

MFA is enforced for all users when security defaults are on, or when an `enabled` policy
includes All users and All resources, has no narrowing condition (locations, platforms, client
app types, device filter, risk levels...), and requires MFA: `mfa`, or an authentication
strength that satisfies MFA, and with `OR` no other control that could stand in for it (MFA or
a compliant device does not require MFA). Excluded applications are reported but do not void
enforcement: Microsoft's own "all users" guidance excludes apps that need no MFA.

For admins, such a policy may instead include every role of Microsoft's "Require MFA for
administrators" template (ADMIN_ROLES), and must not exclude any of them.

An enforcing policy that excludes more principals (users, groups, roles; guests as one) than
`max_exclusions` counts as not enforced. When nothing enforces, the verdict names the nearest
policy and what keeps it from enforcing ("report-only", "one app only", "a location
condition", "MFA or a compliant device").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from shared.core.conditional_access import (
    ADMIN_ROLES,
    Exclusions,
    Policy,
    parse_policies,
    parse_security_defaults,
)

__all__ = [
    "SECURITY_DEFAULTS",
    "Enforcement",
    "Exclusions",
    "Verdict",
    "decide_enforcement",
    "parse_policies",
    "parse_security_defaults",
]

SECURITY_DEFAULTS = "Security defaults"
_SUITES = {"Office365": "Office 365 only", "MicrosoftAdminPortals": "the admin portals only"}


@dataclass(frozen=True)
class Verdict:
    enforced: bool
    policy: str | None  # the enforcing policy (or the nearest one when none enforces)
    reason: str
    excluded: Exclusions = field(default_factory=Exclusions)


@dataclass(frozen=True)
class Enforcement:
    all_users: Verdict
    admins: Verdict


def decide_enforcement(
    policies: tuple[Policy, ...], *, security_defaults: bool, max_exclusions: int | None = None
) -> Enforcement:
    """Whether MFA is enforced for all users and for admins, and by what (or why not).

    `max_exclusions`: the most excluded principals an enforcing policy may have (None: any).
    """
    if security_defaults:
        on = Verdict(True, SECURITY_DEFAULTS, "security defaults are on")
        return Enforcement(all_users=on, admins=on)
    return Enforcement(
        all_users=_verdict(policies, _gaps_all_users, max_exclusions, "all users"),
        admins=_verdict(policies, _gaps_admins, max_exclusions, "admins"),
    )


def _verdict(
    policies: tuple[Policy, ...], gaps_of: Callable[[Policy], list[str]], cap: int | None, who: str
) -> Verdict:
    gaps = [(policy, gaps_of(policy)) for policy in policies]
    enforcing = sorted((p for p, g in gaps if not g), key=lambda p: p.excluded.count)
    if enforcing:
        best = enforcing[0]
        count = best.excluded.count
        if cap is None or count <= cap:
            return Verdict(True, best.name, f"'{best.name}' requires MFA for {who}", best.excluded)
        reason = f"'{best.name}' excludes {count} users, groups or roles (more than {cap} allowed)"
        return Verdict(False, best.name, reason, best.excluded)
    if not gaps:
        return Verdict(False, None, "security defaults are off and there is no policy at all")
    # Nearest: a policy that names MFA at all, then the fewest gaps, then Graph's order.
    ranked = sorted(
        enumerate(gaps), key=lambda ig: (not ig[1][0].mentions_mfa, len(ig[1][1]), ig[0])
    )
    nearest, why = ranked[0][1]
    reason = f"no policy requires MFA for {who}; nearest '{nearest.name}': " + ", ".join(why)
    return Verdict(False, nearest.name, reason, nearest.excluded)


def _gaps(policy: Policy, scope: list[str]) -> list[str]:
    """Everything that keeps `policy` from enforcing MFA, `scope` (who it misses) included."""
    found = {"disabled": ["disabled"], "enabledForReportingButNotEnforced": ["report-only"]}.get(
        policy.state, []
    ) + scope
    apps = policy.include_applications
    if "All" not in apps:
        if not apps or apps == ("None",):
            found.append("no cloud apps (user actions or authentication context only)")
        elif len(apps) == 1:
            found.append(_SUITES.get(apps[0], "one app only"))
        else:
            found.append(f"{len(apps)} apps only")
    found.extend(policy.narrowing)
    if policy.grant_gap:
        found.append(policy.grant_gap)
    return found


def _gaps_all_users(policy: Policy) -> list[str]:
    everyone = "All" in policy.include_users
    return _gaps(policy, [] if everyone else ["selected users, groups or roles only"])


def _gaps_admins(policy: Policy) -> list[str]:
    scope = []
    if "All" not in policy.include_users:
        missing = [name for role, name in ADMIN_ROLES.items() if role not in policy.include_roles]
        if missing:
            more = f" and {len(missing) - 1} more" if len(missing) > 1 else ""
            scope.append(f"admin roles left out ({missing[0]}{more})")
    excluded = [ADMIN_ROLES[r] for r in policy.excluded.roles if r in ADMIN_ROLES]
    if excluded:
        scope.append(f"excludes the {excluded[0]} role")
    return _gaps(policy, scope)
