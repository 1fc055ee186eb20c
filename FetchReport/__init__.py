"""FetchReport: on FETCH_SCHEDULE, fetch Graph's registration report and store a snapshot.

The snapshot's key goes to the `snapshots-to-check` queue, which triggers CheckThresholds. The
host retries a failed run (function.json `retry`); the retry context says which try this is,
so that only the last one announces a failure in Teams.
"""

from __future__ import annotations

import logging

import azure.functions as func

from shared.bootstrap import get_app
from shared.fetching import Attempt, fetch_and_store


def main(timer: func.TimerRequest, check: func.Out[str], context: func.Context) -> None:
    if timer.past_due:
        logging.getLogger(__name__).info("FetchReport is running late (past due)")
    attempt = Attempt.from_retry_context(context.retry_context)
    check.set(fetch_and_store(get_app(), attempt))
