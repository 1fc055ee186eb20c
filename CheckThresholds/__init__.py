"""CheckThresholds: judge the snapshot FetchReport queued, and tell Teams what changed.

Retries come from the queue: a failed run is retried up to host.json's
`extensions.queues.maxDequeueCount` times, then the message moves to `snapshots-to-check-poison`;
the last try says a storage failure or invalid settings in Teams.
"""

from __future__ import annotations

import azure.functions as func

from shared.bootstrap import get_app
from shared.redaction import scrub_errors
from shared.usecases.checking import check_snapshot
from shared.usecases.failures import told_in_teams
from shared.usecases.fetching import Attempt


@scrub_errors
def main(msg: func.QueueMessage) -> None:
    attempt = Attempt.from_dequeue_count(msg.dequeue_count or 1)
    with told_in_teams("CheckThresholds", attempt, queue="snapshots-to-check"):
        check_snapshot(get_app(), msg.get_body().decode("utf-8"))
