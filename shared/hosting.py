"""What the app takes from the platform it runs on, and how it sets itself up there.

The SDKs' request logging kept quiet (Application Insights bills every record), where App
Service says the app runs (for the cards' buttons), and the one notifier that can still speak
when the settings are invalid and no App can be built.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timezone

import httpx

from shared import redaction
from shared.messages.model import AppLocation
from shared.notify.teams import Notifier, TeamsWebhook
from shared.retry import RetryPolicy
from shared.settings import webhook_from_env

# The SDKs' per-request loggers: azure-core's HttpLoggingPolicy (each Table and token request
# with its URL and every header, at INFO), azure-identity (each token), httpx and httpcore (each
# Graph and webhook request), urllib3 and msal. At the worker's level (INFO) they were 28 of a
# cycle's 40 records, all ingested and billed by Application Insights. Every Azure SDK this app
# uses, but not `azure` itself: `azure.functions` is the Functions worker's own logger.
SDK_HTTP_LOGGERS = (
    "azure.core",
    "azure.identity",
    "azure.data",
    "azure.storage",
    "httpx",
    "httpcore",
    "urllib3",
    "msal",
)


def quiet_sdk_http_logging(*, enabled: bool) -> None:
    """Keep the SDKs' per-request HTTP logging at WARNING (their warnings and errors still
    show), unless LOG_HTTP_REQUESTS=true turns it on: then each logs at the worker's level.
    Done when the App is built, never at import; secrets stay scrubbed either way."""
    level = logging.NOTSET if enabled else logging.WARNING
    for name in SDK_HTTP_LOGGERS:
        logging.getLogger(name).setLevel(level)


def app_location(environ: Mapping[str, str]) -> AppLocation | None:
    """Where App Service says this app runs, or None outside Azure (or if it says too little).

    WEBSITE_OWNER_NAME is `<subscription id>+<webspace>`; App Service sets it, with
    WEBSITE_SITE_NAME and WEBSITE_RESOURCE_GROUP, on every function app.
    """
    subscription = environ.get("WEBSITE_OWNER_NAME", "").partition("+")[0].strip()
    group = environ.get("WEBSITE_RESOURCE_GROUP", "").strip()
    site = environ.get("WEBSITE_SITE_NAME", "").strip()
    if not (subscription and group and site):
        return None
    return AppLocation(subscription_id=subscription, resource_group=group, site_name=site)


@contextmanager
def settings_notifier(environ: Mapping[str, str]) -> Iterator[Notifier | None]:
    """A notifier of TEAMS_WEBHOOK_URL alone, for saying that the other settings are invalid
    (no App can be built then); None if the webhook itself is missing or invalid."""
    webhook = webhook_from_env(environ)
    if webhook is None:
        yield None
        return
    redaction.install()
    redaction.register_secret(webhook.secret_part)
    with httpx.Client(timeout=httpx.Timeout(30.0, connect=10.0), follow_redirects=False) as http:
        yield TeamsWebhook(
            webhook,
            http=http,
            policy=RetryPolicy(),
            sleep=time.sleep,
            clock=lambda: datetime.now(timezone.utc),
            location=app_location(environ),
        )
