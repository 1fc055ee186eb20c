"""The v1.0 `userRegistrationDetails` report: the tally (pure), pacing, paging, `$count`, and
the few admins without MFA a card may name (admins)."""

from shared.sources.v1.source import API, PERMISSION, V1Source, metrics_to_count
from shared.sources.v1.tally import Scope

__all__ = ["API", "PERMISSION", "Scope", "V1Source", "metrics_to_count"]
