"""No secret reaches a log line, an error or a card, with every logger at DEBUG."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from standins.azurite import ACCOUNT_KEY
from standins.graph import graph_error
from standins.loopback import Reply
from standins.reports import report
from standins.teams import WEBHOOK_QUERY, WEBHOOK_SIG
from tests.conftest import CycleHarness


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
    cycle.configure(DROP_ALERT_POINTS="5")
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
