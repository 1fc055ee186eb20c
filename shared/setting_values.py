"""The values settings take, parsed and checked one at a time (shared.settings gathers them).

Each parser takes the raw text of one setting and returns its value or raises ValueError with
what is wrong, never echoing a secret (a webhook's query string is its credential). Below them,
the storage settings (one value in several spellings), what an unresolved Key Vault reference
means, and the population thresholds' rule (which source and scope they need).
"""

from __future__ import annotations

import ipaddress
import math
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from fractions import Fraction
from urllib.parse import urlsplit

from shared.core.coverage import Limits, population_of, population_statuses

_LOOPBACK_NAMES = {"localhost"}
_TRUE, _FALSE = ("true", "1", "yes"), ("false", "0", "no")


@dataclass(frozen=True)
class WebhookUrl:
    """The Teams Workflows webhook. Its query string (`sig`) is a credential: never shown."""

    value: str = field(repr=False)

    @property
    def redacted(self) -> str:
        parts = urlsplit(self.value)
        return f"{parts.scheme}://{parts.netloc}{parts.path}" + (
            "?[redacted]" if parts.query else ""
        )

    @property
    def secret_part(self) -> str:
        return urlsplit(self.value).query

    def __str__(self) -> str:
        return self.redacted


@dataclass(frozen=True)
class StorageSettings:
    """Where snapshots live: a connection string (Azurite, keys) or an identity-based endpoint."""

    connection_string: str | None = field(default=None, repr=False)
    table_endpoint: str | None = None  # identity-based: uses the managed identity
    client_id: str | None = None  # AzureWebJobsStorage__clientId: a user-assigned identity

    @property
    def described(self) -> str:
        if self.table_endpoint:
            return self.table_endpoint
        return "the AzureWebJobsStorage connection string"


def is_loopback(host: str) -> bool:
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def https_url(raw: str) -> str:
    """An absolute URL that is https, or http on a loopback host (tests and the local demo)."""
    parts = urlsplit(raw)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValueError("not an absolute https:// URL")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise ValueError("https is required (plain http only for loopback hosts, e.g. 127.0.0.1)")
    return raw


def endpoint(raw: str) -> str:
    url = https_url(raw).rstrip("/")
    if urlsplit(url).path or urlsplit(url).query:
        raise ValueError("give the service root only, e.g. https://graph.microsoft.com")
    return url


def webhook(raw: str) -> WebhookUrl:
    # _https_url's errors never echo the URL: its query string is the credential.
    return WebhookUrl(https_url(raw))


