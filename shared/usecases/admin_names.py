"""ALERT_NAME_ADMINS=true: ask Graph for a few admins without MFA when a card is about to name them.

No name is ever at rest: the pass counts admins without MFA without keeping who they are, so
nothing in a table, a queue message or a poison queue names a user. A check that is about to
post a card firing or reminding about `adminsWithoutMfa` asks Graph for a handful of them
(`V1Source.list_admins_without_mfa`, through the composition root's `admin_lookup`), at most
once per check however often `announce` decides again, and puts them in that card only.

A lookup that fails never silences the alert: the card goes out without names, saying they
could not be listed and why.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from shared.core.alerting import Event
from shared.errors import CredentialError, GraphError, ReportFormatError
from shared.messages.coverage import admins_to_name

log = logging.getLogger(__name__)

# How many admins without MFA a card may name (ALERT_NAME_ADMINS=true).
ADMIN_NAMES = 5
# A few admins without MFA, by UPN; raise CredentialError, GraphError or ReportFormatError.
AdminLookup = Callable[[], tuple[str, ...]]


@dataclass(frozen=True)
class Named:
    """What a card says of the admins: their names, or why they could not be listed."""

    names: tuple[str, ...] = ()
    problem: str | None = None


class AdminNames:
    """The names for one check's card, looked up once, and only if the card names admins."""

    def __init__(self, lookup: AdminLookup | None) -> None:
        self._lookup = lookup
        self._named: Named | None = None

    def for_card(self, events: Sequence[Event]) -> Named:
        if self._lookup is None or admins_to_name(events) is None:
            return Named()
        if self._named is None:
            try:
                self._named = Named(self._lookup())
            except (CredentialError, GraphError, ReportFormatError) as exc:
                log.error(
                    "could not list the admins without MFA; the card goes out without names: %s",
                    exc,
                )
                self._named = Named(problem=f"{type(exc).__name__}: {exc}")
        return self._named
