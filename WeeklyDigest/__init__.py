"""WeeklyDigest: on DIGEST_SCHEDULE, post one summary card of the week, even if nothing changed.

The host retries a failed run (function.json `retry`); the occurrence the timer names keys the
digest, so a retry or a second instance posts it at most once. The retry context says which try
is the last: that one says a storage failure or invalid settings in Teams.
"""

from __future__ import annotations

import azure.functions as func

from shared.bootstrap import get_app
from shared.redaction import scrub_errors
from shared.usecases.digest import occurrence_of, send_digest
from shared.usecases.failures import told_in_teams
from shared.usecases.fetching import Attempt


@scrub_errors
def main(timer: func.TimerRequest, context: func.Context) -> None:
    with told_in_teams("WeeklyDigest", Attempt.from_retry_context(context.retry_context)):
        # azure-functions 1.x (Python 3.11, 3.12) has no schedule_status on its TimerRequest.
        send_digest(get_app(), occurrence_of(getattr(timer, "schedule_status", None)))
