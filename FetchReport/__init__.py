"""FetchReport: on FETCH_SCHEDULE, fetch the registration report and store a snapshot.

The snapshot's key goes to the `snapshots-to-check` queue, which triggers CheckThresholds; a
v1.0 pass too long for one invocation goes on in ContinueFetch (`fetch-continuations`). With
TENANTS it fetches nothing itself: one message per tenant goes to `tenants-to-fetch`
(FetchTenant). The host retries a failed run (function.json `retry`); the retry context says
which try this is, so that only the last one announces a failure in Teams (Graph's, storage's or
the settings')."""

from __future__ import annotations

import logging
from typing import List  # noqa: UP035 - the worker checks the annotation's typing form

import azure.functions as func

from shared.bootstrap import get_app
from shared.redaction import scrub_errors
from shared.usecases.failures import told_in_teams
from shared.usecases.fetching import Attempt, fetch_and_store


@scrub_errors
def main(
    timer: func.TimerRequest,
    check: func.Out[str],
    more: func.Out[str],
    tenants: func.Out[List[str]],  # noqa: UP006
    context: func.Context,
) -> None:
    if timer.past_due:
        logging.getLogger(__name__).info("FetchReport is running late (past due)")
    attempt = Attempt.from_retry_context(context.retry_context)
    with told_in_teams("FetchReport", attempt):
        outcome = fetch_and_store(get_app(), attempt)
    if outcome.check is not None:
        check.set(outcome.check)
    if outcome.continuation is not None:
        more.set(outcome.continuation)
    if outcome.tenants is not None:
        tenants.set(outcome.tenants)
