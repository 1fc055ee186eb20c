"""ContinueFetch: go on with a v1.0 userRegistrationDetails pass FetchReport had to stop.

The message carries the pass's checkpoint (the next page's link and the counters so far). When
the pass completes, the snapshot is stored and its key queued for CheckThresholds; otherwise
the next checkpoint is queued here again. Retries come from the queue (host.json's
maxDequeueCount), so the message's DequeueCount says which try is the last.
"""

from __future__ import annotations

import azure.functions as func

from shared.bootstrap import get_app
from shared.redaction import scrub_errors
from shared.usecases.failures import told_in_teams
from shared.usecases.fetching import Attempt, continue_fetch


@scrub_errors
def main(msg: func.QueueMessage, check: func.Out[str], more: func.Out[str]) -> None:
    attempt = Attempt.from_dequeue_count(msg.dequeue_count or 1)
    with told_in_teams("ContinueFetch", attempt, queue="fetch-continuations"):
        outcome = continue_fetch(get_app(), msg.get_body().decode("utf-8"), attempt)
    if outcome.check is not None:
        check.set(outcome.check)
    if outcome.continuation is not None:
        more.set(outcome.continuation)
