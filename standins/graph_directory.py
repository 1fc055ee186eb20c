"""A loopback Microsoft Graph directory: service principals and their app role assignments.

Enough of `/v1.0/servicePrincipals` for the Graph-permission grant script: find Graph's own
service principal by appId, list a principal's app role assignments (paged like Graph, with an
absolute `@odata.nextLink`), and create one. Role ids are fresh GUIDs per instance, so a script
that hard-codes them fails. Every request is recorded in `requests` (see LoopbackServer).
"""

from __future__ import annotations

import base64
import secrets
import uuid
from dataclasses import dataclass, field
from typing import Any

from standins.graph import graph_error
from standins.loopback import LoopbackServer, Reply, Request

GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
REPORTS_READ_ALL = "Reports.Read.All"


def _assignment_id() -> str:
    """An appRoleAssignment id as Graph makes them: not a GUID, but 43 base64url characters
    (the response examples of POST /servicePrincipals/{id}/appRoleAssignments show such ids)."""
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")


def _role(value: str, *member_types: str) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "value": value,
        "allowedMemberTypes": list(member_types),
        "isEnabled": True,
    }


@dataclass
class Directory:
    graph_sp_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    graph_sp_present: bool = True
    app_roles: list[dict[str, Any]] = field(
        default_factory=lambda: [
            _role("User.Read.All", "Application"),
            _role(REPORTS_READ_ALL, "User"),  # a delegated twin, as a trap
            _role(REPORTS_READ_ALL, "Application"),
            _role("AuditLog.Read.All", "Application"),
            _role("Policy.Read.All", "Application"),
        ]
    )
    principals: set[str] = field(default_factory=set)
    assignments: list[dict[str, Any]] = field(default_factory=list)

    def application_role_id(self, value: str) -> str:
        """The id of Graph's Application role named `value` (not a delegated twin)."""
        return next(
            r["id"]
            for r in self.app_roles
            if r["value"] == value and "Application" in r["allowedMemberTypes"]
        )

    def assign(self, principal: str, role_value: str) -> dict[str, Any]:
        """Record an existing assignment of the Application role named `role_value`."""
        role = next(
            r
            for r in self.app_roles
            if r["value"] == role_value and "Application" in r["allowedMemberTypes"]
        )
        assignment = {
            "id": _assignment_id(),
            "principalId": principal,
            "resourceId": self.graph_sp_id,
            "appRoleId": role["id"],
        }
        self.assignments.append(assignment)
        return assignment


class GraphDirectoryStandIn(LoopbackServer):
    """Serves `directory`.

    - `deny`: methods answered with Graph's 403 Authorization_RequestDenied (an unprivileged
      caller: {"POST"} for one who may read but not grant, {"GET", "POST"} for neither);
    - `page_size`: assignments per page; later pages are linked by `@odata.nextLink`, built on
      `next_link_root` (this server's URL unless set, to test a link to another host);
    - `lagging_reads`: listings omit every assignment, as a replica that has not yet seen a
      recent grant would, while a POST still finds the duplicate.
    """

    def __init__(self) -> None:
        self.directory = Directory()
        self.deny: set[str] = set()
        self.page_size = 100
        self.next_link_root: str | None = None
        self.lagging_reads = False
        super().__init__(self._answer)

    @property
    def posts(self) -> list[Request]:
        return [r for r in self.requests if r.method == "POST"]

    def _answer(self, request: Request) -> Reply:
        if not request.headers.get("authorization", "").startswith("Bearer "):
            return graph_error(401, "InvalidAuthenticationToken", "Access token is empty.")
        if request.method in self.deny:
            return graph_error(
                403,
                "Authorization_RequestDenied",
                "Insufficient privileges to complete the operation.",
            )
        parts = request.path.strip("/").split("/")
        if parts == ["v1.0", "servicePrincipals"] and request.method == "GET":
            return self._find_graph(request)
        if len(parts) == 4 and parts[:2] == ["v1.0", "servicePrincipals"]:
            if parts[3] == "appRoleAssignments":
                return self._assignments(request, parts[2])
        return graph_error(
            400, "BadRequest", f"Unsupported request {request.method} {request.path}"
        )

    def _find_graph(self, request: Request) -> Reply:
        wanted = f"appId eq '{GRAPH_APP_ID}'"
        if request.query.get("$filter") != [wanted] or not self.directory.graph_sp_present:
            return Reply(200, {"value": []})
        sp = {
            "id": self.directory.graph_sp_id,
            "appId": GRAPH_APP_ID,
            "appRoles": self.directory.app_roles,
        }
        return Reply(200, {"value": [sp]})

    def _assignments(self, request: Request, principal: str) -> Reply:
        if principal not in self.directory.principals:
            return graph_error(
                404,
                "Request_ResourceNotFound",
                f"Resource '{principal}' does not exist or one of its queried reference-property"
                " objects are not present.",
            )
        mine = [a for a in self.directory.assignments if a["principalId"] == principal]
        if request.method == "GET":
            return self._page(principal, [] if self.lagging_reads else mine, request)
        if request.method != "POST":
            return graph_error(405, "Request_BadRequest", "Method not allowed.")
        body = request.json()
        if (
            set(body) != {"principalId", "resourceId", "appRoleId"}
            or body["principalId"] != principal
            or body["resourceId"] != self.directory.graph_sp_id
            or body["appRoleId"] not in {r["id"] for r in self.directory.app_roles}
            or request.headers.get("content-type") != "application/json"
        ):
            return graph_error(400, "Request_BadRequest", "Invalid app role assignment.")
        if any(a["appRoleId"] == body["appRoleId"] for a in mine):
            return graph_error(
                400,
                "Request_BadRequest",
                "Permission being assigned already exists on the object",
            )
        assignment = {"id": _assignment_id(), **body}
        self.directory.assignments.append(assignment)
        return Reply(201, assignment)

    def _page(self, principal: str, items: list[dict[str, Any]], request: Request) -> Reply:
        start = int(request.query.get("$skiptoken", ["0"])[0])
        end = start + self.page_size
        page: dict[str, Any] = {"value": items[start:end]}
        if end < len(items):
            root = self.next_link_root or self.url
            page["@odata.nextLink"] = (
                f"{root}/v1.0/servicePrincipals/{principal}/appRoleAssignments?$skiptoken={end}"
            )
        return Reply(200, page)
