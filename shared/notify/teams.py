"""Where messages go: a Teams Workflows webhook, or the log when none is configured.

Notifier semantics follow Alertmanager's msteamsv2: 2xx is success, 429 and 5xx are retried
(within bounds, honouring Retry-After), anything else fails at once. A Workflows webhook
answers 202 with an empty body *before* its flow posts: that is success, though not proof that
the card reached the channel. A legacy Office 365 connector answers 200 with body `1` on
success and 200 with an error text otherwise, so a 200 with any other body is a failure.

The webhook URL's query string (`sig`) is its credential: errors and logs show only
`WebhookUrl.redacted`. Messages are built from whatever the app read (an error's text among
it), so each notifier scrubs a message's every text (shared/redaction.py) before rendering it:
no secret reaches a card or the log, whichever builder made the message.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

import httpx

from shared import redaction
from shared.errors import NotificationError
from shared.messages.adaptive_card import render_card
from shared.messages.model import AppLocation, Message
from shared.messages.text import render_text
from shared.retry import RetryPolicy, call_with_retries
from shared.settings import WebhookUrl

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# What a Workflows webhook answers once its flow is deleted or turned off (or its URL was
# regenerated): no retry helps, and every later alert would fail the same way.
FLOW_GONE_STATUSES = frozenset({403, 404, 410})
FLOW_GONE_ADVICE = (
    "the Teams Workflows flow behind TEAMS_WEBHOOK_URL is gone or turned off (HTTP {status}): "
    "no alert can reach Teams until it is fixed. Turn the flow on again, or create a new "
    "'Post to a channel when a webhook request is received' workflow and put its URL in "
    "TEAMS_WEBHOOK_URL (with infra/main.bicep: the Key Vault secret teams-webhook-url)"
)


class Notifier(Protocol):
    def post_message(self, message: Message) -> None:
        """Deliver `message` or raise NotificationError."""


class LogNotifier:
    """No webhook configured: the message goes to the log at WARNING, with the same facts."""

    def post_message(self, message: Message) -> None:
        log.warning(
            "TEAMS_WEBHOOK_URL is not set; this alert is logged instead of posted:\n%s",
            render_text(message.map_text(redaction.redact)),
        )


class TeamsWebhook:
    def __init__(
        self,
        url: WebhookUrl,
        *,
        http: httpx.Client,
        policy: RetryPolicy,
        sleep: Callable[[float], None],
        clock: Callable[[], datetime],
        location: AppLocation | None = None,
        card_version: str = "1.4",
    ) -> None:
        self._url = url
        self._card_version = card_version  # CARD_VERSION: 1.5 adds a chart where there is one
        self._location = location  # where the app runs, for the failing fetch card's button
        self._http = http
        self._policy = policy
        self._sleep = sleep
        self._clock = clock

    def post_message(self, message: Message) -> None:
        card = render_card(
            message.map_text(redaction.redact), self._location, version=self._card_version
        )
        attempts = call_with_retries(
            lambda: self._http.post(self._url.value, json=card, follow_redirects=False),
            what=f"Teams webhook {self._url.redacted}",
            retry_statuses=RETRY_STATUSES,
            policy=self._policy,
            sleep=self._sleep,
            clock=self._clock,
        )
        tries = attempts.tries
        response = attempts.response
        if response is None:
            raise NotificationError(
                f"the Teams webhook {self._url.redacted} could not be reached {tries}: "
                f"{type(attempts.error).__name__}",
                retryable=True,
            ) from attempts.error
        status = response.status_code
        if status == 200 and response.text.strip() not in ("", "1"):
            raise NotificationError(
                f"the Teams webhook {self._url.redacted} answered 200 with an error "
                f"(a legacy connector's way): {response.text[:300]!r}",
                status=status,
            )
        if status in FLOW_GONE_STATUSES:
            advice = FLOW_GONE_ADVICE.format(status=status)
            log.error("%s", advice)
            raise NotificationError(
                f"the Teams webhook {self._url.redacted} refused the card: {advice}", status=status
            )
        if not 200 <= status < 300:
            raise NotificationError(
                f"the Teams webhook {self._url.redacted} refused the card {tries}: HTTP {status} "
                f"{response.text[:300]!r}"
                + (
                    " (is the Workflows URL complete and the flow turned on?)"
                    if status < 500
                    else ""
                ),
                status=status,
                retryable=status in RETRY_STATUSES,
            )
        log.info("Teams webhook accepted the card (HTTP %d): %s", status, message.title)
