"""Aggregate Graph v1.0 `userRegistrationDetails` records into a Report (pure: no I/O).

`GET /v1.0/reports/authenticationMethods/userRegistrationDetails` answers one record per user
(https://learn.microsoft.com/graph/api/resources/userregistrationdetails), paged. This module
turns pages of records into the counts the beta report used to give, plus a few it never had:

    registered           isSsprRegistered        (the beta report's names, kept)
    enabled              isSsprEnabled
    capable              isSsprCapable
    mfaRegistered        isMfaRegistered
    mfaCapable           isMfaCapable
    passwordlessCapable  isPasswordlessCapable
    phishingResistant    at least one phishing-resistant method in methodsRegistered
    adminsWithoutMfa     isAdmin and not isMfaRegistered

A `Tally` is fed one page at a time and holds only counters, never the records, and no user
names or ids, so memory does not grow with the tenant and nothing about a user can reach a
checkpoint (a queue message). A card that names admins without MFA asks Graph for them when it
is about to post (`shared.sources.v1.admins`).

Every record is validated: a missing field or a wrong type raises ReportFormatError naming it
(`value[12].isMfaRegistered`), so that nothing is counted from an answer we do not understand.
Null is judged by the v1.0 metadata (microsoftgraph/msgraph-metadata,
clean_v10_metadata/cleanMetadata.xml, EntityType userRegistrationDetails): `isAdmin`,
`methodsRegistered` and `userType` carry no `Nullable="false"`, so null is a value Graph may
send, and real tenants do for `userType`. A null `isAdmin` is not an admin, a null
`methodsRegistered` has no methods, a null `userType` counts in the total (and as a member when
guests are left out). The six flags, `id` and `userPrincipalName` are `Nullable="false"`: a null
there is refused, naming the field.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from shared.core.report import Report, kind_of
from shared.errors import ReportFormatError

# The record's boolean fields and the metric each one counts.
_FLAG_METRICS = (
    ("isSsprRegistered", "registered"),
    ("isSsprEnabled", "enabled"),
    ("isSsprCapable", "capable"),
    ("isMfaRegistered", "mfaRegistered"),
    ("isMfaCapable", "mfaCapable"),
    ("isPasswordlessCapable", "passwordlessCapable"),
)

METRICS: tuple[str, ...] = (
    *(metric for _, metric in _FLAG_METRICS),
    "phishingResistant",
    "adminsWithoutMfa",
)

# What `$select` asks for: exactly the fields read below.
SELECT_FIELDS: tuple[str, ...] = (
    "id",
    "userPrincipalName",
    "userType",
    "isAdmin",
    *(flag for flag, _ in _FLAG_METRICS),
    "methodsRegistered",
)

# methodsRegistered values that are phishing-resistant. Graph documents the values in the
# evolvable enum `usageAuthMethod` ("the authentication method used for user credential and
# registration activity": https://learn.microsoft.com/graph/api/resources/usageauthmethod
# ?view=graph-rest-beta): FIDO2 security keys, passkeys (device-bound, in Microsoft
# Authenticator, in Windows Hello, synced: Microsoft says to treat synced passkeys as phishing
# resistant), Windows Hello for Business, the macOS Platform SSO secure-enclave key, and the
# legacy `fido`; `fido2` is the spelling the v1.0 resource page's example uses
# (https://learn.microsoft.com/graph/api/resources/userregistrationdetails). Certificate-based
# authentication has no member there: `x509CertificateMultiFactor` is an authentication-strength
# combination, not a methodsRegistered value, so it is not listed. A value Graph adds later is
# simply counted nowhere: it never fails a pass.
PHISHING_RESISTANT_METHODS = frozenset(
    {
        "fido",
        "fido2",
        "fido2SecurityKey",
        "passKeyDeviceBound",
        "passKeyDeviceBoundAuthenticator",
        "passKeyDeviceBoundWindowsHello",
        "passKeySynced",
        "windowsHelloForBusiness",
        "macOsSecureEnclaveKey",
    }
)

_TALLY_VERSION = 1


@dataclass(frozen=True)
class Scope:
    """Which users count. Guests count unless `include_guests` is False; `exclude_users` (object
    ids or UPNs, any case) are left out of every metric, the total included."""

    include_guests: bool = True
    exclude_users: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def of(cls, *, include_guests: bool = True, exclude_users: Iterable[str] = ()) -> Scope:
        return cls(include_guests, frozenset(u.strip().lower() for u in exclude_users if u))

    def counts(self, user_id: str, upn: str | None, user_type: str | None) -> bool:
        """Whether this user is counted: the one rule the pass and the admins lookup share."""
        if not self.include_guests and user_type == "guest":  # a null userType is a member
            return False
        excluded = self.exclude_users
        return not (excluded and (user_id.lower() in excluded or (upn or "").lower() in excluded))

    def fingerprint(self) -> dict[str, Any]:
        """What a checkpoint records of the scope: a resumed pass must count the same users.
        The exclusions are hashed: UPNs have no business in a queue message."""
        joined = "\n".join(sorted(self.exclude_users)).encode()
        return {"guests": self.include_guests, "excluded": hashlib.sha256(joined).hexdigest()[:16]}


@dataclass(frozen=True)
class Summary:
    """The aggregate: a Report like the beta one."""

    report: Report


class Tally:
    """Counters over the records seen so far. Feed pages with `add_page`, read with `summary`."""

    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        self.pages = 0
        self.records = 0  # every record read, counted or not
        self.total = 0
        self.counts = dict.fromkeys(METRICS, 0)

    def add_page(self, records: Any) -> None:
        """Count one page's `value`; raise ReportFormatError (naming the field) on a bad record,
        in which case the tally must be thrown away (part of the page may be counted)."""
        if not isinstance(records, list):
            raise ReportFormatError("value", f"expected a list, got {kind_of(records)}")
        self.pages += 1
        scope = self.scope
        counts = self.counts
        for index, record in enumerate(records):
            self.records += 1
            path = f"value[{index}]"
            if not isinstance(record, dict):
                raise ReportFormatError(path, f"expected an object, got {kind_of(record)}")
            user_id = _string(record, "id", path)
            upn = _upn(record, path)
            user_type = _nullable_string(record, "userType", path)
            is_admin = _nullable_flag(record, "isAdmin", path)
            flags = [_flag(record, name, path) for name, _ in _FLAG_METRICS]
            methods = _present(record, "methodsRegistered", path)
            if methods is None:
                methods = []
            if not isinstance(methods, list):
                raise ReportFormatError(
                    f"{path}.methodsRegistered", f"expected a list, got {kind_of(methods)}"
                )
            for position, method in enumerate(methods):
                if not isinstance(method, str):
                    raise ReportFormatError(
                        f"{path}.methodsRegistered[{position}]",
                        f"expected a string, got {kind_of(method)}",
                    )
            if not scope.counts(user_id, upn, user_type):
                continue
            self.total += 1
            for (_, metric), value in zip(_FLAG_METRICS, flags, strict=True):
                if value:
                    counts[metric] += 1
            if not PHISHING_RESISTANT_METHODS.isdisjoint(methods):
                counts["phishingResistant"] += 1
            if is_admin and not flags[3]:  # isMfaRegistered
                counts["adminsWithoutMfa"] += 1

    def summary(self) -> Summary:
        return Summary(
            report=Report(report_id=None, total_users=self.total, counts=dict(self.counts)),
        )

    def to_json(self) -> dict[str, Any]:
        """The partial aggregate for a checkpoint: counters and the scope's fingerprint only."""
        return {
            "v": _TALLY_VERSION,
            "scope": self.scope.fingerprint(),
            "pages": self.pages,
            "records": self.records,
            "total": self.total,
            "counts": dict(self.counts),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any], scope: Scope) -> Tally:
        """Rebuild a partial aggregate; ValueError if it is malformed or was counted under
        another scope (then the pass must start over)."""
        if not isinstance(data, Mapping) or data.get("v") != _TALLY_VERSION:
            raise ValueError("not a registration tally of this version")
        if data.get("scope") != scope.fingerprint():
            raise ValueError("the tally was counted with other guest or exclusion settings")
        counts = data.get("counts")
        if not isinstance(counts, Mapping) or set(counts) != set(METRICS):
            raise ValueError("the tally's counts are not the expected metrics")
        tally = cls(scope)
        tally.pages = _number(data.get("pages"))
        tally.records = _number(data.get("records"))
        tally.total = _number(data.get("total"))
        tally.counts = {metric: _number(counts[metric]) for metric in METRICS}
        if any(count > tally.total for count in tally.counts.values()):
            raise ValueError("the tally counts more users in a metric than in total")
        return tally


