"""The catalog's decision per column, before any Glue call: add it, widen its struct, or count a conflict."""

from __future__ import annotations

from adsbridge.stream.v2.catalog import Change, compare

TABLE = {"streambatch": "struct<version:bigint>", "impressions": "bigint", "dt": "string"}


def test_a_new_column_is_added_and_a_grown_struct_widened() -> None:
    found = {"streambatch": "struct<version:bigint,restated:boolean>", "impressions": "bigint", "clicks": "bigint"}
    assert compare(TABLE, found) == Change(
        added={"clicks": "bigint"}, widened={"streambatch": "struct<version:bigint,restated:boolean>"}, conflicts={}
    )


def test_a_file_with_fewer_fields_or_columns_changes_nothing() -> None:
    table = {**TABLE, "streambatch": "struct<version:bigint,restated:boolean>"}
    assert compare(table, {"streambatch": "struct<version:bigint>"}) == Change({}, {}, {})


def test_the_same_type_spelled_otherwise_is_no_change() -> None:
    assert compare(TABLE, {"streambatch": "STRUCT<Version: BIGINT>"}) == Change({}, {}, {})


def test_a_changed_type_is_a_conflict_and_never_a_new_type() -> None:
    found = {"streambatch": "struct<version:string,restated:boolean>", "impressions": "string", "dt": "int"}
    assert compare(TABLE, found) == Change(
        added={}, widened={}, conflicts={"streambatch": found["streambatch"], "impressions": "string", "dt": "int"}
    )


def test_a_type_that_does_not_parse_is_a_conflict_when_it_differs() -> None:
    table = {"odd": "uniontype<int,string>"}
    assert compare(table, {"odd": "uniontype<int,string>"}) == Change({}, {}, {})
    assert compare(table, {"odd": "uniontype<int,bigint>"}) == Change({}, {}, {"odd": "uniontype<int,bigint>"})
