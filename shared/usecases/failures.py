"""Failures before or after Graph, said in Teams whenever Teams can be reached.

A storage account that refuses (StorageError) and settings that are invalid (ConfigurationError)
used to be visible only to the outer watch. The entry points run their use case inside
`told_in_teams`: on the run's last try (the host's retries and the queue's redeliveries would
otherwise each say it again), one card says what failed and what to fix, then the error is
raised as before, so the host still records the failure. Settings that are invalid are said
only if TEAMS_WEBHOOK_URL itself is valid; a card that cannot be posted is logged.

Each failure is said by one path, so none is said twice:

    ConfigurationError      here: fix the settings
    SnapshotNotFoundError   here: the queued snapshot is not stored (storage works: no
                            advice about its role)
    StateConflictError      here: other runs kept writing the record (storage works too)
    StorageError            here: fix Table Storage (reachable, Storage Table Data Contributor)
    CredentialError,        the fetch's own "fetching fails" card and fetch-health state
    GraphError,             (shared/usecases/fetching.py); elsewhere (admin names, enforcement)
    ReportFormatError       they are caught and said in the coverage card: not said here again
    MessageFormatError      here: a queue message this app cannot read (its poison queue)
    ClaimHeldError          here: a check that gave up waiting for another's claim
                            (CheckInProgressError), or the digest's claim held by a run that
                            may have died (fetch health catches its own)
    NotificationError       nowhere: Teams refused the card, so no card can carry it (logged;
                            the outer watch sees the failed run)

Anything not listed is raised as it is; a new failure is given its path here, on purpose.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from shared.bootstrap import get_app, utc_now
from shared.errors import (
    ClaimHeldError,
    ConfigurationError,
    MessageFormatError,
    MonitorError,
    SnapshotNotFoundError,
    StateConflictError,
    StorageError,
)
from shared.hosting import settings_notifier
from shared.messages.health import failure_message
from shared.usecases.fetching import Attempt

log = logging.getLogger(__name__)

_SETTINGS = "its settings are invalid"
_STORAGE = "Table Storage fails"
_FIX_SETTINGS = (
    "Fix the settings: the function app's Settings > Environment variables (or "
    "infra/main.bicep's parameters); the run fails until then."
)
_NOT_STORED = "the snapshot to check is not stored"
_FIX_NOT_STORED = (
    "The queue named a snapshot that Table Storage does not hold (the message is not a "
    "snapshot key, or the row was deleted, or SNAPSHOT_TABLE changed since it was queued): "
    "nothing was checked for it, and the message rests in {queue}-poison. The next fetch's "
    "snapshot is checked as usual; if this repeats, check that SNAPSHOT_TABLE names the table "
    "FetchReport writes to."
)
_CONFLICT = "the stored state kept changing"
_FIX_CONFLICT = (
    "Other runs kept writing the same record (the alert states or the fetch health) while this "
    "one decided, and it gave up after reading it again several times; storage itself works. "
    "The next run decides again on what they wrote; if this repeats, check that only one "
    "function app writes to ALERT_TABLE."
)
_MALFORMED = "a queue message is malformed"
_FIX_MALFORMED = (
    "A message on {queue} is not one this app writes, so nothing was fetched for it; it rests "
    "in {queue}-poison. Remove it there. If this app wrote it (a version mismatch after a "
    "deployment), the next scheduled fetch starts afresh."
)
_HELD = "another run kept holding the claim to post"
_FIX_HELD = (
    "Another check was posting this tenant's card and did not finish while this one waited "
    "through its retries: this snapshot's card was not posted, and the message rests in "
    "{queue}-poison. The next snapshot's check posts what changed; if this repeats, look for a "
    "check that hangs while posting (the Teams webhook's answers, in the logs)."
)
_FIX_HELD_TIMER = (
    "Another run claimed this notice and has not recorded it as posted (it may have died "
    "while posting): if the notice is not in Teams, run {function} again once the claim "
    "lapses (the error above says when)."
)
_FIX_STORAGE = (
    "Fix Table Storage: check that the storage account is reachable and that the app's "
    "identity holds Storage Table Data Contributor on it; the run fails until then."
)


@contextmanager
def told_in_teams(
    function: str,
    attempt: Attempt,
    environ: Mapping[str, str] | None = None,
    *,
    queue: str | None = None,
) -> Iterator[None]:
    """Run the block; a failure of those listed in the module's doc, on the last try, is posted
    once. `queue`: the queue that triggers `function`, named in the card (its poison queue)."""
    try:
        yield
    except ConfigurationError as exc:
        if attempt.final:
            _tell_settings(function, exc, environ or os.environ)
        raise
    except SnapshotNotFoundError as exc:  # a StorageError, but storage works: not its advice
        if attempt.final:
            _tell(function, exc, _NOT_STORED, _FIX_NOT_STORED.format(queue=queue or "the queue"))
        raise
    except StateConflictError as exc:  # the same
        if attempt.final:
            _tell(function, exc, _CONFLICT, _FIX_CONFLICT)
        raise
    except StorageError as exc:
        if attempt.final:
            _tell(function, exc, _STORAGE, _FIX_STORAGE)
        raise
    except MessageFormatError as exc:
        if attempt.final:
            _tell(function, exc, _MALFORMED, _FIX_MALFORMED.format(queue=exc.queue))
        raise
    except ClaimHeldError as exc:
        if attempt.final:
            fix = (
                _FIX_HELD.format(queue=queue)
                if queue
                else _FIX_HELD_TIMER.format(function=function)
            )
            _tell(function, exc, _HELD, fix)
        raise


def _tell_settings(function: str, exc: ConfigurationError, environ: Mapping[str, str]) -> None:
    # No App without valid settings: a notifier of the webhook alone, if that one is valid.
    message = failure_message(function, _SETTINGS, str(exc), _FIX_SETTINGS, utc_now())
    try:
        with settings_notifier(environ) as notifier:
            if notifier is None:
                log.error("the settings are invalid, and no valid TEAMS_WEBHOOK_URL can say so")
                return
            notifier.post_message(message)
    except MonitorError as post_error:
        log.error("could not say in Teams that %s fails: %s", function, post_error)


def _tell(function: str, exc: MonitorError, what: str, fix: str) -> None:
    app = get_app()  # built already: storage is reached only with valid settings
    message = failure_message(function, what, str(exc), fix, app.clock())
    try:
        app.notifier.post_message(message)
    except MonitorError as post_error:
        log.error("could not say in Teams that %s fails: %s", function, post_error)