def _number(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"the tally holds a bad number: {value!r}")
    return value


def _flag(record: dict[str, Any], name: str, path: str) -> bool:
    value = record.get(name)
    if value is True or value is False:
        return value
    problem = "missing" if name not in record else f"expected a boolean, got {kind_of(value)}"
    raise ReportFormatError(f"{path}.{name}", problem)


def _present(record: dict[str, Any], name: str, path: str) -> Any:
    """The field's value (None for null); a field asked for and not sent is refused."""
    if name not in record:
        raise ReportFormatError(f"{path}.{name}", "missing")
    return record[name]


def _nullable_flag(record: dict[str, Any], name: str, path: str) -> bool:
    value = _present(record, name, path)
    if value is None:
        return False
    if value is True or value is False:
        return value
    raise ReportFormatError(f"{path}.{name}", f"expected a boolean or null, got {kind_of(value)}")


def _nullable_string(record: dict[str, Any], name: str, path: str) -> str | None:
    value = _present(record, name, path)
    if value is None or isinstance(value, str):
        return value
    raise ReportFormatError(f"{path}.{name}", f"expected a string or null, got {kind_of(value)}")


def _string(record: dict[str, Any], name: str, path: str) -> str:
    value = record.get(name)
    if isinstance(value, str) and value:
        return value
    if name not in record:
        raise ReportFormatError(f"{path}.{name}", "missing")
    raise ReportFormatError(f"{path}.{name}", f"expected a non-empty string, got {kind_of(value)}")


def _upn(record: dict[str, Any], path: str) -> str | None:
    """The UPN matches exclusions and names admins. The schema says it is never null, so a null
    is refused like any answer we do not understand; an empty one counts under the user id."""
    value = _present(record, "userPrincipalName", path)
    if isinstance(value, str):
        return value or None
    problem = (
        "null, but the v1.0 schema says it is never null"
        if value is None
        else (f"expected a string, got {kind_of(value)}")
    )
    raise ReportFormatError(f"{path}.userPrincipalName", problem)
