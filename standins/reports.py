"""Report bodies in every shape Graph is known to send, for tests and the local cycle."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

CONTEXT = "https://graph.microsoft.com/beta/$metadata#Collection(microsoft.graph.credentialUserRegistrationCount)"


def report(
    total: int | str, counts: Mapping[str, int | str], *, shape: str = "documented"
) -> dict[str, Any]:
    """A report body: `shape` picks how each item is spelt (see SHAPES)."""
    return {
        "@odata.context": CONTEXT,
        "value": [
            {
                "id": "d7c8a1e2-5f3b-4c6d-9e0a-1b2c3d4e5f60",
                "totalUserCount": total,
                "userRegistrationCounts": [SHAPES[shape](s, c) for s, c in counts.items()],
            }
        ],
    }


SHAPES = {
    # The reference page's response: registrationStatus / registrationCount.
    "documented": lambda s, c: {"registrationStatus": s, "registrationCount": c},
    # The published example's spelling, misspelt `userRegistationCount` included.
    "published-example": lambda s, c: {"userRegistrationStatus": s, "userRegistationCount": c},
    # Items that name their OData type.
    "typed": lambda s, c: {
        "@odata.type": "microsoft.graph.userRegistrationCount",
        "registrationStatus": s,
        "registrationCount": c,
    },
    # Int64 as JSON strings, as OData sends them under IEEE754Compatible=true.
    "int64-strings": lambda s, c: {"registrationStatus": s, "registrationCount": str(c)},
}

# A realistic mid-sized tenant: MFA registration lags behind the 95% default threshold.
REALISTIC_COUNTS = {"registered": 1180, "enabled": 1236, "capable": 1152, "mfaRegistered": 1104}
REALISTIC_TOTAL = 1250


def realistic_body() -> bytes:
    return json.dumps(report(REALISTIC_TOTAL, REALISTIC_COUNTS)).encode()
