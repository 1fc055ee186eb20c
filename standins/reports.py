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


# Microsoft's published examples, byte for byte (whitespace included), so that the parser is
# tested on exactly what the documentation shows. All show a count above the total.
# https://learn.microsoft.com/graph/api/reportroot-getcredentialuserregistrationcount?view=graph-rest-beta
# (the response example as published today: one misspelt item, `"id" : "id-value"`, and the
# trailing space after `"registered",`, written `\n` below so no editor strips it;
# microsoftgraph/microsoft-graph-docs-contrib,
# api-reference/beta/api/reportroot-getcredentialuserregistrationcount.md).
PUBLISHED_API_EXAMPLE = b"""{
  "@odata.context":"https://graph.microsoft.com/beta/reports/$metadata#Collection(microsoft.graph.credentialUserRegistrationCount)",
  "value": [
    {
      "id" : "id-value",
      "totalUserCount" : 23123,
      "userRegistrationCounts" :
      [
        { "userRegistrationStatus":"registered", \n          "userRegistationCount": 23423 }
      ]
    }
  ]
}"""
# The same page's earlier revision: four statuses and a GUID id.
EARLIER_API_EXAMPLE = b"""{
  "@odata.context":"https://graph.microsoft.com/beta/reports/$metadata#Collection(microsoft.graph.credentialUserRegistrationCount)",
  "value": [
    {
      "id" : "d3590ed6-52b3-4102-aeff-aad2292ab01234",
      "totalUserCount" : 23123,
      "userRegistrationCounts" :
      [
        { "userRegistrationStatus":"registered", "userRegistationCount": 23423 },
        { "userRegistrationStatus":"enabled", "userRegistationCount": 4234 },
        { "userRegistrationStatus":"capable", "userRegistationCount": 323 },
        { "userRegistrationStatus":"mfaRegistered", "userRegistationCount": 33 }
      ]
    }
  ]
}"""
# https://learn.microsoft.com/graph/api/resources/credentialuserregistrationcount (JSON
# representation of one item; Graph sends it inside the collection, as wrapped below).
PUBLISHED_RESOURCE_EXAMPLE = b"""{
  "id" : "String",
  "totalUserCount" : 23123,
  "userRegistrationCounts" :
  [
    { "registrationStatus":"registered", "registrationCount": 23423 },
    { "registrationStatus":"enabled", "registrationCount": 4234 },
    { "registrationStatus":"capable", "registrationCount": 323 },
    { "registrationStatus":"mfaRegistered", "registrationCount": 33 }
  ]
}"""
PUBLISHED_RESOURCE_IN_COLLECTION = (
    b'{"@odata.context":"' + CONTEXT.encode() + b'","value":[' + PUBLISHED_RESOURCE_EXAMPLE + b"]}"
)
PUBLISHED_COUNTS = {"registered": 23423, "enabled": 4234, "capable": 323, "mfaRegistered": 33}
