"""Keep secrets out of every log line, whoever logs it.

httpx logs each request URL at INFO (the webhook's `sig` is in it), azure-core logs requests
too, and tracebacks quote whatever an exception says. Rather than trust every library, the app
installs a log-record factory that scrubs each record as it is created, for every logger and
every handler (the Functions worker's included): registered secret values (the access token,
IDENTITY_HEADER, the webhook's query string) and anything shaped like a secret (`sig=`,
`Bearer ...`, `AccountKey=`, a JWT). `redact` also serves the notifiers, which scrub each
message before it is rendered: a message may quote an error cut short with an ellipsis, so a
secret's start before a `…` is scrubbed too.
"""

from __future__ import annotations

import logging
import re
import threading

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
