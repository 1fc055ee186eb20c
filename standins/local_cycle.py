"""One full local cycle on embedded defaults: fetch → store → check → alert.

Starts Azurite (in memory), a Graph stand-in serving a realistic report and a managed-identity
stand-in, all on 127.0.0.1; then runs FetchReport and CheckThresholds through Microsoft's
Python worker, as the Functions host would (a retry the host would make minutes later is made
at once, and logged). With no TEAMS_WEBHOOK_URL the alert is printed;
set one (and THRESHOLDS, ALERT_REPEAT_HOURS, ...) in the environment to try your own.

    python -m standins.local_cycle
"""

from __future__ import annotations

import logging
import os
import sys

from shared.bootstrap import use_app
from shared.errors import MonitorError
from standins.azurite import Azurite, AzuriteNotInstalled
from standins.functions_host import FunctionLoadError, FunctionsHost, InvocationFailed
from standins.graph import DetailsService, GraphStandIn, RateLimit
from standins.managed_identity import ManagedIdentityStandIn
from standins.registration_details import SyntheticTenant

# Both reports are served: the beta one (a realistic body) and, for REPORT_SOURCE=v1, a
# synthetic tenant's userRegistrationDetails, paged and throttled like Graph (5 per 10 s).
LOCAL_TENANT = DetailsService(
    SyntheticTenant(users=1_250), max_page_size=500, rate_limit=RateLimit()
)

log = logging.getLogger("local-cycle")


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)-7s %(name)s: %(message)s")
    for noisy in ("azure", "httpx", "httpcore", "msal"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        with (
            Azurite() as azurite,
            ManagedIdentityStandIn() as identity,
            GraphStandIn(details=LOCAL_TENANT) as graph,
        ):
            os.environ.update(identity.environ)  # azure-identity reads these from os.environ
            os.environ.update(
                AzureWebJobsStorage=azurite.connection_string,
                GRAPH_ENDPOINT=graph.url,
                FETCH_SCHEDULE=os.environ.get("FETCH_SCHEDULE", "0 0 6 * * *"),
            )
            use_app(None)  # build the app from these settings, as in Azure
            log.info(
                "Azurite on 127.0.0.1:%d; Graph and managed identity on loopback", azurite.port
            )
            cycle = FunctionsHost(os.environ, sleep=_retry_now).run_timer("FetchReport")
            failed = [d for d in cycle.deliveries if d.poisoned]
            for delivery in failed:
                log.error(
                    "CheckThresholds failed %d times: %s", delivery.attempts, delivery.errors[-1]
                )
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
    except (MonitorError, AzuriteNotInstalled, FunctionLoadError, InvocationFailed) as exc:
        log.error("%s", exc)
        return 1


def _retry_now(seconds: float) -> None:
    """The host's delay before a retry, not waited here: a local run should end promptly."""
    log.warning("the Functions host would retry in %.0f s; retrying now", seconds)


if __name__ == "__main__":
    sys.exit(main())
