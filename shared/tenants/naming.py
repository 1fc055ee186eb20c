"""Every card about a customer tenant names it: its display name and its id.

A notifier that adds the tenant to each message before handing it on, so the use cases build
their messages as for one tenant and the composition root picks the notifier (App.notifier_for).
"""

from __future__ import annotations

from dataclasses import replace

from shared.messages.model import Message
from shared.notify.teams import Notifier
from shared.tenants.directory import TenantProfile


def name_tenant(message: Message, profile: TenantProfile) -> Message:
    """`message` with the tenant in its title, its first line and its footer."""
    label = profile.label
    own = f"Tenant {profile.tenant_id}"  # the coverage card's footer starts so already
    rest = message.footer.removeprefix(own).removeprefix(" · ")
    footer = f"Tenant {label}" + (f" · {rest}" if rest else "")
    return replace(
        message,
        title=f"{profile.display_name or profile.tenant_id}: {message.title}",
        lines=[f"Tenant: **{label}**", *message.lines],
        footer=footer,
    )


class TenantNotifier:
    """Posts through `notifier`, naming `profile`'s tenant in every message; `fallback` says
    why a tenant with its own webhook is posted to the default one instead."""

    def __init__(
        self, notifier: Notifier, profile: TenantProfile, *, fallback: str | None = None
    ) -> None:
        self._notifier = notifier
        self.profile = profile
        self.fallback = fallback

    def post_message(self, message: Message) -> None:
        named = name_tenant(message, self.profile)
        if self.fallback:
            line = f"Sent to the default webhook: {self.fallback}"
            named = replace(named, lines=[*named.lines, line])
        self._notifier.post_message(named)
