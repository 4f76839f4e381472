"""Glue/Hive type strings: parsed, printed back, and widened only where a struct gained fields."""

from __future__ import annotations

import random

import pyarrow as pa
import pytest
from sqlglot import exp

from adsbridge.stream.v2 import footer
from adsbridge.stream.v2.hive_types import (
    Array,
    HiveType,
    Map,
    Primitive,
    Struct,
    TypeSyntaxError,
    parse,
    render,
    widened,
)

BIGINT, STRING, BOOLEAN = Primitive("bigint"), Primitive("string"), Primitive("boolean")


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("bigint", BIGINT),
        ("decimal(10,2)", Primitive("decimal", (10, 2))),
        ("varchar(64)", Primitive("varchar", (64,))),
        ("array<string>", Array(STRING)),
        ("map<string,bigint>", Map(STRING, BIGINT)),
        (
            "struct<a:bigint,b:struct<c:string>,d:array<struct<e:boolean>>>",
            Struct((("a", BIGINT), ("b", Struct((("c", STRING),))), ("d", Array(Struct((("e", BOOLEAN),)))))),
        ),
        (
            "map<string,array<struct<x:decimal(38,6)>>>",
            Map(STRING, Array(Struct((("x", Primitive("decimal", (38, 6))),)))),
        ),
    ],
)
def test_a_type_parses_to_its_structure_and_prints_back(text: str, kind: HiveType) -> None:
    assert parse(text) == kind
    assert render(parse(text)) == text


def test_spaces_and_case_do_not_matter() -> None:
    """Glue keeps what its writer sent: an Athena DDL or a console edit may be spaced and upper case."""
    assert parse(" STRUCT< streamBatch : STRUCT<Version: BIGINT> , amount:DECIMAL( 10 , 2 ) > ") == Struct(
        (("streambatch", Struct((("version", BIGINT),))), ("amount", Primitive("decimal", (10, 2)))),
    )


@pytest.mark.parametrize(
    "text",
    [
        "",
        "struct<a:bigint",
        "struct<a bigint>",
        "struct<a:int,a:string>",
        "struct<a-b:int>",
        "map<string>",
        "array<int>>",
        "decimal(a,b)",
        "decimal(10,",
        "uniontype<int;string>",
    ],
)
def test_what_is_not_a_type_is_refused(text: str) -> None:
    with pytest.raises(TypeSyntaxError):
        parse(text)


def _arrow_type(rng: random.Random, depth: int) -> pa.DataType:
    """A random Arrow type of the kinds footer.py maps (nested up to ``depth`` levels)."""
    simple = [pa.bool_(), pa.int8(), pa.int16(), pa.int32(), pa.int64(), pa.uint8(), pa.uint16(), pa.uint32(),
              pa.float16(), pa.float32(), pa.float64(), pa.string(), pa.large_string(), pa.binary(), pa.large_binary(),
              pa.date32(), pa.timestamp("ms"), pa.decimal128(rng.randint(1, 38), rng.randint(0, 1))]  # fmt: skip
    kind = rng.choice(["simple", "struct", "list", "map"] if depth else ["simple"])
    if kind == "struct":
        names = rng.sample(["version", "restated", "value", "id", "rank", "x_1", "costInUsd"], rng.randint(1, 4))
        return pa.struct([pa.field(name, _arrow_type(rng, depth - 1)) for name in names])
    if kind == "list":
        return rng.choice([pa.list_, pa.large_list])(_arrow_type(rng, depth - 1))
    if kind == "map":
        return pa.map_(rng.choice([pa.string(), pa.int64()]), _arrow_type(rng, depth - 1))
    return rng.choice(simple)


@pytest.mark.parametrize("seed", range(300))
def test_every_type_the_footer_emits_round_trips_and_is_hive_syntax(seed: int) -> None:
    text = footer.hive_type(_arrow_type(random.Random(seed), depth=3))
    assert render(parse(text)) == text
    # sqlglot's Hive dialect, an independent parser: the same type, printed spaced and upper case.
    spaced = exp.DataType.build(text, dialect="hive").sql("hive")
    assert spaced.lower().replace(" ", "") == text
    assert parse(spaced) == parse(text)


VERSION = Struct((("version", BIGINT),))
RESTATED = Struct((("version", BIGINT), ("restated", BOOLEAN)))


@pytest.mark.parametrize(
    ("table", "file", "expected"),
    [
        (VERSION, RESTATED, RESTATED),  # a new field: appended
        (RESTATED, VERSION, RESTATED),  # a file lacking a field: unchanged, it reads null there
        (RESTATED, Struct((("restated", BOOLEAN), ("version", BIGINT))), RESTATED),  # matched by name, table order
        (
            Struct((("a", BIGINT), ("b", STRING))),
            Struct((("c", BOOLEAN), ("a", BIGINT))),
            Struct((("a", BIGINT), ("b", STRING), ("c", BOOLEAN))),
        ),  # lacks one, adds another: the union, new fields last
        (Struct((("s", VERSION),)), Struct((("s", RESTATED), ("t", STRING))), Struct((("s", RESTATED), ("t", STRING)))),
        (Array(VERSION), Array(RESTATED), Array(RESTATED)),
        (Map(STRING, VERSION), Map(STRING, RESTATED), Map(STRING, RESTATED)),
        (BIGINT, BIGINT, BIGINT),
    ],
)
def test_a_struct_that_gained_fields_widens(table: HiveType, file: HiveType, expected: HiveType) -> None:
    assert widened(table, file) == expected


@pytest.mark.parametrize(
    ("table", "file"),
    [
        (BIGINT, STRING),
        (VERSION, Struct((("version", STRING),))),  # a field's primitive type changed
        (Struct((("s", VERSION),)), Struct((("s", Struct((("version", STRING),))),))),  # deep inside
        (VERSION, BIGINT),  # struct against primitive
        (BIGINT, VERSION),
        (Array(VERSION), VERSION),
        (Map(STRING, VERSION), Map(BIGINT, RESTATED)),  # the key changed
        (Primitive("decimal", (10, 2)), Primitive("decimal", (12, 2))),
        (Struct((("a", BIGINT), ("b", STRING))), Struct((("b", BIGINT), ("a", BIGINT)))),  # reordered and retyped
    ],
)
def test_any_other_difference_is_a_conflict(table: HiveType, file: HiveType) -> None:
    assert widened(table, file) is None
