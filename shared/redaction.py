"""Keep secrets out of every log line, whoever logs it.

httpx logs each request URL at INFO (the webhook's `sig` is in it), azure-core logs requests
too, and tracebacks quote whatever an exception says. Rather than trust every library, the app
installs a log-record factory that scrubs each record as it is created, for every logger and
every handler (the Functions worker's included): registered secret values (the access token,
IDENTITY_HEADER, the webhook's query string) and anything shaped like a secret (`sig=`,
`Bearer ...`, `AccountKey=`, a JWT). `redact` also serves the notifiers, which scrub each
message before it is rendered: a message may quote an error cut short with an ellipsis, so a
secret's start before a `…` is scrubbed too. What the Functions worker reports to the host
for a failed invocation bypasses logging: entry points are wrapped in `scrub_errors`, so the
exception's text and stack trace are scrubbed as well.
"""

from __future__ import annotations

import functools
import logging
import re
import threading
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

REDACTED = "[redacted]"

_PATTERNS = (
    (re.compile(r"(?i)\b(sig=)[^&\s\"'<>]+"), rf"\1{REDACTED}"),
    (re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]+"), rf"\1{REDACTED}"),
    (re.compile(r"(?i)\b(AccountKey=|SharedAccessSignature=)[^;\s\"']+"), rf"\1{REDACTED}"),
    (re.compile(r"\beyJ[A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]*"), REDACTED),
    (re.compile(r"\beyJ[A-Za-z0-9_-]{6,}[A-Za-z0-9._-]*(?=…)"), REDACTED),  # a JWT cut short
)
# A word cut short by a message (shared/messages/wording.py `shorten`): text, then "…".
_CUT_WORD = re.compile(r"(\S{8,})…")
_MIN_SECRET = 8  # shorter values would scrub ordinary words

P = ParamSpec("P")
R = TypeVar("R")

_secrets: set[str] = set()
_lock = threading.Lock()
_installed = False


def register_secret(value: str | None) -> None:
    """Scrub `value` from every later log record (short values would scrub ordinary words)."""
    if value and len(value) >= _MIN_SECRET:
        with _lock:
            _secrets.add(value)


def redact(text: str) -> str:
    with _lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    for secret in secrets:
        text = text.replace(secret, REDACTED)
    if secrets and "…" in text:
        text = _CUT_WORD.sub(lambda match: _scrub_cut(match.group(1), secrets) + "…", text)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def _scrub_cut(word: str, secrets: list[str]) -> str:
    """`word` with its longest ending that starts a registered secret (at least 8 characters
    of it) scrubbed: what is left of a secret a message cut short."""
    for start in range(len(word) - _MIN_SECRET + 1):
        if any(secret.startswith(word[start:]) for secret in secrets):
            return word[:start] + REDACTED
    return word


def scrubbed(error: BaseException) -> BaseException:
    """A copy of `error` as it may leave the app: its text, its notes and every exception
    chained to it (cause and context) scrubbed; the same type name, traceback and chain.

    What the Functions worker reports to the host for a failed invocation is the exception's
    `type: text` and `traceback.format_exception` of it, chain included
    (azure_functions_runtime_v1/utils/tracing.py): neither goes through logging.
    """
    return _scrubbed(error, {})


def scrub_errors(function: Callable[P, R]) -> Callable[P, R]:
    """For entry points: whatever `function` raises leaves it as `scrubbed` makes it.

    functools.wraps keeps the signature and annotations the worker checks against
    function.json (it follows `__wrapped__`)."""

    @functools.wraps(function)
    def entry_point(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return function(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - re-raised at once, scrubbed
            failure = scrubbed(exc)
        # Raised outside the `except`, so Python does not chain the unscrubbed original to it.
        raise failure

    return entry_point


def _scrubbed(error: BaseException, done: dict[int, BaseException]) -> BaseException:
    if id(error) in done:  # a chain that loops back on itself
        return done[id(error)]
    copy = _same_type(error)
    done[id(error)] = copy
    notes = getattr(error, "__notes__", None)
    if notes:
        copy.__notes__ = [redact(str(note)) for note in notes]
    copy.__cause__ = _scrubbed(error.__cause__, done) if error.__cause__ is not None else None
    if error.__context__ is not None:
        copy.__context__ = _scrubbed(error.__context__, done)
    copy.__suppress_context__ = error.__suppress_context__
    return copy.with_traceback(error.__traceback__)


def _same_type(error: BaseException) -> BaseException:
    """`error` with its arguments and string attributes scrubbed, built without calling its
    `__init__` (whose signature is the class's own); or, where its text would still carry a
    secret (a custom `__str__`, arguments that are not strings), an exception of the same
    name whose text is the scrubbed text."""
    text = redact(_text(error))
    cls = type(error)
    try:
        copy = cls.__new__(cls)
        copy.args = _scrub_value(error.args)
        copy.__dict__.update({k: _scrub_value(v) for k, v in vars(error).items()})
        if _text(copy) == text:
            return copy
    except Exception:  # noqa: BLE001, S110 - any class that cannot be copied gets a stand-in
        pass
    return _stand_in(cls.__module__, cls.__qualname__)(text)


def _scrub_value(value: Any) -> Any:
    """Strings scrubbed, in lists and tuples too (an error's `args`, ConfigurationError's
    `problems`); anything else as it is."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, list | tuple):
        return type(value)(_scrub_value(item) for item in value)
    return value


@functools.cache
def _stand_in(module: str, qualname: str) -> type[Exception]:
    """An exception class that prints as `module.qualname` does in a traceback."""
    return type(
        qualname.rpartition(".")[2], (Exception,), {"__module__": module, "__qualname__": qualname}
    )


def _text(error: BaseException) -> str:
    try:
        return str(error)
    except Exception:  # noqa: BLE001 - a __str__ that raises says nothing, secrets included
        return f"<a {type(error).__name__} that cannot be printed>"


def install() -> None:
    """Scrub every log record from now on. Idempotent; keeps any factory installed before."""
    global _installed
    with _lock:
        if _installed:
            return
        _installed = True
    previous = logging.getLogRecordFactory()
    formatter = logging.Formatter()

    def scrubbing_factory(*args: object, **kwargs: object) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a log call must never raise, whatever it was given
            # Arguments that do not fit the format (or cannot be printed). Left as they are,
            # logging would print them unscrubbed to stderr when the record is emitted.
            message = f"unformattable log call {_quote(record.msg)} with {_quote(record.args)}"
        record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(formatter.formatException(record.exc_info))
        return record

    logging.setLogRecordFactory(scrubbing_factory)


def _quote(value: object) -> str:
    try:
        return repr(value)
    except Exception:  # noqa: BLE001 - whatever its __repr__ raises, this must not
        return f"<a {type(value).__name__} that cannot be printed>"
