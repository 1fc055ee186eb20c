"""A snapshot's enforcement status as Table Storage columns, and back (stores/snapshots.py).

EnforcementChecked              true when the fetch read enforcement (absent: not read)
EnforcementUnknown              why it is unknown ("" when known)
EnforcementPermissionMissing    true when Graph refused for want of Policy.Read.All
Enforced<Who>                   Who is AllUsers or Admins: the verdict
EnforcementPolicy<Who>          the enforcing (or nearest) policy's display name
EnforcementReason<Who>          the verdict's reason
EnforcementExcludedUsers<Who>   how many users the policy excludes (a count, never ids)
EnforcementExcludedGroups<Who>  how many groups (a count, never ids)
EnforcementExcludedGuests<Who>  whether guests and external users are excluded
EnforcementExcludedRoles<Who>   the excluded roles' names, a JSON list
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from shared.core.enforcement_status import EnforcementStatus, Excluded, Finding

_WHO = ("AllUsers", "Admins")


def enforcement_columns(status: EnforcementStatus | None) -> dict[str, Any]:
    if status is None:
        return {}
    columns: dict[str, Any] = {
        "EnforcementChecked": True,
        "EnforcementUnknown": status.unknown,
        "EnforcementPermissionMissing": status.permission_missing,
    }
    for who, finding in zip(_WHO, (status.all_users, status.admins), strict=True):
        if finding is None:
            continue
        excluded = finding.excluded
        columns |= {
            f"Enforced{who}": finding.enforced,
            f"EnforcementPolicy{who}": finding.policy or "",
            f"EnforcementReason{who}": finding.reason,
            f"EnforcementExcludedUsers{who}": excluded.users,
            f"EnforcementExcludedGroups{who}": excluded.groups,
            f"EnforcementExcludedGuests{who}": excluded.guests,
            f"EnforcementExcludedRoles{who}": json.dumps(list(excluded.roles)),
        }
    return columns


def enforcement_from(entity: Mapping[str, Any]) -> EnforcementStatus | None:
    """The status a row holds; None for a row of a fetch that did not read enforcement."""
    if not entity.get("EnforcementChecked"):
        return None
    all_users, admins = (_finding(entity, who) for who in _WHO)
    return EnforcementStatus(
        all_users=all_users,
        admins=admins,
        unknown=str(entity.get("EnforcementUnknown") or ""),
        permission_missing=bool(entity.get("EnforcementPermissionMissing")),
    )


def _finding(entity: Mapping[str, Any], who: str) -> Finding | None:
    if f"Enforced{who}" not in entity:
        return None
    roles = json.loads(entity.get(f"EnforcementExcludedRoles{who}") or "[]")
    return Finding(
        enforced=bool(entity[f"Enforced{who}"]),
        policy=entity.get(f"EnforcementPolicy{who}") or None,
        reason=str(entity.get(f"EnforcementReason{who}") or ""),
        excluded=Excluded(
            users=int(entity.get(f"EnforcementExcludedUsers{who}") or 0),
            groups=int(entity.get(f"EnforcementExcludedGroups{who}") or 0),
            roles=tuple(str(role) for role in roles),
            guests=bool(entity.get(f"EnforcementExcludedGuests{who}")),
        ),
    )