def number(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{raw!r} is not a number") from None
    if not math.isfinite(value):  # `inf` hours would overflow timedelta
        raise ValueError(f"{raw!r} is not a finite number")
    return value


def hours(raw: str) -> timedelta:
    value = number(raw)
    try:
        hours = timedelta(hours=value) if value > 0 else timedelta(0)
    except OverflowError:  # finite, but beyond timedelta's ~10^9 days
        raise ValueError(f"{raw!r} hours is too long an interval") from None
    if not hours:  # also 1e-320 hours, which is positive but rounds to nothing
        raise ValueError(f"must be a positive number of hours, got {raw!r}")
    return hours


def points(raw: str) -> Fraction:
    approximate = number(raw)
    try:
        value = Fraction(raw)  # exact: "0.1" is 1/10, so a fall of exactly 0.1 points counts
    except ValueError:  # spellings float() reads and Fraction() does not, such as "1_0"
        value = Fraction(approximate)
    if not 0 < value <= 100:
        raise ValueError(f"must be percentage points between 0 and 100, got {raw!r}")
    return value


def users(raw: str) -> tuple[str, ...]:
    users = tuple(part.strip() for part in raw.split(",") if part.strip())
    for user in users:
        if any(ch.isspace() for ch in user) or len(user) > 256:
            raise ValueError(f"{user[:60]!r} is not an object id or a user principal name")
    return users


def whole_number(raw: str, *, least: int = 0) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{raw!r} is not a whole number") from None
    if value < least:
        raise ValueError(
            f"must be {'0 or more' if least == 0 else f'at least {least}'}, got {raw!r}"
        )
    return value


def flag(raw: str) -> bool:
    if raw.lower() in _TRUE:
        return True
    if raw.lower() in _FALSE:
        return False
    raise ValueError(f"{raw!r} is not true or false")


def table_name(raw: str) -> str:
    # Table Storage's rule: 3-63 alphanumerics, starting with a letter.
    if not (3 <= len(raw) <= 63 and raw.isalnum() and raw[0].isalpha() and raw.isascii()):
        raise ValueError(f"{raw!r} is not a table name (3-63 letters and digits)")
    return raw


def guid(raw: str) -> str:
    """A GUID (a tenant id, an app's client id), lower-cased as Entra writes them."""
    try:
        return str(uuid.UUID(raw.strip()))
    except ValueError:
        raise ValueError(f"{raw[:60]!r} is not a GUID") from None


def guids(raw: str) -> tuple[str, ...]:
    """Comma-separated GUIDs, each once, in the order given."""
    found = [guid(part) for part in raw.split(",") if part.strip()]
    if not found:
        raise ValueError("names no GUID")
    return tuple(dict.fromkeys(found))


def count(raw: str) -> int:
    """A whole number of at least 1 (how many of something there are)."""
    return whole_number(raw, least=1)


def unresolved_reference(name: str, value: str) -> str:
    # The reference names a vault and a secret, never the secret's value: safe to quote.
    return (
        f"{name} holds a Key Vault reference that App Service could not resolve "
        f"({value[:200]}): give the app's managed identity the Key Vault Secrets User role on "
        "that vault, check that the secret exists and the vault lets the app in, then restart "
        "the app. The portal shows the reason under the function app's Settings > Environment "
        f"variables > {name} (Key vault reference status)"
    )


def storage(text: Callable[[str], str | None], problems: list[str]) -> StorageSettings | None:
    client_id = text("AzureWebJobsStorage__clientId")
    connection_string = text("AzureWebJobsStorage")
    if connection_string:
        return StorageSettings(connection_string=connection_string, client_id=client_id)
    table_uri = text("AzureWebJobsStorage__tableServiceUri")
    account = text("AzureWebJobsStorage__accountName")
    if table_uri:
        try:
            return StorageSettings(table_endpoint=https_url(table_uri), client_id=client_id)
        except ValueError as exc:
            problems.append(f"AzureWebJobsStorage__tableServiceUri: {exc}")
            return None
    if account:
        endpoint = f"https://{account}.table.core.windows.net"
        return StorageSettings(table_endpoint=endpoint, client_id=client_id)
    problems.append(
        "AzureWebJobsStorage is not set: set AzureWebJobsStorage__accountName to use the "
        "managed identity (recommended), or a connection string "
        "(UseDevelopmentStorage=true for Azurite)"
    )
    return None


def population_problems(limits: Limits, source: str, include_guests: bool) -> list[str]:
    """Thresholds over a population (`mfaRegistered.admins`) need the v1.0 source, which counts
    each user's record, and guests need guests counted."""
    named = population_statuses([*limits.minimums, *limits.maximums])
    problems = []
    if named and source != "v1":
        why = (
            "the beta report has no populations, only tenant-wide counts"
            if source == "beta"
            else "REPORT_SOURCE=auto may read the beta report, which has no populations"
        )
        problems.append(
            f"THRESHOLDS names {', '.join(named)}, a metric per population, which only the "
            f"v1.0 source counts: {why}. Set REPORT_SOURCE=v1 (it needs AuditLog.Read.All), "
            "or remove them"
        )
    guests = [status for status in named if population_of(status) == "guests"]
    if guests and not include_guests:
        problems.append(
            f"THRESHOLDS names {', '.join(guests)}, but INCLUDE_GUESTS=false leaves guests out "
            "of every metric, so there would be no guests to count: remove them, or set "
            "INCLUDE_GUESTS=true"
        )
    return problems
