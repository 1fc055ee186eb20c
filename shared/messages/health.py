"""The messages about the monitor itself: fetching fails or works again; the source switched (pure).

A failing fetch's message quotes the error's start (the rest is in the logs) and its button
leads to the function app in Azure; once fetching works again it says for how long it failed.
"""

from __future__ import annotations

from datetime import datetime

from shared.core.alerting import Event, Notice
from shared.messages.model import Message
from shared.messages.wording import duration, shorten

MAX_ERROR_CHARS = 600  # the error's start says what failed; the rest is in the logs


def fetch_health_message(event: Event, now: datetime) -> Message:
    started = event.started
    since = f"{started:%Y-%m-%d %H:%M} UTC" if started else "an unknown time"
    lasted = duration(now - started) if started else "an unknown time"
    # Quoted as recorded: whoever sends the message scrubs secrets from it (shared/notify).
    error = shorten(event.state.detail, MAX_ERROR_CHARS)
    if event.notice is Notice.RESOLVED:
        return Message(
            title="Entra registration monitor: fetching the report works again",
            severity="good",
            lines=[
                f"Fetching works again as of {now:%Y-%m-%d %H:%M} UTC, after failing since "
                f"{since} ({lasted}).",
                f"The last error was: {error}",
            ],
            about="fetch",
        )
    still = "still " if event.notice is Notice.REMINDER else ""
    return Message(
        title=f"Entra registration monitor: fetching the report {still}fails",
        severity="attention",
        lines=[
            f"Fetching has failed since {since} ({lasted}); coverage is not being checked.",
            f"Last error: {error}",
        ],
        about="fetch",
    )


def source_switch_message(reason: str, now: datetime) -> Message:
    """REPORT_SOURCE=auto found the beta report gone and reads v1.0 from now on (said once)."""
    return Message(
        title="Entra registration monitor: now reading v1.0 userRegistrationDetails",
        severity="warning",
        lines=[
            f"As of {now:%Y-%m-%d %H:%M} UTC the beta report is gone: "
            f"{shorten(reason, MAX_ERROR_CHARS)}",
            "Coverage is counted from v1.0 userRegistrationDetails from now on. It needs the "
            "application permission **AuditLog.Read.All** for the app's identity "
            "(infra/grant-reports-read-all.sh grants it); without it, the next card says "
            "fetching fails.",
        ],
        about="fetch",
    )


def failure_message(function: str, what: str, problem: str, fix: str, now: datetime) -> Message:
    """A run that failed before or after Graph (storage, settings): what failed, what to fix."""
    return Message(
        title=f"Entra registration monitor: {function} fails: {what}",
        severity="attention",
        lines=[
            f"{function} failed at {now:%Y-%m-%d %H:%M} UTC; coverage is not being checked.",
            f"What failed: {shorten(problem, MAX_ERROR_CHARS)}",
            fix,
        ],
        about="fetch",
    )
