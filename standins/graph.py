"""A loopback Microsoft Graph that serves the registration report (or scripted failures)."""

from __future__ import annotations

from standins.loopback import LoopbackServer, Reply, Request, Script
from standins.reports import realistic_body

REPORT_PATH = "/beta/reports/getCredentialUserRegistrationCount"


def graph_error(status: int, code: str, message: str, **headers: str) -> Reply:
    """An error the way Graph sends one, with its request-id header."""
    body = {
        "error": {"code": code, "message": message, "innerError": {"request-id": "req-" + code}}
    }
    return Reply(status, body, {"request-id": f"req-{status}-{code}", **headers})


class GraphStandIn(LoopbackServer):
    """Answers the report path with `report_body` unless a scripted reply comes first.

    Requests without a bearer token get Graph's 401; other paths get 404.
    """

    def __init__(self, report_body: bytes | None = None) -> None:
        self.report_body = report_body if report_body is not None else realistic_body()
        self.script = Script(self._default)
        super().__init__(self.script)

    def _default(self, request: Request) -> Reply:
        if not request.headers.get("authorization", "").startswith("Bearer "):
            return graph_error(401, "InvalidAuthenticationToken", "Access token is empty.")
        if request.path != REPORT_PATH:
            return graph_error(404, "Request_ResourceNotFound", "Resource not found.")
        return Reply(
            200,
            self.report_body,
            {"Content-Type": "application/json", "request-id": "req-report-ok"},
        )

    @property
    def report_requests(self) -> list[Request]:
        return [r for r in self.requests if r.path == REPORT_PATH]
