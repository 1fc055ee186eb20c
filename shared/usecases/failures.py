"""Failures before or after Graph, said in Teams whenever Teams can be reached.

A storage account that refuses (StorageError) and settings that are invalid (ConfigurationError)
used to be visible only to the outer watch. The entry points run their use case inside
`told_in_teams`: on the run's last try (the host's retries and the queue's redeliveries would
otherwise each say it again), one card says what failed and what to fix, then the error is
raised as before, so the host still records the failure. Settings that are invalid are said
only if TEAMS_WEBHOOK_URL itself is valid; a card that cannot be posted is logged.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from shared.bootstrap import get_app, utc_now
from shared.errors import ConfigurationError, MonitorError, StorageError
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
_FIX_STORAGE = (
    "Fix Table Storage: check that the storage account is reachable and that the app's "
    "identity holds Storage Table Data Contributor on it; the run fails until then."
)


@contextmanager
def told_in_teams(
    function: str, attempt: Attempt, environ: Mapping[str, str] | None = None
) -> Iterator[None]:
    """Run the block; a StorageError or ConfigurationError on the last try is posted once."""
    try:
        yield
    except ConfigurationError as exc:
        if attempt.final:
            _tell_settings(function, exc, environ or os.environ)
        raise
    except StorageError as exc:
        if attempt.final:
            _tell_storage(function, exc)
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


def _tell_storage(function: str, exc: StorageError) -> None:
    app = get_app()  # built already: storage is reached only with valid settings
    message = failure_message(function, _STORAGE, str(exc), _FIX_STORAGE, app.clock())
    try:
        app.notifier.post_message(message)
    except MonitorError as post_error:
        log.error("could not say in Teams that %s fails: %s", function, post_error)
