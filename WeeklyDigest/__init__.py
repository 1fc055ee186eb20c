"""WeeklyDigest: on DIGEST_SCHEDULE, post one summary card of the week, even if nothing changed.

The host retries a failed run (function.json `retry`); the occurrence the timer names keys the
digest, so a retry or a second instance posts it at most once.
"""

from __future__ import annotations

import azure.functions as func

from shared.bootstrap import get_app
from shared.redaction import scrub_errors
from shared.usecases.digest import occurrence_of, send_digest


@scrub_errors
def main(timer: func.TimerRequest) -> None:
    # azure-functions 1.x (Python 3.11, 3.12) has no schedule_status on its TimerRequest.
    send_digest(get_app(), occurrence_of(getattr(timer, "schedule_status", None)))
