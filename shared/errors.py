"""The app's exceptions: one tree, so callers can catch as broadly or narrowly as they need.

    MonitorError                   anything this app raises on purpose
    ├── ConfigurationError         settings missing or invalid (names every one)
    ├── CredentialError            no token from the managed identity (or developer login)
    ├── GraphError                 Graph answered with an error, or could not be reached
    ├── ReportFormatError          Graph's answer is not a report we can trust (names the field)
    ├── MessageFormatError         a queue message is not one this app writes (names the queue)
    ├── StorageError               Table Storage failed or could not be reached
    │   ├── SnapshotNotFoundError  the queue named a snapshot that is not stored
    │   └── StateConflictError     another run wrote the record first (re-read, re-decide)
    ├── SecretError                a Key Vault secret could not be read (names the secret)
    ├── ClaimHeldError             another run holds the claim to post this notice (wait)
    │   └── CheckInProgressError   another check is posting its card for the tenant
    └── NotificationError          the Teams webhook refused the card, or could not be reached

Messages are written for the admin reading the function's log: they say what failed and what
to do, and never carry a secret (token, identity header, webhook signature, account key).
"""

from __future__ import annotations


class MonitorError(Exception):
    """Base of every error this app raises on purpose."""


class ConfigurationError(MonitorError):
    """One or more settings are missing or invalid; `problems` lists each one."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("invalid settings: " + "; ".join(self.problems))


class CredentialError(MonitorError):
    """No access token could be obtained for Microsoft Graph."""


class GraphError(MonitorError):
    """Microsoft Graph answered with an error, or could not be reached.

    `code` is Graph's error code (branch on it, never on `message`); `request_id` is what
    Microsoft support asks for. `retryable` says whether trying again later can help.
    """

    def __init__(
        self,
        summary: str,
        *,
        status: int | None = None,
        code: str | None = None,
        graph_message: str | None = None,
        request_id: str | None = None,
        retryable: bool = False,
    ) -> None:
        self.status = status
        self.code = code
        self.graph_message = graph_message
        self.request_id = request_id
        self.retryable = retryable
        details = [
            f"HTTP {status}" if status is not None else None,
            f"code={code}" if code else None,
            f"message={graph_message!r}" if graph_message else None,
            f"request-id={request_id}" if request_id else None,
        ]
        shown = ", ".join(d for d in details if d)
        super().__init__(f"{summary} ({shown})" if shown else summary)


class ReportFormatError(MonitorError):
    """The report is malformed; `field` is a JSON path such as `value[0].totalUserCount`."""

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        self.problem = problem
        super().__init__(f"Graph report rejected, nothing stored: {field}: {problem}")


class MessageFormatError(MonitorError):
    """A queue message this app cannot read; `queue` names the queue it came from."""

    def __init__(self, queue: str, problem: str) -> None:
        self.queue = queue
        self.problem = problem
        super().__init__(f"a {queue} message was rejected, nothing fetched: {problem}")


class StorageError(MonitorError):
    """Table Storage failed or could not be reached."""


class SnapshotNotFoundError(StorageError):
    """The snapshot a queue message names does not exist."""


class StateConflictError(StorageError):
    """A conditional write found the record (alert states, fetch health, ...) changed since
    it was read."""


class SecretError(MonitorError):
    """A Key Vault secret could not be read (missing, refused, unreachable, not what it
    should hold); the message names the vault and the secret, never its value."""


class ClaimHeldError(MonitorError):
    """Another run claimed the record to post its notice (shared/usecases/announcing.py)."""


class CheckInProgressError(ClaimHeldError):
    """Another check is posting its card for the same tenant; this one waits its turn."""


class NotificationError(MonitorError):
    """The Teams webhook did not accept the card; `retryable` as for GraphError."""

    def __init__(self, summary: str, *, status: int | None = None, retryable: bool = False):
        self.status = status
        self.retryable = retryable
        super().__init__(summary)
