"""Secrets are scrubbed from every log record, whichever logger writes it (pure logging)."""

from __future__ import annotations

import inspect
import logging
import traceback
from collections.abc import Callable, Iterator

import pytest

from shared import redaction
from shared.errors import ConfigurationError, GraphError


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.records: list[logging.LogRecord] = []  # what any handler downstream is given

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
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


@pytest.fixture
def records(log: tuple[logging.Logger, Collect]) -> tuple[logging.Logger, Collect]:
    return log


def test_an_opaque_bearer_token_in_the_arguments_is_scrubbed_from_the_record(records) -> None:
    logger, out = records

    logger.info("sending %s", {"Authorization": "Bearer 0paque.T0ken-value~x"})

    [record] = out.records
    assert record.args is None
    assert record.getMessage() == "sending {'Authorization': 'Bearer [redacted]'}"


def test_a_sig_in_the_message_itself_is_scrubbed_whatever_its_case(records) -> None:
    logger, out = records

    logger.warning("POST https://h/invoke?sp=%2Ftriggers&SIG=UpPeRsEcReT&sv=1.0 failed")

    assert (
        out.records[0].getMessage()
        == "POST https://h/invoke?sp=%2Ftriggers&SIG=[redacted]&sv=1.0 failed"
    )


def test_the_identity_header_value_is_scrubbed_from_messages_and_arguments(records) -> None:
    logger, out = records
    identity_header = "f1e2d3c4-b5a6-4789-8abc-identity-hdr"
    redaction.register_secret(identity_header)

    logger.debug("X-IDENTITY-HEADER: " + identity_header)
    logger.debug("headers=%r", {"X-IDENTITY-HEADER": identity_header, "Metadata": "true"})

    messages = [record.getMessage() for record in out.records]
    assert messages == [
        "X-IDENTITY-HEADER: [redacted]",
        "headers={'X-IDENTITY-HEADER': '[redacted]', 'Metadata': 'true'}",
    ]


def test_account_keys_and_sas_in_connection_strings_are_scrubbed(records) -> None:
    logger, out = records
    conn = (
        "DefaultEndpointsProtocol=https;AccountName=entracov;"
        "AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsu==;"
        "EndpointSuffix=core.windows.net"
    )

    logger.error("cannot connect with %s", conn)
    logger.error("TableEndpoint=https://t/;SharedAccessSignature=sv=2022&sp=r&sig=abc123def")

    assert [record.getMessage() for record in out.records] == [
        "cannot connect with DefaultEndpointsProtocol=https;AccountName=entracov;"
        "AccountKey=[redacted];EndpointSuffix=core.windows.net",
        "TableEndpoint=https://t/;SharedAccessSignature=[redacted]",
    ]


def test_text_that_only_resembles_a_secret_is_untouched(records) -> None:
    logger, out = records
    lines = [
        "signature=verified for design=basic",
        "AccountName=entracov;TableEndpoint=https://entracov.table.core.windows.net/",
        "mfaRegistered: 88.3% (1104 of 1250), threshold 95.0% BELOW",
        "token request to http://127.0.0.1:8081/msi/token?resource=https://graph.microsoft.com",
    ]

    for line in lines:
        logger.info("%s", line)

    assert [record.getMessage() for record in out.records] == lines


def test_redact_scrubs_every_secret_in_one_text() -> None:
    text = "Bearer abc.def ; sig=XYZ&x=1 ; AccountKey=k3y== ; done"

    assert redaction.redact(text) == (
        "Bearer [redacted] ; sig=[redacted]&x=1 ; AccountKey=[redacted] ; done"
    )


def test_installing_twice_scrubs_once(records) -> None:
    logger, out = records
    redaction.install()

    logger.info("sig=%s", "twice")

    assert out.records[0].getMessage() == "sig=[redacted]"


