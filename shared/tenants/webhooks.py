"""Where a tenant's cards go: its own Teams webhook, or TEAMS_WEBHOOK_URL (TENANTS).

A tenant's row in TENANT_TABLE may name a Key Vault secret (`WebhookSecret`) holding its
webhook; the secret is read from KEY_VAULT_URL with the app's identity (shared/tenants/
key_vault.py), kept for `ttl` (a rotated webhook shows within it), and its `sig` registered
with the log scrubber. A webhook that cannot be read never silences a card: the card goes to
the default webhook, saying why, and the reason is logged as an error.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from shared import redaction, setting_values
from shared.errors import SecretError
from shared.notify.teams import Notifier
from shared.setting_values import WebhookUrl
from shared.tenants.cache import LruCache
from shared.tenants.directory import TenantProfile
from shared.tenants.key_vault import KeyVaultSecrets
from shared.tenants.naming import TenantNotifier

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Read:
    url: WebhookUrl
    at: datetime


class TenantWebhooks:
    def __init__(
        self,
        *,
        default: Notifier,
        vault: KeyVaultSecrets | None,
        webhook: Callable[[WebhookUrl], Notifier],
        clock: Callable[[], datetime],
        ttl: timedelta = timedelta(minutes=5),
    ) -> None:
        self._default = default
        self._vault = vault
        self._webhook = webhook
        self._clock = clock
        self._ttl = ttl
        self._read: LruCache[_Read] = LruCache()

    def notifier_for(self, profile: TenantProfile) -> Notifier:
        """The notifier for `profile`'s cards, naming the tenant in each."""
        secret = profile.webhook_secret
        if not secret:
            return TenantNotifier(self._default, profile)
        try:
            url = self._url(secret)
        except SecretError as exc:
            log.error(
                "tenant %s: its webhook could not be read; its cards go to the default "
                "webhook (TEAMS_WEBHOOK_URL) instead: %s",
                profile.tenant_id,
                exc,
            )
            why = f"its own webhook could not be read ({exc})"
            return TenantNotifier(self._default, profile, fallback=why)
        return TenantNotifier(self._webhook(url), profile)

    def _url(self, secret: str) -> WebhookUrl:
        if self._vault is None:
            raise SecretError(
                f"its WebhookSecret names Key Vault secret {secret!r}, but KEY_VAULT_URL is not "
                "set: set it to the vault's URI (infra/main.bicep passes its own vault's)"
            )
        now = self._clock()
        read = self._read.get(secret)
        if read is None or now - read.at >= self._ttl:
            # Read outside any lock; two checks at once may both read it, which is harmless.
            read = _Read(self._fetch(secret), now)
            self._read.put(secret, read)
        return read.url

    def _fetch(self, secret: str) -> WebhookUrl:
        assert self._vault is not None
        value = self._vault.get_secret(secret)
        try:
            url = setting_values.webhook(value.strip())
        except ValueError as exc:
            raise SecretError(
                f"Key Vault secret {secret!r} in {self._vault.vault_url} does not hold a "
                f"webhook URL: {exc}"
            ) from exc
        redaction.register_secret(url.secret_part)
        return url
