"""Read what the tenant enforces, for the snapshot a fetch stores (CHECK_ENFORCEMENT=true).

Gather (security defaults, Conditional Access: `app.policies_for(tenant)`, the tenant's own with
TENANTS) → decide (pure,
`shared.core.enforcement.decide_enforcement`) → the status the snapshot keeps. Reading
enforcement never fails the fetch: registration coverage is checked whatever happens here. A
refusal for want of Policy.Read.All, or any other failure of the read, is logged as an error
and recorded in the status as "unknown", which the check announces as an alert of its own
(once, then reminders, resolved once the read works).
"""

from __future__ import annotations

import logging

from shared.bootstrap import App
from shared.core.enforcement import decide_enforcement
from shared.core.enforcement_status import ENFORCEMENT_PERMISSION, EnforcementStatus
from shared.errors import CredentialError, GraphError, ReportFormatError
from shared.sources.policies import is_permission_missing

log = logging.getLogger(__name__)

GRANT_HINT = (
    f"grant the app's identity the Microsoft Graph application permission "
    f"{ENFORCEMENT_PERMISSION} (infra/grant-reports-read-all.sh --enforcement), or set "
    "CHECK_ENFORCEMENT=false"
)


def read_enforcement(app: App, tenant_id: str | None = None) -> EnforcementStatus | None:
    """The enforcement status for this fetch's snapshot (of `tenant_id`, with TENANTS); None
    when CHECK_ENFORCEMENT is off (then nothing is read)."""
    if not app.settings.check_enforcement:
        return None
    try:
        policies = app.policies_for(tenant_id) if tenant_id else app.policies
        read = policies.get_conditional_access()
    except GraphError as exc:
        if is_permission_missing(exc):
            log.error(
                "MFA enforcement is unknown: Graph refused to show the policies (%s): %s",
                exc,
                GRANT_HINT,
            )
            why = f"permission missing: {ENFORCEMENT_PERMISSION}"
            return EnforcementStatus.unknown_because(why, permission_missing=True)
        return _unknown(exc)
    except (CredentialError, ReportFormatError) as exc:
        return _unknown(exc)
    decided = decide_enforcement(
        read.policies,
        security_defaults=read.security_defaults,
        max_exclusions=app.settings.enforcement_max_exclusions,
    )
    status = EnforcementStatus.known(decided)
    for who, finding in (("all users", status.all_users), ("admins", status.admins)):
        assert finding is not None
        log.info(
            "MFA %s for %s: %s",
            "enforced" if finding.enforced else "NOT enforced",
            who,
            finding.reason,
        )
    return status


def _unknown(exc: Exception) -> EnforcementStatus:
    # ReportFormatError's own text speaks of the report; here it is a policy's field.
    shown = f"{exc.field}: {exc.problem}" if isinstance(exc, ReportFormatError) else str(exc)
    error = f"{type(exc).__name__}: {shown}"
    log.error("MFA enforcement is unknown: reading the policies failed: %s", error)
    return EnforcementStatus.unknown_because(
        f"reading the policies failed: {error}"[:1000], permission_missing=False
    )
