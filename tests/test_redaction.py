"""Secrets are scrubbed from every log record, whichever logger writes it (pure logging)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from shared import redaction


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def log() -> Iterator[tuple[logging.Logger, Collect]]:
    redaction.install()
    logger = logging.getLogger("tests.redaction.any_library")
    handler = Collect()
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield logger, handler
    logger.removeHandler(handler)


def test_a_webhook_signature_in_a_url_is_scrubbed(log) -> None:
    logger, out = log
    url = "https://x.logic.azure.com/workflows/1/invoke?api-version=2016-06-01&sig=AbC123sEcReT"

    logger.info('HTTP Request: POST %s "HTTP/1.1 202 Accepted"', url)

    assert "AbC123sEcReT" not in out.lines[0]
    assert "sig=[redacted]" in out.lines[0]
    assert "api-version=2016-06-01" in out.lines[0]  # the rest stays readable


def test_bearer_tokens_jwts_and_account_keys_are_scrubbed(log) -> None:
    logger, out = log
    jwt = "eyJ0eXAiOiJKV1QiLCJhbGciOi.eyJ0aWQiOiIxMjM0NTY3OCJ9.c2lnbmF0dXJl"

    logger.debug("Authorization: Bearer %s", jwt)
    logger.debug("token %s", jwt)
    logger.debug("conn=%s", "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=Zm9vYmFy==;")

    assert all("c2lnbmF0dXJl" not in line for line in out.lines[:2])
    assert "Zm9vYmFy" not in out.lines[2] and "AccountName=a" in out.lines[2]


def test_registered_secrets_are_scrubbed_wherever_they_appear(log) -> None:
    logger, out = log
    identity_header = "ih-0f9e8d7c6b5a-secret"
    redaction.register_secret(identity_header)

    logger.warning("request failed with headers %s", {"X-IDENTITY-HEADER": identity_header})

    assert identity_header not in out.lines[0]
    assert "[redacted]" in out.lines[0]


def test_short_values_are_not_registered_so_words_survive(log) -> None:
    logger, out = log
    redaction.register_secret("ok")

    logger.info("all ok")

    assert out.lines == ["all ok"]


def test_tracebacks_are_scrubbed_too(log) -> None:
    logger, out = log
    out.setFormatter(logging.Formatter("%(message)s\n%(exc_text)s"))

    try:
        raise RuntimeError("posting to https://h/invoke?sig=TrAcEbAcKsEcReT failed")
    except RuntimeError:
        logger.exception("post failed")

    assert "TrAcEbAcKsEcReT" not in "\n".join(out.lines)
    assert "RuntimeError" in out.lines[0]


def test_ordinary_messages_are_untouched(log) -> None:
    logger, out = log

    logger.info("stored snapshot %s with %d statuses", "0000-2026-11-23T06Z", 4)

    assert out.lines == ["stored snapshot 0000-2026-11-23T06Z with 4 statuses"]