def test_a_log_call_whose_arguments_do_not_fit_never_raises_and_leaks_nothing(records) -> None:
    logger, out = records

    logger.error("token %s %s", "Bearer L3AKED-T0KEN")
    logger.error("%(missing)s", {"other": "sig=L3AKED-SIG"})

    messages = [record.getMessage() for record in out.records]
    assert messages == [
        "unformattable log call 'token %s %s' with ('Bearer [redacted]',)",
        "unformattable log call '%(missing)s' with {'other': 'sig=[redacted]'}",
    ]
    assert all(record.args is None for record in out.records)


def test_a_secret_a_message_cut_short_is_scrubbed_up_to_the_ellipsis() -> None:
    secret = "idh-5f0c2a9e5b7d4e8fa1c29d8e7f6a5b4c"
    redaction.register_secret(secret)
    jwt_start = "eyJ0eXAiOiJKV1QiLCJhbGciOi.eyJ0aWQiOiIxMjM0"

    assert redaction.redact(f"Last error: token={secret[:20]}…") == (
        "Last error: token=[redacted]…"
    )
    assert redaction.redact(f"Last error: {jwt_start}…") == "Last error: [redacted]…"
    # Words that merely end where a message was cut stay readable.
    assert redaction.redact("Graph said more about it…") == "Graph said more about it…"
    assert redaction.redact("…and 394 more notices") == "…and 394 more notices"


SECRET = "idh-0c2a9e5b7d4e8fa1c29d8e7f6a5b4c3f"


def raised(make: Callable[[], BaseException]) -> BaseException:
    try:
        raise make()
    except BaseException as exc:
        return exc


def test_a_scrubbed_error_keeps_its_type_attributes_and_traceback_without_the_secret() -> None:
    redaction.register_secret(SECRET)
    error = raised(lambda: GraphError(f"refused {SECRET}", status=403, graph_message=SECRET))

    copy = redaction.scrubbed(error)

    assert type(copy) is GraphError
    assert str(copy) == "refused [redacted] (HTTP 403, message='[redacted]')"
    assert (copy.status, copy.graph_message) == (403, "[redacted]")
    assert copy.__traceback__ is error.__traceback__


def test_every_exception_chained_to_an_error_is_scrubbed_too() -> None:
    redaction.register_secret(SECRET)

    def chained() -> None:
        try:
            try:
                raise KeyError(SECRET)
            except KeyError as exc:
                raise OSError(f"read {SECRET}") from exc
        except OSError:
            error = ConfigurationError([f"TEAMS_WEBHOOK_URL {SECRET}"])
            error.add_note(f"note {SECRET}")
            raise error from None

    try:
        chained()
    except ConfigurationError as exc:
        original = exc
    copy = redaction.scrubbed(original)
    trace = "".join(traceback.format_exception(copy))

    assert SECRET not in trace
    assert "note [redacted]" in trace
    assert "During handling" not in trace  # `from None` stays `from None`
    assert isinstance(copy, ConfigurationError) and copy.problems == [
        "TEAMS_WEBHOOK_URL [redacted]"
    ]
    assert SECRET in "".join(traceback.format_exception(original))  # the original is untouched
    assert "KeyError: '[redacted]'" in "".join(
        traceback.format_exception(
            redaction.scrubbed(original.__context__.__cause__)  # type: ignore[union-attr]
        )
    )


def test_an_error_whose_text_cannot_be_scrubbed_in_place_keeps_its_name() -> None:
    class Opaque(Exception):
        def __init__(self, secret: str) -> None:
            super().__init__({"header": secret})

    copy = redaction.scrubbed(raised(lambda: Opaque(SECRET)))

    assert type(copy).__name__ == "Opaque" and type(copy).__qualname__ == Opaque.__qualname__
    assert str(copy) == "{'header': '[redacted]'}"


def test_an_entry_point_raises_its_errors_scrubbed() -> None:
    redaction.register_secret(SECRET)

    @redaction.scrub_errors
    def main(msg: str) -> None:
        raise GraphError(f"refused {msg}")

    with pytest.raises(GraphError) as failure:
        main(SECRET)

    assert str(failure.value) == "refused [redacted]"
    assert failure.value.__context__ is None and failure.value.__cause__ is None
    assert inspect.signature(main) == inspect.signature(main.__wrapped__)  # what the worker reads
