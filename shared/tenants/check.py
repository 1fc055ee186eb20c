"""Onboarding check: for each tenant in TENANTS, is the app's consent there, and does the report
answer? Run with the app's settings (in the function app's SSH console, or locally with the
identity's environment):

    python -m shared.tenants.check            (scripts/check-tenants)

One line per tenant, `ok`, or what is missing and what to do: no consent (the admin-consent
URL to send that tenant's admin), a federated credential that does not match, or Graph's refusal
(a permission not granted, no Entra ID P1/P2 licence). Exit status 1 if any tenant is not ok.
Nothing is stored and no card is posted (under REPORT_SOURCE=auto, a beta report found gone is
said once, as a run would say it).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from typing import TextIO

from shared.bootstrap import App
from shared.errors import ConfigurationError, CredentialError, GraphError, ReportFormatError
from shared.settings import Settings
from shared.sources import Checkpoint


def check_tenant(app: App, tenant_id: str) -> str:
    """`ok: …`, or what failed for `tenant_id` (the error names the tenant and the fix)."""
    try:
        result = app.source_for(tenant_id).fetch(None, deadline=app.clock() + app.fetch_budget)
    except CredentialError as exc:
        return f"NO TOKEN: {exc}"
    except (GraphError, ReportFormatError) as exc:
        return f"NO REPORT: token ok, but Graph refused the report: {exc}"
    if isinstance(result, Checkpoint):  # a v1.0 pass too long for one go: it answers, though
        return "ok: a token, and the report answers (a long v1.0 pass, not completed here)"
    return f"ok: a token, and the report answers ({result.report.total_users:,} users)"


def main(
    argv: Sequence[str] | None = None,
    environ: Mapping[str, str] | None = None,
    out: TextIO = sys.stdout,
) -> int:
    env = os.environ if environ is None else environ
    try:
        settings = Settings.from_env(env)
    except ConfigurationError as exc:
        print(f"invalid settings: {exc}", file=out)
        return 2
    if not settings.tenants:
        print("TENANTS is not set: there is no customer tenant to check", file=out)
        return 2
    app = App(settings, environ=env)
    failed = 0
    try:
        for tenant in settings.tenants:
            line = check_tenant(app, tenant)
            failed += not line.startswith("ok")
            print(f"{tenant}: {line}", file=out)
    finally:
        app.close()
    print(f"{len(settings.tenants) - failed} of {len(settings.tenants)} tenants ok", file=out)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
