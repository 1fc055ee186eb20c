"""How messages speak of MFA enforcement (pure): the standing line, and the alerts' words.

The line ("MFA enforced for all users by 'Require MFA' (excludes 1 group, 2 users); for
admins by ...") goes on every coverage card and the digest when CHECK_ENFORCEMENT is on. The
alerts on enforcement (shared/core/alerting.py's ENFORCEMENT_STATES) get titles and lines here;
a verdict's reason names the enforcing policy, or the nearest one and what narrows it.
"""

from __future__ import annotations

from shared.core.alerting import (
    ENFORCED_ADMINS,
    ENFORCED_ALL_USERS,
    ENFORCEMENT_STATES,
    ENFORCEMENT_UNKNOWN,
    AlertState,
    Event,
    Notice,
)
from shared.core.enforcement_status import ENFORCEMENT_PERMISSION, EnforcementStatus, Finding
from shared.messages.wording import shorten

MAX_REASON_CHARS = 300  # a reason quotes policy names, which the tenant's admins choose
_WHO = {ENFORCED_ALL_USERS: "all users", ENFORCED_ADMINS: "admins"}
GRANT = (
    f"grant the app's identity the Microsoft Graph application permission "
    f"{ENFORCEMENT_PERMISSION} (infra/grant-reports-read-all.sh --enforcement, see the README's "
    "'Grant the Graph permission'), or set CHECK_ENFORCEMENT=false"
)


def is_enforcement(state: AlertState) -> bool:
    return state.name in ENFORCEMENT_STATES


def enforcement_facts(status: EnforcementStatus | None) -> list[str]:
    """The enforcement line of a card or digest; none when enforcement is not read."""
    if status is None:
        return []
    if status.all_users is None or status.admins is None:
        return [f"MFA enforcement: unknown ({shorten(status.unknown, MAX_REASON_CHARS)})."]
    parts = [_fact(status.all_users, "all users"), _fact(status.admins, "admins")]
    return ["MFA enforcement: " + "; ".join(parts) + "."]


def _fact(finding: Finding, who: str) -> str:
    if not finding.enforced:
        return f"**not enforced for {who}** ({shorten(finding.reason, MAX_REASON_CHARS)})"
    by = f"'{shorten(finding.policy, 100)}'" if finding.policy else "a policy"
    if finding.policy == "Security defaults":
        by = "security defaults"
    excluded = finding.excluded.describe()
    return f"enforced for {who} by {by}" + (f", which excludes {excluded}" if excluded else "")


def enforcement_title(event: Event, status: EnforcementStatus | None) -> str:
    name = event.state.name
    if event.notice is Notice.CLOSED:
        return "No longer checked: MFA enforcement (CHECK_ENFORCEMENT is off)"
    if name == ENFORCEMENT_UNKNOWN:
        if event.notice is Notice.RESOLVED:
            return "Resolved: MFA enforcement is read again"
        if status is not None and status.permission_missing:
            return f"MFA enforcement unknown: the app lacks {ENFORCEMENT_PERMISSION}"
        return "MFA enforcement unknown: reading the policies fails"
    who = _WHO[name]
    if event.notice is Notice.RESOLVED:
        return f"Resolved: MFA is enforced for {who}"
    return f"MFA is not enforced for {who}"


def enforcement_line(event: Event, firing_for: str, status: EnforcementStatus | None) -> str:
    name = event.state.name
    if event.notice is Notice.CLOSED:
        return (
            f"CLOSED: MFA enforcement was alerting for {firing_for} and is no longer checked: "
            f"{event.reason}. Its alert is cleared."
        )
    if name == ENFORCEMENT_UNKNOWN:
        return _unknown_line(event, firing_for, status)
    who = _WHO[name]
    reason = shorten(event.state.detail, MAX_REASON_CHARS)
    if event.notice is Notice.RESOLVED:
        finding = None if status is None else getattr(status, _FIELD[name])
        now = shorten(finding.reason, MAX_REASON_CHARS) if finding else "enforced"
        return f"RESOLVED: MFA is enforced for **{who}** ({now}), after {firing_for}."
    still = "STILL " if event.notice is Notice.REMINDER else ""
    lasting = f" for {firing_for}" if still else ""
    return f"{still}FIRING: MFA is not enforced for **{who}**{lasting}: {reason}."


_FIELD = {ENFORCED_ALL_USERS: "all_users", ENFORCED_ADMINS: "admins"}


def _unknown_line(event: Event, firing_for: str, status: EnforcementStatus | None) -> str:
    if event.notice is Notice.RESOLVED:
        return (
            f"RESOLVED: the policies are read again and MFA enforcement is checked, after "
            f"{firing_for}."
        )
    still = "STILL " if event.notice is Notice.REMINDER else ""
    lasting = f" (for {firing_for})" if still else ""
    if status is not None and status.permission_missing:
        why = (
            "Graph refused the security defaults and Conditional Access policies: the app's "
            f"identity lacks the application permission {ENFORCEMENT_PERMISSION}. To check "
            f"enforcement, {GRANT}"
        )
    else:
        why = f"{shorten(event.state.detail, MAX_REASON_CHARS)}. The next fetch tries again"
    return (
        f"{still}NOT KNOWN{lasting}: whether MFA is enforced. {why}. Registration coverage is "
        "still checked."
    )


def digest_label(state: AlertState) -> str:
    if state.name == ENFORCEMENT_UNKNOWN:
        return "**MFA enforcement** (unknown)"
    return f"**MFA enforcement for {_WHO[state.name]}**"


def digest_firing_line(state: AlertState, when: str) -> str:
    if state.name == ENFORCEMENT_UNKNOWN:
        return f"NOT KNOWN: whether MFA is enforced, {when}: {shorten(state.detail, 200)}."
    return f"NOT ENFORCED: MFA for **{_WHO[state.name]}**, {when}."


def digest_title(firing: list[AlertState]) -> str:
    """The digest's title when only enforcement alerts fire."""
    who = [_WHO[s.name] for s in firing if s.name in _WHO]
    if who:
        return f"MFA is not enforced for {' and '.join(sorted(who, reverse=True))}"
    return "MFA enforcement is unknown"
