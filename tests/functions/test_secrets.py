"""No secret reaches a log line, an error or a card, with every logger at DEBUG."""

from __future__ import annotations

import importlib
import io
import json
import logging
import secrets
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import httpx
import pytest

from shared import redaction
from shared.core.alerting import AlertState, Event, Notice
from shared.errors import GraphError
from shared.messages.health import fetch_health_message, source_switch_message
from shared.notify.teams import LogNotifier, TeamsWebhook
from shared.retry import RetryPolicy
from shared.settings import WebhookUrl
from standins.azurite import ACCOUNT_KEY
from standins.graph import graph_error
from standins.loopback import Reply
from standins.reports import report
from standins.teams import WEBHOOK_QUERY, WEBHOOK_SIG, TeamsStandIn
from tests.conftest import CycleHarness, fails_with


@pytest.fixture
def everything_logged() -> Iterator[io.StringIO]:
    """Every record of every logger, formatted with tracebacks, as a handler in Azure would."""
    output = io.StringIO()
    handler = logging.StreamHandler(output)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    previous = root.level
    loggers = [logging.getLogger(name) for name in ("azure", "httpx", "httpcore", "msal")]
    levels = [logger.level for logger in loggers]
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
    try:
        yield output
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def secrets_of(cycle: CycleHarness) -> list[str]:
    return [
        *cycle.identity.tokens_issued,
        cycle.identity.identity_header,
        WEBHOOK_SIG,
        WEBHOOK_QUERY,
        ACCOUNT_KEY,
    ]


def test_full_cycles_with_every_logger_at_debug_leak_no_secret(
    cycle: CycleHarness, everything_logged: io.StringIO
) -> None:
    cycle.use_webhook()
    # Troubleshooting's setting: the SDKs log every request too (else they log warnings only).
    cycle.configure(DROP_ALERT_POINTS="5", LOG_HTTP_REQUESTS="true")
    errors: list[str] = []
    # Day 1: a breach is posted after Teams throttles once.
    cycle.teams.script.then(Reply(429, "", {"Retry-After": "1"}))
    cycle.graph.report_body = json.dumps(report(1000, {"mfaRegistered": 800})).encode()
    cycle.run()
    # Day 2: Teams fails for good; the errors are raised through the host.
    cycle.clock.advance(days=1)
    cycle.teams.script.then(*[Reply(500, "flow failed")] * 40)
    cycle.graph.report_body = json.dumps(report(1000, {"mfaRegistered": 980})).encode()
    errors += [str(e) for d in cycle.run().deliveries for e in d.errors]
    # Day 3: Graph refuses; the failure notice is posted.
    cycle.clock.advance(days=1)
    cycle.graph.script.then(graph_error(401, "InvalidAuthenticationToken", "expired"))
    with pytest.raises(Exception) as failure:
        cycle.run_once()
    errors.append(str(failure.value))

    logged = everything_logged.getvalue()
    assert cycle.identity.tokens_issued and "HTTP Request: POST" in logged  # it did log, at DEBUG
    posted = json.dumps([r.json() for r in cycle.teams.requests])
    for secret in secrets_of(cycle):
        assert secret not in logged
        assert secret not in posted
        assert all(secret not in error for error in errors)
    assert "/invoke?[redacted]" in logged  # httpx logged the webhook URL, scrubbed


def test_settings_never_show_the_webhook_signature(cycle: CycleHarness) -> None:
    app = cycle.use_webhook()

    shown = [repr(app.settings), str(app.settings.webhook), repr(app.settings.webhook)]

    assert all(WEBHOOK_SIG not in text for text in shown)


NOW = datetime(2026, 11, 23, 6, 0, tzinfo=timezone.utc)
ROOT = Path(__file__).resolve().parents[2]
JWT = "eyJ0eXAiOiJKV1QiLCJhbGciOi.eyJ0aWQiOiIxMjM0NTY3OCJ9.c2lnbmF0dXJl"


def errors_quoting(secret: str) -> list[str]:
    """Errors that quote `secret`: whole, and cut by the card's 600-character limit so that
    only its first 20 characters are left before the ellipsis."""
    return [
        f"HTTP 401 for request with Authorization: Bearer {JWT}; header {secret}",
        "HTTP 401 token=" + "y" * (599 - len("HTTP 401 token=") - 20) + secret + " and more",
        # A long token cut short in its payload: no registered value to match.
        "HTTP 401 token=" + JWT.replace(".eyJ0aWQi", ".eyJ0aWQi" + "A" * 700),
    ]


def test_no_secret_in_a_message_reaches_the_teams_card() -> None:
    """The builders quote errors as recorded; the notifier scrubs before rendering."""
    secret = "idh-" + secrets.token_hex(16)
    redaction.register_secret(secret)
    with TeamsStandIn() as teams, httpx.Client() as http:
        webhook = TeamsWebhook(
            WebhookUrl(teams.webhook_url),
            http=http,
            policy=RetryPolicy(),
            sleep=lambda _: None,
            clock=lambda: NOW,
        )
        for error in errors_quoting(secret):
            event = Event(Notice.FIRING, AlertState("fetch", firing=True, detail=error), None, NOW)
            webhook.post_message(fetch_health_message(event, NOW))
            webhook.post_message(source_switch_message(error, NOW))

    posted = [json.dumps(card) for card in teams.cards]
    assert len(posted) == 6
    assert all(secret[:12] not in card and "c2lnbmF0dXJl" not in card for card in posted)
    assert all("eyJ0aWQi" not in card for card in posted)  # nor what is left of a cut JWT
    assert all("[redacted]" in card for card in posted)


def test_no_secret_in_a_message_reaches_the_log_without_a_webhook(
    everything_logged: io.StringIO,
) -> None:
    secret = "idh-" + secrets.token_hex(16)
    redaction.register_secret(secret)
    redaction.install()

    for error in errors_quoting(secret):
        event = Event(Notice.FIRING, AlertState("fetch", firing=True, detail=error), None, NOW)
        LogNotifier().post_message(fetch_health_message(event, NOW))

    logged = everything_logged.getvalue()
    assert logged.count("this alert is logged instead of posted") == 3
    assert secret[:12] not in logged and "c2lnbmF0dXJl" not in logged
    assert "eyJ0aWQi" not in logged


def test_a_secret_in_an_error_never_reaches_the_host(cycle: CycleHarness) -> None:
    """What the worker reports for a failed invocation (its `type: text` and the stack trace,
    chain included) does not go through logging; it is scrubbed all the same."""
    cycle.use_webhook()
    header = cycle.identity.identity_header
    said = f"denied for {header}, Bearer {JWT}, see {cycle.teams.webhook_url}"
    cycle.graph.script.then(graph_error(403, "Authorization_RequestDenied", said))

    with fails_with(GraphError, match="Authorization_RequestDenied") as failure:
        cycle.run_once()

    reported = failure.value.message + failure.value.stack_trace
    for secret in (header, "c2lnbmF0dXJl", WEBHOOK_SIG, WEBHOOK_QUERY):
        assert secret not in reported
    assert "denied for [redacted]" in failure.value.message
    # Still a trace that says where: the frames are kept, only texts are scrubbed.
    assert "shared/sources/beta/source.py" in failure.value.stack_trace
    assert "GraphError: Graph refused" in failure.value.stack_trace


@pytest.mark.parametrize(
    "folder", sorted(p.parent.name for p in ROOT.glob("*/function.json")), ids=str
)
def test_every_entry_point_scrubs_what_it_raises(folder: str) -> None:
    main = importlib.import_module(folder).main

    assert main.__code__ is redaction.scrub_errors(lambda: None).__code__
