"""One `userRegistrationDetails` record's fields, read as the v1.0 schema allows them (pure).

Null is judged by the v1.0 metadata (microsoftgraph/msgraph-metadata,
clean_v10_metadata/cleanMetadata.xml, EntityType userRegistrationDetails): a field without
`Nullable="false"` may be null; one with it may not, and a null there is refused. Every problem
raises ReportFormatError naming the field (`value[12].isMfaRegistered`).
"""

from __future__ import annotations

from typing import Any

from shared.core.report import kind_of
from shared.errors import ReportFormatError


def flag(record: dict[str, Any], name: str, path: str) -> bool:
    value = record.get(name)
    if value is True or value is False:
        return value
    problem = "missing" if name not in record else f"expected a boolean, got {kind_of(value)}"
    raise ReportFormatError(f"{path}.{name}", problem)


def present(record: dict[str, Any], name: str, path: str) -> Any:
    """The field's value (None for null); a field asked for and not sent is refused."""
    if name not in record:
        raise ReportFormatError(f"{path}.{name}", "missing")
    return record[name]


def nullable_flag(record: dict[str, Any], name: str, path: str) -> bool:
    value = present(record, name, path)
    if value is None:
        return False
    if value is True or value is False:
        return value
    raise ReportFormatError(f"{path}.{name}", f"expected a boolean or null, got {kind_of(value)}")


def nullable_string(record: dict[str, Any], name: str, path: str) -> str | None:
    value = present(record, name, path)
    if value is None or isinstance(value, str):
        return value
    raise ReportFormatError(f"{path}.{name}", f"expected a string or null, got {kind_of(value)}")


def string(record: dict[str, Any], name: str, path: str) -> str:
    value = record.get(name)
    if isinstance(value, str) and value:
        return value
    if name not in record:
        raise ReportFormatError(f"{path}.{name}", "missing")
    raise ReportFormatError(f"{path}.{name}", f"expected a non-empty string, got {kind_of(value)}")


def upn(record: dict[str, Any], path: str) -> str | None:
    """The UPN matches exclusions and names admins. The schema says it is never null, so a null
    is refused like any answer we do not understand; an empty one counts under the user id."""
    value = present(record, "userPrincipalName", path)
    if isinstance(value, str):
        return value or None
    problem = (
        "null, but the v1.0 schema says it is never null"
        if value is None
        else (f"expected a string, got {kind_of(value)}")
    )
    raise ReportFormatError(f"{path}.userPrincipalName", problem)
