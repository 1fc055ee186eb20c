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

and, for the `metric.population` statuses it is given (`mfaRegistered.admins`), the metric over
one population with that population's own total: admins are `isAdmin` true (null is not an
admin), guests `userType` "guest", members `userType` "member" or null. An admin is also a
member (or a guest); a `userType` Graph adds later (`unknownFutureValue`) is in neither.

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

from shared.core.report import POPULATIONS, Report, kind_of, metric_of, population_of
from shared.errors import ReportFormatError
from shared.sources.v1.fields import flag, nullable_flag, nullable_string, present, string
from shared.sources.v1.fields import upn as upn_of

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

_METRIC_INDEX = {metric: index for index, metric in enumerate(METRICS)}
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
    """Counters over the records seen so far. Feed pages with `add_page`, read with `summary`.

    `populations`: the `metric.population` statuses to count as well (each a metric of METRICS
    and one of POPULATIONS); their populations' totals are counted with them."""

    def __init__(self, scope: Scope, *, populations: Iterable[str] = ()) -> None:
        self.scope = scope
        self.populations = tuple(dict.fromkeys(populations))
        for status in self.populations:
            if metric_of(status) not in METRICS or population_of(status) not in POPULATIONS:
                raise ValueError(f"{status!r} is not a metric.population the tally counts")
        self.pages = 0
        self.records = 0  # every record read, counted or not
        self.total = 0
        self.counts = dict.fromkeys((*METRICS, *self.populations), 0)
        self.totals = dict.fromkeys(
            (p for p in POPULATIONS if any(population_of(s) == p for s in self.populations)), 0
        )
        # Per population, the (metric index, status) pairs to count: see _count_populations.
        self._by_population = {
            population: tuple(
                (_METRIC_INDEX[metric_of(s)], s)
                for s in self.populations
                if population_of(s) == population
            )
            for population in self.totals
        }

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
            user_id = string(record, "id", path)
            upn = upn_of(record, path)
            user_type = nullable_string(record, "userType", path)
            is_admin = nullable_flag(record, "isAdmin", path)
            flags = [flag(record, name, path) for name, _ in _FLAG_METRICS]
            methods = present(record, "methodsRegistered", path)
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
            phishing_resistant = not PHISHING_RESISTANT_METHODS.isdisjoint(methods)
            if phishing_resistant:
                counts["phishingResistant"] += 1
            admin_without_mfa = is_admin and not flags[3]  # isMfaRegistered
            if admin_without_mfa:
                counts["adminsWithoutMfa"] += 1
            if self._by_population:
                values = (*flags, phishing_resistant, admin_without_mfa)
                self._count_populations(is_admin, user_type, values)

    def _count_populations(
        self, is_admin: bool, user_type: str | None, values: tuple[bool, ...]
    ) -> None:
        """Count one user in each population it belongs to; `values` are its METRICS in order."""
        member = user_type is None or user_type == "member"
        for population, wanted in self._by_population.items():
            if population == "admins":
                inside = is_admin
            elif population == "guests":
                inside = user_type == "guest"
            else:
                inside = member
            if not inside:
                continue
            self.totals[population] += 1
            for index, status in wanted:
                if values[index]:
                    self.counts[status] += 1

    def summary(self) -> Summary:
        return Summary(
            report=Report(
                report_id=None,
                total_users=self.total,
                counts=dict(self.counts),
                totals=dict(self.totals),
            ),
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
            # Absent when no population is counted: checkpoints of earlier versions stay valid.
            **({"totals": dict(self.totals)} if self.totals else {}),
        }

    @classmethod
    def from_json(
        cls,
        data: Mapping[str, Any],
        scope: Scope,
        *,
        populations: Iterable[str] = (),
    ) -> Tally:
        """Rebuild a partial aggregate; ValueError if it is malformed or was counted under
        another scope or other populations (then the pass must start over)."""
        if not isinstance(data, Mapping) or data.get("v") != _TALLY_VERSION:
            raise ValueError("not a registration tally of this version")
        if data.get("scope") != scope.fingerprint():
            raise ValueError("the tally was counted with other guest or exclusion settings")
        tally = cls(scope, populations=populations)
        counts = data.get("counts")
        if not isinstance(counts, Mapping) or set(counts) != set(tally.counts):
            raise ValueError("the tally's counts are not the expected metrics and populations")
        totals = data.get("totals", {})
        if not isinstance(totals, Mapping) or set(totals) != set(tally.totals):
            raise ValueError("the tally's population totals are not the expected populations")
        tally.pages = _number(data.get("pages"))
        tally.records = _number(data.get("records"))
        tally.total = _number(data.get("total"))
        tally.counts = {status: _number(counts[status]) for status in tally.counts}
        tally.totals = {population: _number(totals[population]) for population in tally.totals}
        if any(count > tally.total for count in tally.counts.values()) or any(
            count > tally.total for count in tally.totals.values()
        ):
            raise ValueError("the tally counts more users in a metric than in total")
        if any(tally.counts[s] > tally.totals[population_of(s) or ""] for s in tally.populations):
            raise ValueError("the tally counts more users in a population's metric than in it")
        return tally


def _number(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"the tally holds a bad number: {value!r}")
    return value
