"""A loopback Teams Workflows webhook: answers 202 with an empty body, like the real one."""

from __future__ import annotations

from typing import Any

from standins.loopback import LoopbackServer, Reply, Script

WEBHOOK_PATH = "/workflows/7f3e0c1d/triggers/manual/paths/invoke"
# A signature that is obviously fake, and easy to search for in captured logs.
WEBHOOK_SIG = "FAKE.sig.for.loopback.tests"
WEBHOOK_QUERY = f"api-version=1&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig={WEBHOOK_SIG}"


class TeamsStandIn(LoopbackServer):
    def __init__(self) -> None:
        self.script = Script(lambda request: Reply(202))
        super().__init__(self.script)

    @property
    def webhook_url(self) -> str:
        return f"{self.url}{WEBHOOK_PATH}?{WEBHOOK_QUERY}"

    @property
    def cards(self) -> list[dict[str, Any]]:
        """The Adaptive Cards of every post received (whatever was answered)."""
        return [r.json()["attachments"][0]["content"] for r in self.requests]
