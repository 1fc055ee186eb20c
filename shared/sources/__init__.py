"""The report sources: one port, the Graph client they share, one folder per source.

port.py          ReportSource (fetch → FetchedReport | Checkpoint), FetchedReport, Checkpoint
graph_client.py  the one Graph client: token, retries, no redirects, origin check, errors
links.py         the links Graph hands back: parsed, compared by origin, shown origin-only
beta/            getCredentialUserRegistrationCount: URL, wire parsing, BetaSource
v1/              userRegistrationDetails: tally (pure), pacing, paging, $count, V1Source
auto.py          AutoSource: beta until Graph says it is gone, then v1.0 for good
policies.py      PolicyReader: security defaults and Conditional Access (CHECK_ENFORCEMENT)
"""

from shared.sources.port import Checkpoint, FetchedReport, ReportSource

__all__ = ["Checkpoint", "FetchedReport", "ReportSource"]
