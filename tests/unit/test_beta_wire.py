"""Parsing Graph's report: every shape it is sent in, every way it can be wrong (pure)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.core.report import INT64_MAX
from shared.errors import ReportFormatError
from shared.sources.beta import parse_report
from standins.reports import (
    EARLIER_API_EXAMPLE,
    PUBLISHED_API_EXAMPLE,
    PUBLISHED_COUNTS,
    PUBLISHED_RESOURCE_IN_COLLECTION,
    SHAPES,
    report,
)

COUNTS = {"registered": 23, "enabled": 40, "capable": 21, "mfaRegistered": 33}


def body(payload: Any) -> bytes:
    return json.dumps(payload).encode()


def rejected_field(payload: Any) -> str:
    with pytest.raises(ReportFormatError) as failure:
        parse_report(body(payload))
    return failure.value.field


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_every_documented_shape_gives_the_same_counts_as_integers(shape: str) -> None:
    parsed = parse_report(body(report(50, COUNTS, shape=shape)))

    assert parsed.total_users == 50
    assert dict(parsed.counts) == COUNTS
    assert all(type(count) is int for count in parsed.counts.values())
    assert parsed.report_id == "d7c8a1e2-5f3b-4c6d-9e0a-1b2c3d4e5f60"


@pytest.mark.parametrize(
    ("published", "report_id"),
    [
        (EARLIER_API_EXAMPLE, "d3590ed6-52b3-4102-aeff-aad2292ab01234"),
        (PUBLISHED_RESOURCE_IN_COLLECTION, "String"),
    ],
    ids=["api-page-misspelt", "resource-page"],
)
def test_microsoft_s_published_examples_are_accepted_byte_for_byte(
    published: bytes, report_id: str
) -> None:
    # Both spellings, untouched, with `registered` 23423 above the total of 23123.
    parsed = parse_report(published)

    assert parsed.total_users == 23123
    assert dict(parsed.counts) == PUBLISHED_COUNTS
    assert parsed.report_id == report_id


def test_today_s_published_api_example_is_accepted_byte_for_byte() -> None:
    parsed = parse_report(PUBLISHED_API_EXAMPLE)

    assert (parsed.report_id, parsed.total_users) == ("id-value", 23123)
    assert dict(parsed.counts) == {"registered": 23423}


def test_a_total_sent_as_a_string_is_a_number() -> None:
    assert parse_report(body(report("23123", {"registered": "23123"}))).total_users == 23123


def test_statuses_graph_adds_later_are_kept_in_the_order_sent() -> None:
    parsed = parse_report(body(report(10, {"passkeyCapable": 3, "mfaRegistered": 9})))

    assert list(parsed.counts) == ["passkeyCapable", "mfaRegistered"]


def test_a_tenant_of_zero_users_is_a_valid_report() -> None:
    parsed = parse_report(body(report(0, {"mfaRegistered": 0})))

    assert (parsed.total_users, dict(parsed.counts)) == (0, {"mfaRegistered": 0})


def test_a_count_equal_to_the_total_is_accepted() -> None:
    assert parse_report(body(report(7, {"capable": 7}))).counts["capable"] == 7


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (b"<html><body>Service Unavailable</body></html>", "body"),
        (b"", "body"),
        (b"\xff\xfe not utf-8", "body"),
        (b"[1, 2]", "body"),
        (b"[" * 100_000, "body"),
    ],
)
def test_bodies_that_are_not_a_json_object_are_rejected(raw: bytes, field: str) -> None:
    with pytest.raises(ReportFormatError) as failure:
        parse_report(raw)

    assert failure.value.field == field
    assert "nothing stored" in str(failure.value)


def test_html_is_quoted_in_the_error_so_the_log_shows_what_arrived() -> None:
    with pytest.raises(ReportFormatError, match="<html>"):
        parse_report(b"<html>Sign in</html>")


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"error": {"code": "x"}}, "value"),
        ({"value": {"totalUserCount": 1}}, "value"),
        ({"value": [1]}, "value[0]"),
        ({"value": [{"userRegistrationCounts": []}]}, "value[0].totalUserCount"),
        ({"value": [{"totalUserCount": 1}]}, "value[0].userRegistrationCounts"),
        ({"value": [{"totalUserCount": 1, "userRegistrationCounts": {}}]},
         "value[0].userRegistrationCounts"),
        ({"value": [{"id": 5, "totalUserCount": 1, "userRegistrationCounts": []}]}, "value[0].id"),
    ],
)  # fmt: skip
def test_a_misshapen_collection_is_rejected_naming_the_field(payload: Any, field: str) -> None:
    assert rejected_field(payload) == field


@pytest.mark.parametrize(
    "total", [None, "many", "12.5", 12.5, True, -1, "-1", INT64_MAX + 1, "1" * 20, [1]]
)
def test_a_total_that_is_not_a_non_negative_int64_is_rejected(total: Any) -> None:
    assert rejected_field(report(total, {})) == "value[0].totalUserCount"


@pytest.mark.parametrize("count", [None, "lots", "3.0", 3.5, False, -2, "-2", {"n": 1}])
def test_a_count_that_is_not_a_non_negative_whole_number_is_rejected(count: Any) -> None:
    field = rejected_field(report(10, {"mfaRegistered": count}))

    assert field == "value[0].userRegistrationCounts[0].registrationCount"


def test_a_count_above_the_total_is_real_data_and_kept_as_it_is() -> None:
    # The total counts enabled users only; Microsoft's example has registered 23423 of 23123.
    parsed = parse_report(body(report(10, {"registered": 5, "mfaRegistered": 11})))

    assert dict(parsed.counts) == {"registered": 5, "mfaRegistered": 11}
    assert parsed.total_users == 10


@pytest.mark.parametrize(
    ("item", "field"),
    [
        ({"registrationCount": 1}, "registrationStatus"),
        ({"registrationStatus": "mfaRegistered"}, "registrationCount"),
        ({"registrationStatus": "", "registrationCount": 1}, "registrationStatus"),
        ({"registrationStatus": "has space", "registrationCount": 1}, "registrationStatus"),
        ({"registrationStatus": 7, "registrationCount": 1}, "registrationStatus"),
        (
            {"registrationStatus": "a", "userRegistrationStatus": "b", "registrationCount": 1},
            "userRegistrationStatus",
        ),
    ],
)
def test_a_malformed_item_is_rejected_naming_its_index_and_field(item: Any, field: str) -> None:
    payload = {"value": [{"totalUserCount": 5, "userRegistrationCounts": [item]}]}

    assert rejected_field(payload) == f"value[0].userRegistrationCounts[0].{field}"


def test_an_item_that_is_not_an_object_is_rejected() -> None:
    payload = {"value": [{"totalUserCount": 5, "userRegistrationCounts": ["mfaRegistered"]}]}

    assert rejected_field(payload) == "value[0].userRegistrationCounts[0]"


def test_the_same_status_twice_is_rejected() -> None:
    item = {"registrationStatus": "capable", "registrationCount": 1}
    payload = {"value": [{"totalUserCount": 5, "userRegistrationCounts": [item, item]}]}

    assert rejected_field(payload) == "value[0].userRegistrationCounts[1].registrationStatus"


def test_more_than_one_report_in_the_collection_is_rejected() -> None:
    one = report(5, COUNTS)["value"][0]

    assert rejected_field({"value": [one, one]}) == "value"


# Property-based: whatever arrives, the parser answers with a report or with its own error.

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=25), children, max_size=4)
    ),
    max_leaves=20,
)
field_names = st.sampled_from(
    ["id", "value", "totalUserCount", "userRegistrationCounts", "registrationStatus",
     "registrationCount", "userRegistrationStatus", "userRegistationCount", "@odata.type"]
)  # fmt: skip
report_like = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12) | st.floats(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(field_names, children, max_size=5)
    ),
    max_leaves=30,
)


def parses_or_rejects(raw: bytes | str) -> None:
    try:
        parse_report(raw)
    except ReportFormatError:
        pass


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200) | st.text(max_size=200))
def test_arbitrary_bytes_raise_nothing_but_a_report_error(raw: bytes | str) -> None:
    parses_or_rejects(raw)


@settings(max_examples=300, deadline=None)
@given(json_values | report_like)
def test_arbitrary_json_raises_nothing_but_a_report_error(payload: Any) -> None:
    parses_or_rejects(json.dumps(payload))


statuses = st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,30}", fullmatch=True)
counts_or_junk = st.integers(0, 10**6) | st.integers(0, 10**6).map(str) | report_like
almost_items = st.fixed_dictionaries(
    {},
    optional={
        "registrationStatus": statuses | report_like,
        "registrationCount": counts_or_junk,
        "userRegistrationStatus": statuses | report_like,
        "userRegistationCount": counts_or_junk,
        "@odata.type": st.just("microsoft.graph.userRegistrationCount"),
    },
)
almost_reports = st.fixed_dictionaries(
    {},
    optional={
        "id": st.text(max_size=10) | report_like,
        "totalUserCount": counts_or_junk,
        "userRegistrationCounts": st.lists(almost_items | report_like, max_size=5) | report_like,
    },
)


@settings(max_examples=500, deadline=None)
@given(almost_reports)
def test_nearly_valid_reports_raise_nothing_but_a_report_error(item: dict[str, Any]) -> None:
    parses_or_rejects(json.dumps({"value": [item]}))


@st.composite
def valid_reports(draw: st.DrawFn) -> tuple[int, dict[str, int], str, bool]:
    total = draw(st.integers(min_value=0, max_value=INT64_MAX))
    counts = draw(st.dictionaries(statuses, st.integers(0, total), max_size=8))
    return total, counts, draw(st.sampled_from(sorted(SHAPES))), draw(st.booleans())


@settings(max_examples=300, deadline=None)
@given(valid_reports())
def test_any_valid_report_parses_back_to_its_numbers(
    case: tuple[int, dict[str, int], str, bool],
) -> None:
    total, counts, shape, total_as_string = case
    payload = report(str(total) if total_as_string else total, counts, shape=shape)

    parsed = parse_report(json.dumps(payload))

    assert parsed.total_users == total
    assert dict(parsed.counts) == counts


# More shapes and edges: the spellings mixed, numbers as strings, what the parser will not take.


def items_report(total: Any, *items: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"value": [{"totalUserCount": total, "userRegistrationCounts": list(items), **extra}]}


def test_counts_sent_as_strings_are_numbers() -> None:
    item = {"registrationStatus": "mfaRegistered", "registrationCount": "0033"}

    parsed = parse_report(body(items_report("23123", item)))

    assert parsed.total_users == 23123
    assert parsed.counts == {"mfaRegistered": 33}
    assert type(parsed.counts["mfaRegistered"]) is int


def test_typed_items_in_the_published_spelling_are_accepted() -> None:
    item = {
        "@odata.type": "microsoft.graph.userRegistrationCount",
        "userRegistrationStatus": "capable",
        "userRegistationCount": 12,
    }

    assert parse_report(body(items_report(20, item))).counts == {"capable": 12}


def test_the_correctly_spelt_user_registration_count_is_accepted_too() -> None:
    item = {"userRegistrationStatus": "enabled", "userRegistrationCount": "8"}

    assert parse_report(body(items_report(20, item))).counts == {"enabled": 8}


def test_items_may_mix_spellings_within_one_report() -> None:
    items = (
        {"registrationStatus": "mfaRegistered", "registrationCount": 33},
        {"userRegistrationStatus": "registered", "userRegistationCount": "40"},
    )

    parsed = parse_report(body(items_report(50, *items)))

    assert list(parsed.counts.items()) == [("mfaRegistered", 33), ("registered", 40)]


def test_two_spellings_of_a_count_that_agree_are_accepted() -> None:
    item = {"registrationStatus": "capable", "registrationCount": 4, "userRegistationCount": 4}

    assert parse_report(body(items_report(5, item))).counts == {"capable": 4}


def test_two_spellings_of_a_count_that_disagree_are_rejected() -> None:
    item = {"registrationStatus": "capable", "registrationCount": 4, "userRegistationCount": 3}

    with pytest.raises(ReportFormatError) as failure:
        parse_report(body(items_report(5, item)))

    assert failure.value.field == "value[0].userRegistrationCounts[0].userRegistationCount"
    assert "disagrees with registrationCount" in failure.value.problem


def test_a_body_given_as_text_parses_like_bytes() -> None:
    payload = report(50, COUNTS)

    assert parse_report(json.dumps(payload)) == parse_report(body(payload))


def test_the_report_id_is_optional() -> None:
    payload = items_report(3, {"registrationStatus": "registered", "registrationCount": 1})

    parsed = parse_report(body(payload))

    assert (parsed.report_id, parsed.total_users, dict(parsed.counts)) == (
        None,
        3,
        {"registered": 1},
    )


def test_a_report_with_no_statuses_is_accepted_and_empty() -> None:
    parsed = parse_report(body(items_report(12)))

    assert (parsed.total_users, dict(parsed.counts)) == (12, {})


def test_the_largest_int64_is_accepted_as_a_number_and_as_a_string() -> None:
    as_number = parse_report(body(report(INT64_MAX, {"registered": INT64_MAX})))
    as_string = parse_report(body(report(str(INT64_MAX), {"registered": str(INT64_MAX)})))

    assert as_number.total_users == as_string.total_users == 9_223_372_036_854_775_807
    assert as_number.counts == as_string.counts == {"registered": INT64_MAX}


def test_a_bare_report_object_outside_the_collection_is_rejected() -> None:
    # Graph's function returns Collection(credentialUserRegistrationCount): the single-object
    # form of the resource page is not an answer this parser accepts.
    bare = report(5, {"registered": 1})["value"][0]

    with pytest.raises(ReportFormatError) as failure:
        parse_report(body(bare))

    assert failure.value.field == "value"
    assert failure.value.problem == "missing: expected a collection of reports"


@pytest.mark.parametrize("raw", [b"12.0", b"1e3", b"1.5", b"true", b"false"])
def test_a_total_that_json_sends_as_a_float_or_boolean_is_rejected(raw: bytes) -> None:
    text = b'{"value": [{"totalUserCount": ' + raw + b', "userRegistrationCounts": []}]}'

    with pytest.raises(ReportFormatError) as failure:
        parse_report(text)

    assert failure.value.field == "value[0].totalUserCount"
    assert failure.value.problem.startswith("expected a whole number, got a ")


@pytest.mark.parametrize("count", ["+5", " 5", "5 ", "5\n", "0x5", "٥", "1_0", "", "5e0"])
def test_counts_as_strings_must_be_plain_ascii_digits(count: str) -> None:
    field = rejected_field(report(10, {"registered": count}))

    assert field == "value[0].userRegistrationCounts[0].registrationCount"


def test_a_negative_count_says_it_must_not_be_negative() -> None:
    with pytest.raises(ReportFormatError) as failure:
        parse_report(body(report(10, {"registered": -3})))

    assert failure.value.problem == "must not be negative, got -3"


def test_an_empty_value_is_a_report_of_no_users() -> None:
    parsed = parse_report(body({"@odata.context": "x", "value": []}))

    assert (parsed.report_id, parsed.total_users, dict(parsed.counts)) == (None, 0, {})


def test_a_value_that_is_not_a_list_says_what_it_is() -> None:
    with pytest.raises(ReportFormatError) as failure:
        parse_report(body({"value": "none"}))

    assert (failure.value.field, failure.value.problem) == (
        "value",
        "expected a list, got a string",
    )


def test_a_missing_total_is_named_as_missing() -> None:
    with pytest.raises(ReportFormatError) as failure:
        parse_report(body({"value": [{"id": "x", "userRegistrationCounts": []}]}))

    assert (failure.value.field, failure.value.problem) == ("value[0].totalUserCount", "missing")


def test_a_huge_html_body_is_quoted_only_briefly() -> None:
    page = b"<html>" + b"A" * 1_000_000 + b"</html>"

    with pytest.raises(ReportFormatError) as failure:
        parse_report(page)

    assert failure.value.field == "body"
    assert "'<html>AAAA" in str(failure.value)
    assert len(str(failure.value)) < 200


def test_control_characters_in_a_bad_body_are_not_echoed_to_the_log() -> None:
    with pytest.raises(ReportFormatError) as failure:
        parse_report(b"oops\x1b[31m\r\nforged log line")

    assert "\x1b" not in str(failure.value)
    assert "\n" not in str(failure.value)


# Property-based, continued: each item spelt its own way, and errors always name a JSON path.


@st.composite
def mixed_items(draw: st.DrawFn) -> tuple[int, dict[str, int], list[dict[str, Any]]]:
    total = draw(st.integers(min_value=0, max_value=INT64_MAX))
    counts = draw(st.dictionaries(statuses, st.integers(0, total), max_size=8))
    items = []
    for status, count in counts.items():
        status_key = draw(st.sampled_from(["registrationStatus", "userRegistrationStatus"]))
        count_key = draw(
            st.sampled_from(["registrationCount", "userRegistationCount", "userRegistrationCount"])
        )
        item: dict[str, Any] = {
            status_key: status,
            count_key: draw(st.sampled_from([count, str(count)])),
        }
        if draw(st.booleans()):
            item["@odata.type"] = "microsoft.graph.userRegistrationCount"
        items.append(item)
    return total, counts, items


@settings(max_examples=200, deadline=None)
@given(mixed_items(), st.booleans())
def test_any_mix_of_spellings_and_number_forms_round_trips(
    case: tuple[int, dict[str, int], list[dict[str, Any]]], total_as_string: bool
) -> None:
    total, counts, items = case
    payload = items_report(str(total) if total_as_string else total, *items, id="r")

    parsed = parse_report(body(payload))

    assert parsed.total_users == total
    assert list(parsed.counts.items()) == list(counts.items())


@settings(max_examples=200, deadline=None)
@given(json_values | report_like | almost_reports.map(lambda item: {"value": [item]}))
def test_every_rejection_names_a_json_path_in_the_body(payload: Any) -> None:
    try:
        parse_report(json.dumps(payload))
    except ReportFormatError as error:
        assert error.field == "body" or error.field.startswith("value")
        assert error.problem
        assert str(error).startswith("Graph report rejected, nothing stored: ")
