"""The monitor's cycle on this machine: fetch → store → check → alert, once or over many days.

Starts Azurite (in memory), a Graph stand-in and a managed-identity stand-in, all on 127.0.0.1,
then runs FetchReport and CheckThresholds through Microsoft's Python worker, as the Functions
host would (a retry the host would make minutes later is made at once, and logged). With no
TEAMS_WEBHOOK_URL the cards are printed; your other settings (THRESHOLDS, ALERT_REPEAT_HOURS,
DROP_ALERT_POINTS, a webhook, ...) apply as they are, except the three the stand-ins replace.

    python -m standins.local_cycle              # one cycle on a realistic report
    python -m standins.local_cycle --days 14    # 14 daily runs on a scripted series
    python -m standins.local_cycle --tenants 5  # one cycle over 5 synthetic tenants, rolled up

With `--days N` the runs are N days apart on a clock of the cycle's own (the App's clock and
the host's sleep: nothing waits), ending today at 06:00 UTC, and the Graph stand-in serves a
scripted series (SERIES, repeated beyond 14 days): MFA coverage dips below 95% (firing), stays
(reminders), recovers (resolved), then SSPR capability drops sharply while still above its 90%
threshold (a drop notice; DROP_ALERT_POINTS is 5 unless you set it). Each run's card is
printed under its day; the replay ends with the weekly digest (unless DIGEST_SCHEDULE is empty).

With CHECK_ENFORCEMENT=true the Graph stand-in serves Conditional Access policies: Microsoft's
"Require MFA for all users" template in report-only mode (so "MFA is not enforced for all
users" fires, naming it) and the admins template, enabled (so admins are covered).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone

from shared.bootstrap import App, use_app
from shared.errors import MonitorError
from shared.settings import DEFAULT_DIGEST_SCHEDULE, Settings
from standins.azurite import Azurite, AzuriteNotInstalled
from standins.conditional_access import (
    ConditionalAccessService,
    require_mfa_admins,
    require_mfa_all_users_report_only,
)
from standins.functions_host import Cycle, FunctionLoadError, FunctionsHost, InvocationFailed
from standins.graph import DetailsService, GraphStandIn, RateLimit
from standins.local_tenants import run_tenants
from standins.managed_identity import ManagedIdentityStandIn
from standins.registration_details import SyntheticTenant
from standins.reports import report

# Both reports are served: the beta one (a realistic body) and, for REPORT_SOURCE=v1, a
# synthetic tenant's userRegistrationDetails, paged and throttled like Graph (5 per 10 s).
# The --days replay scripts the beta report only.
LOCAL_TENANT = DetailsService(
    SyntheticTenant(users=1_250), max_page_size=500, rate_limit=RateLimit()
)

log = logging.getLogger("local-cycle")

TOTAL_USERS = 1000
# (mfaRegistered, capable) of TOTAL_USERS, one pair a day, for the default THRESHOLDS
# (mfaRegistered=95%, capable=90%): ok, ok, below, below, below, back, ok, ok, ok, capable
# falls 6 points (still above 90%), then steady.
SERIES: tuple[tuple[int, int], ...] = (
    (970, 985),
    (966, 985),
    (941, 984),  # firing
    (938, 984),  # reminder (ALERT_REPEAT_HOURS=24)
    (944, 985),  # reminder
    (957, 985),  # resolved
    (962, 986),
    (965, 986),
    (967, 986),
    (968, 925),  # sharp drop of capable, above its threshold
    (969, 927),
    (969, 930),
    (970, 932),
    (971, 935),
)
DEFAULT_DROP_POINTS = "5"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/local-cycle", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--days", type=int, default=None, help="replay this many daily runs on a scripted series"
    )
    parser.add_argument(
        "--tenants", type=int, default=None, help="one cycle over this many synthetic tenants"
    )
    args = parser.parse_args(argv)
    if args.days is not None and args.days < 1:
        parser.error("--days must be at least 1")
    if args.tenants is not None and (args.tenants < 1 or args.days is not None):
        parser.error("--tenants must be at least 1, and goes without --days")
    logging.basicConfig(level=logging.INFO, format="%(levelname)-7s %(name)s: %(message)s")
    for noisy in ("azure", "httpx", "httpcore", "msal"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        with (
            Azurite() as azurite,
            ManagedIdentityStandIn() as identity,
            GraphStandIn(details=LOCAL_TENANT) as graph,
        ):
            log.info(
                "overriding GRAPH_ENDPOINT (the Graph stand-in on %s serves the report), "
                "AzureWebJobsStorage (an in-memory Azurite on 127.0.0.1:%d, so no real account "
                "is touched) and IDENTITY_ENDPOINT/IDENTITY_HEADER (the managed-identity "
                "stand-in issues the stand-in Graph's tokens); your other settings apply",
                graph.url,
                azurite.port,
            )
            # Report-only for all users, enforced for admins: CHECK_ENFORCEMENT=true shows an alert.
            graph.conditional_access = ConditionalAccessService(
                policies=[require_mfa_all_users_report_only(), require_mfa_admins()]
            )
            os.environ.update(identity.environ)  # azure-identity reads these from os.environ
            os.environ.update(
                AzureWebJobsStorage=azurite.connection_string,
                GRAPH_ENDPOINT=graph.url,
                FETCH_SCHEDULE=os.environ.get("FETCH_SCHEDULE", "0 0 6 * * *"),
                # The host needs the setting to exist to index WeeklyDigest.
                DIGEST_SCHEDULE=os.environ.get("DIGEST_SCHEDULE", DEFAULT_DIGEST_SCHEDULE),
            )
            if args.tenants is not None:
                return 0 if run_tenants(args.tenants, identity, graph, host_sleep=_retry_now) else 1
            if args.days is None:
                return _one_cycle(identity, graph)
            return _replay(args.days, graph)
    except (MonitorError, AzuriteNotInstalled, FunctionLoadError, InvocationFailed) as exc:
        log.error("%s", exc)
        return 1


def _one_cycle(identity: ManagedIdentityStandIn, graph: GraphStandIn) -> int:
    use_app(None)  # build the app from these settings, as in Azure
    cycle = FunctionsHost(os.environ, sleep=_retry_now).run_timer("FetchReport")
    failed = _report_failures(cycle)
    log.info(
        "cycle done: %d token(s) issued, %d Graph request(s), snapshot %s checked%s",
        len(identity.tokens_issued),
        len(graph.requests),
        cycle.outputs["check"],
        ""
        if os.environ.get("TEAMS_WEBHOOK_URL")
        else " (no TEAMS_WEBHOOK_URL: alerts are logged above)",
    )
    return 1 if failed else 0


class ReplayClock:
    """The replay's time: moved a day per run; the host's and the clients' sleeps move it too,
    instead of waiting."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        log.info("(the host would wait %.0f s here; the replay's clock moves on instead)", seconds)
        self.now += timedelta(seconds=seconds)


def _replay(days: int, graph: GraphStandIn) -> int:
    if "DROP_ALERT_POINTS" not in os.environ:
        log.info("DROP_ALERT_POINTS=%s for the replay (set it to choose)", DEFAULT_DROP_POINTS)
        os.environ["DROP_ALERT_POINTS"] = DEFAULT_DROP_POINTS
    today = datetime.now(timezone.utc).replace(hour=6, minute=0, second=0, microsecond=0)
    clock = ReplayClock(today - timedelta(days=days - 1))
    app = App(Settings.from_env(os.environ), clock=clock, sleep=clock.sleep)
    use_app(app)
    # Only the cards (and problems) under each day: the per-metric lines would bury them.
    for chatty in (
        "shared.usecases.fetching",
        "shared.usecases.checking",
        "shared.usecases.digest",
        "shared.sources",
    ):
        logging.getLogger(chatty).setLevel(logging.WARNING)
    host = FunctionsHost(os.environ, sleep=clock.sleep, now=clock)
    failed = False
    try:
        for day in range(days):
            mfa, capable = SERIES[day % len(SERIES)]
            counts = {"mfaRegistered": mfa, "capable": capable, "registered": 990, "enabled": 995}
            graph.report_body = json.dumps(report(TOTAL_USERS, counts)).encode()
            log.info(
                "── day %d of %d, %s: MFA %.1f%%, SSPR capable %.1f%% ──",
                day + 1,
                days,
                f"{clock.now:%a %Y-%m-%d %H:%M} UTC",
                mfa / TOTAL_USERS * 100,
                capable / TOTAL_USERS * 100,
            )
            failed |= _report_failures(host.run_timer("FetchReport"))
            clock.now += timedelta(days=1) if day < days - 1 else timedelta(hours=2)
        if app.settings.digest_schedule is not None:
            log.info("── the weekly digest, %s UTC ──", f"{clock.now:%a %Y-%m-%d %H:%M}")
            host.run_timer("WeeklyDigest")
    finally:
        app.close()
    log.info(
        "replay done: %d days%s",
        days,
        ""
        if os.environ.get("TEAMS_WEBHOOK_URL")
        else " (no TEAMS_WEBHOOK_URL: cards printed above)",
    )
    return 1 if failed else 0


def _report_failures(cycle: Cycle) -> bool:
    failed = [d for d in cycle.deliveries if d.poisoned]
    for delivery in failed:
        log.error("CheckThresholds failed %d times: %s", delivery.attempts, delivery.errors[-1])
    return bool(failed)


def _retry_now(seconds: float) -> None:
    """The host's delay before a retry, not waited here: a local run should end promptly."""
    log.warning("the Functions host would retry in %.0f s; retrying now", seconds)


if __name__ == "__main__":
    sys.exit(main())
