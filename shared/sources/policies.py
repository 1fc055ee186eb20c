"""What the tenant enforces: security defaults and Conditional Access, read through Graph.

    GET {GRAPH_ENDPOINT}/v1.0/policies/identitySecurityDefaultsEnforcementPolicy
    GET {GRAPH_ENDPOINT}/v1.0/identity/conditionalAccess/policies   (and its @odata.nextLink)

Both need the application permission Policy.Read.All
(https://learn.microsoft.com/graph/api/identitysecuritydefaultsenforcementpolicy-get,
https://learn.microsoft.com/graph/api/conditionalaccessroot-list-policies). Security defaults
come first: when they are on, MFA is enforced whatever the policies say (and Entra does not let
a tenant use Conditional Access alongside them), so the list is not read: one request. Otherwise
two, plus one per further page of policies, each link checked to point at GRAPH_ENDPOINT before
the token goes there. Bodies are parsed by `shared.core.conditional_access`; the decision is the
use case's (`shared.core.enforcement.decide_enforcement`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from shared.core.conditional_access import Policy, parse_policies, parse_security_defaults
from shared.core.enforcement_status import ENFORCEMENT_PERMISSION
from shared.errors import GraphError
from shared.sources.graph_client import GraphClient, graph_error, new_request_id
from shared.sources.links import shown

log = logging.getLogger(__name__)

SECURITY_DEFAULTS_API = "v1.0/policies/identitySecurityDefaultsEnforcementPolicy"
POLICIES_API = "v1.0/identity/conditionalAccess/policies"
# Graph's codes for a token without the permission: `AccessDenied` on Conditional Access
# (as callers quote it: hugobatista/zerotrust-ca-powertoys#8), `Authorization_RequestDenied`
# on directory resources; 403 whatever the code.
_DENIED_CODES = frozenset({"AccessDenied", "Authorization_RequestDenied"})
# A tenant has at most a few hundred policies; a link chain longer than this is a loop.
MAX_POLICY_PAGES = 50


@dataclass(frozen=True)
class ConditionalAccess:
    """What the tenant enforces, as read: security defaults, and the policies when they are off."""

    security_defaults: bool
    policies: tuple[Policy, ...] = ()


def is_permission_missing(error: GraphError) -> bool:
    """Whether Graph refused for want of a permission (not: failed, throttled, unreachable)."""
    return error.status == 403 or error.code in _DENIED_CODES


class PolicyReader:
    """Reads security defaults and Conditional Access policies with the app's identity."""

    permission = ENFORCEMENT_PERMISSION

    def __init__(self, graph: GraphClient) -> None:
        self._graph = graph

    def get_conditional_access(self) -> ConditionalAccess:
        """Raise CredentialError, GraphError or ReportFormatError (naming the field)."""
        token = self._graph.token()
        request_id = new_request_id()
        body = self._get(
            f"{self._graph.endpoint}/{SECURITY_DEFAULTS_API}",
            token,
            request_id,
            "the security defaults request",
        )
        if parse_security_defaults(body):
            return ConditionalAccess(security_defaults=True)
        policies: list[Policy] = []
        link: str | None = f"{self._graph.endpoint}/{POLICIES_API}"
        for _ in range(MAX_POLICY_PAGES):
            assert link is not None
            page = parse_policies(
                self._get(link, token, request_id, "the Conditional Access policies request")
            )
            policies.extend(page.policies)
            link = page.next_link
            if link is None:
                log.info(
                    "security defaults are off; %d Conditional Access policies read",
                    len(policies),
                )
                return ConditionalAccess(security_defaults=False, policies=tuple(policies))
            if not self._graph.is_own(link):
                raise GraphError(
                    f"Graph's @odata.nextLink for the Conditional Access policies points at "
                    f"{shown(link)}, not at GRAPH_ENDPOINT ({self._graph.endpoint}): not followed, "
                    "so the token stays with Graph"
                )
        raise GraphError(
            f"the Conditional Access policies run past {MAX_POLICY_PAGES} pages of "
            "@odata.nextLink: not read further (a link that loops?)"
        )

    def _get(self, url: str, token: str, request_id: str, request: str) -> bytes:
        response, tries = self._graph.get(
            url, token=token, what=request, client_request_id=request_id
        )
        if response.status_code != 200:
            raise graph_error(response, tries, permission=self.permission, request=request)
        return response.content
