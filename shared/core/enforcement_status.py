"""What a fetch learnt about MFA enforcement, as the snapshot keeps it (pure: no I/O).

`shared.core.enforcement` decides from the policies; this is the verdict reduced to what may be
stored and shown: whether MFA is enforced, by which policy (or why not), and what the policy
leaves out as *counts* (users, groups) and role *names*. No user or group id is kept at rest:
a card says "excludes 1 group, 2 users", and the Entra admin center shows which.

When enforcement could not be read (Graph refused the policies, most often for want of
Policy.Read.All), the status says why and carries no verdicts: the alerts on enforcement stay
as they were, and one alert of its own (ENFORCEMENT_UNKNOWN) says what is missing.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.core.enforcement import Enforcement, Verdict

# The permission the reads need, named in logs and cards when it is missing.
ENFORCEMENT_PERMISSION = "Policy.Read.All"


@dataclass(frozen=True)
class Excluded:
    """What an enforcing (or the nearest) policy leaves out: counts and role names only."""

    users: int = 0
    groups: int = 0
    roles: tuple[str, ...] = ()  # role names ("Global Administrator"), or "role <template id>"
    guests: bool = False  # guests and external users

    @property
    def count(self) -> int:
        return self.users + self.groups + len(self.roles) + self.guests

    def describe(self) -> str:
        """ "1 group, 2 users and the Global Reader role", or "" when nothing is excluded."""
        parts = [
            f"{n} {what}{'s' if n != 1 else ''}"
            for n, what in ((self.groups, "group"), (self.users, "user"))
            if n
        ]
        if self.guests:
            parts.append("guests and external users")
        if self.roles:
            roles = ", ".join(self.roles)
            parts.append(f"the {roles} role{'s' if len(self.roles) != 1 else ''}")
        if len(parts) < 2:
            return "".join(parts)
        return ", ".join(parts[:-1]) + " and " + parts[-1]


@dataclass(frozen=True)
class Finding:
    """One verdict (all users, or admins) as stored."""

    enforced: bool
    policy: str | None  # the enforcing policy, or the nearest one when none enforces
    reason: str
    excluded: Excluded = Excluded()

    @classmethod
    def of(cls, verdict: Verdict) -> Finding:
        excluded = verdict.excluded
        return cls(
            enforced=verdict.enforced,
            policy=verdict.policy,
            reason=verdict.reason,
            excluded=Excluded(
                users=len(excluded.users),
                groups=len(excluded.groups),
                roles=excluded.role_names,
                guests=excluded.guests_or_external_users,
            ),
        )


@dataclass(frozen=True)
class EnforcementStatus:
    """The verdicts for all users and for admins, or (both None) why they are unknown."""

    all_users: Finding | None = None
    admins: Finding | None = None
    unknown: str = ""  # why enforcement is unknown this time ("" when it is known)
    permission_missing: bool = False

    @classmethod
    def known(cls, enforcement: Enforcement) -> EnforcementStatus:
        return cls(Finding.of(enforcement.all_users), Finding.of(enforcement.admins))

    @classmethod
    def unknown_because(cls, why: str, *, permission_missing: bool) -> EnforcementStatus:
        return cls(unknown=why or "unknown", permission_missing=permission_missing)
