"""The beta report: `GET {GRAPH_ENDPOINT}/beta/reports/getCredentialUserRegistrationCount`.

One request (application permission Reports.Read.All), retried within bounds by the Graph
client; the answer is validated whole by `shared.sources.beta.wire` before anything is stored.
"""

from __future__ import annotations

import logging
from datetime import datetime

from shared.sources.beta.wire import parse_report
from shared.sources.graph_client import GraphClient, graph_error, new_request_id, tenant_of
from shared.sources.port import Checkpoint, FetchedReport

log = logging.getLogger(__name__)

API = "beta/reports/getCredentialUserRegistrationCount"
PERMISSION = "Reports.Read.All"


class BetaSource:
    api = API
    permission = PERMISSION

    def __init__(self, graph: GraphClient) -> None:
        self._graph = graph

    def fetch(
        self, checkpoint: Checkpoint | None = None, *, deadline: datetime | None = None
    ) -> FetchedReport:
        """Fetch and validate the tenant's report (one request: no checkpoint, no deadline);
        raise CredentialError, GraphError or ReportFormatError."""
        if checkpoint is not None:
            # Only a paged source stops midway: a checkpoint from one (REPORT_SOURCE changed
            # while a pass was under way) means nothing here.
            log.warning("the beta report has no pass to resume: fetching it whole")
        token = self._graph.token()
        client_request_id = new_request_id()
        response, tries = self._graph.get(
            f"{self._graph.endpoint}/{API}",
            token=token,
            what="Graph report",
            client_request_id=client_request_id,
        )
        if response.status_code != 200:
            raise graph_error(response, tries, permission=PERMISSION)
        log.info(
            "Graph report received (HTTP 200, request-id %s, client-request-id %s)",
            response.headers.get("request-id"),
            client_request_id,
        )
        return FetchedReport(
            tenant_id=tenant_of(token), report=parse_report(response.content), api=API
        )
