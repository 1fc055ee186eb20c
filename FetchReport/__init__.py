"""FetchReport: on FETCH_SCHEDULE, fetch Graph's registration report and store a snapshot.

The snapshot's key goes to the `snapshots-to-check` queue, which triggers CheckThresholds.
"""

from __future__ import annotations

import logging

import azure.functions as func

from shared.bootstrap import get_app
from shared.fetching import fetch_and_store


def main(timer: func.TimerRequest, check: func.Out[str]) -> None:
    if timer.past_due:
        logging.getLogger(__name__).info("FetchReport is running late (past due)")
    check.set(fetch_and_store(get_app()))
