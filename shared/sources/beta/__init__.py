"""The beta `getCredentialUserRegistrationCount` report: its wire format and its source."""

from shared.sources.beta.source import API, PERMISSION, BetaSource
from shared.sources.beta.wire import parse_report

__all__ = ["API", "PERMISSION", "BetaSource", "parse_report"]
