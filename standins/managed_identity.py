"""A loopback managed-identity endpoint speaking the App Service protocol.

azure-identity uses this protocol when IDENTITY_ENDPOINT and IDENTITY_HEADER are set: a GET
with `api-version=2019-08-01&resource=...` (and `client_id=` for a user-assigned identity) and
the header `X-IDENTITY-HEADER`. Tokens are JWT-shaped (unsigned) and carry a `tid` claim.
"""

from __future__ import annotations

import base64
import json
import secrets
import time

from standins.loopback import LoopbackServer, Reply, Request, Script

TENANT_ID = "6f1c3b2a-9d4e-4e8f-a1b2-c3d4e5f6a7b8"


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


class ManagedIdentityStandIn(LoopbackServer):
    def __init__(self, tenant_id: str = TENANT_ID) -> None:
        self.tenant_id = tenant_id
        self.identity_header = "idh-" + secrets.token_hex(16)
        self.tokens_issued: list[str] = []
        self.script = Script(self._default)
        super().__init__(self.script)

    @property
    def environ(self) -> dict[str, str]:
        return {
            "IDENTITY_ENDPOINT": self.url + "/msi/token",
            "IDENTITY_HEADER": self.identity_header,
        }

    def _default(self, request: Request) -> Reply:
        if request.headers.get("x-identity-header") != self.identity_header:
            return Reply(400, {"error": "invalid_request", "error_description": "bad header"})
        resource = request.query.get("resource", [""])[0]
        expires_on = int(time.time()) + 3600
        claims = {"tid": self.tenant_id, "aud": resource, "exp": expires_on}
        client_id = request.query.get("client_id", [None])[0]
        if client_id:
            claims["appid"] = client_id
        token = f"{_b64({'typ': 'JWT', 'alg': 'none'})}.{_b64(claims)}.{secrets.token_hex(24)}"
        self.tokens_issued.append(token)
        return Reply(
            200,
            {
                "access_token": token,
                "expires_on": str(expires_on),
                "resource": resource,
                "token_type": "Bearer",
                "client_id": client_id or "system-assigned",
            },
        )
