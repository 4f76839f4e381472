"""Glue/Hive column types (``struct<a:bigint,b:array<string>>``, ``map<k,v>``, ``decimal(p,s)``) parsed, printed
and widened, so the catalog can tell a struct that gained fields from a real type change.

Why widening keeps every file readable, and what of it is unverified in Athena itself:
docs/marketing-stream.md#stream-v2-files. In short, Parquet struct fields are read by name (a file lacking one
reads null, a field the table lacks is not read), and a partition registered with the narrower struct still
matches the table's because new fields are only ever appended at the end.

Names are lower-cased: Hive and Athena match column and field names case-insensitively, and the footer reader
(``footer.py``) writes them lower case. No runtime dependency parses Hive types (sqlglot is a dev tool, not
bundled), hence this small recursive-descent parser.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_TOKEN = re.compile(r"\s*(?:([A-Za-z0-9_$]+)|([<>(),:]))")
_WORD = re.compile(r"[a-z0-9_$]+")


class TypeSyntaxError(ValueError):
    """A type string this module cannot read; the caller compares such types as plain text."""


@dataclass(frozen=True)
class Primitive:
    """``bigint``, ``string`` …, with the parameters of ``decimal(p,s)``, ``varchar(n)``, ``char(n)``."""

    name: str
    params: tuple[int, ...] = ()


@dataclass(frozen=True)
class Array:
    element: HiveType


@dataclass(frozen=True)
class Map:
    key: HiveType
    value: HiveType


@dataclass(frozen=True)
class Struct:
    fields: tuple[tuple[str, HiveType], ...]


HiveType = Primitive | Array | Map | Struct


def render(kind: HiveType) -> str:
    """The Glue type string, without spaces (as Glue shows types Athena created)."""
    if isinstance(kind, Struct):
        return "struct<" + ",".join(f"{name}:{render(field)}" for name, field in kind.fields) + ">"
    if isinstance(kind, Array):
        return f"array<{render(kind.element)}>"
    if isinstance(kind, Map):
        return f"map<{render(kind.key)},{render(kind.value)}>"
    return kind.name + (f"({','.join(map(str, kind.params))})" if kind.params else "")


def parse(text: str) -> HiveType:
    """The type a Glue type string names; ``TypeSyntaxError`` when it is not one this module reads."""
    parser = _Parser(_tokens(text))
    kind = parser.type()
    if parser.pos != len(parser.tokens):
        raise TypeSyntaxError(f"trailing text after the type at token {parser.pos}")
    return kind


def widened(table: HiveType, file: HiveType) -> HiveType | None:
    """The table's type extended by what the file's type adds, or None when the two conflict.

    Structs are matched by field name: the table's fields keep their order (and their type when the file lacks
    them), the file's new fields are appended. Arrays and map values widen the same way; anything else must be
    equal. The result equals ``table`` when the file brings nothing new.
    """
    if isinstance(table, Struct) and isinstance(file, Struct):
        return _widened_struct(table, file)
    if isinstance(table, Array) and isinstance(file, Array):
        element = widened(table.element, file.element)
        return None if element is None else Array(element)
    if isinstance(table, Map) and isinstance(file, Map):
        value = widened(table.value, file.value)
        return None if value is None or table.key != file.key else Map(table.key, value)
    return table if table == file else None


def _widened_struct(table: Struct, file: Struct) -> Struct | None:
    in_file = dict(file.fields)
    fields: list[tuple[str, HiveType]] = []
    for name, kind in table.fields:
        merged = widened(kind, in_file[name]) if name in in_file else kind
        if merged is None:
            return None
        fields.append((name, merged))
    known = {name for name, _ in table.fields}
    return Struct((*fields, *((name, kind) for name, kind in file.fields if name not in known)))


def _tokens(text: str) -> list[str]:
    tokens, pos = [], 0
    while text[pos:].strip():
        match = _TOKEN.match(text, pos)
        if match is None:
            raise TypeSyntaxError(f"unexpected character at offset {pos}")
        tokens.append(match.group(match.lastindex or 0).lower())
        pos = match.end()
    return tokens


class _Parser:
    """type := struct<name:type,…> | array<type> | map<type,type> | name[(int,…)]"""

    def __init__(self, tokens: list[str]) -> None:
        self.tokens, self.pos = tokens, 0

    def next(self) -> str:
        if self.pos == len(self.tokens):
            raise TypeSyntaxError("the type ends too early")
        self.pos += 1
        return self.tokens[self.pos - 1]

    def expect(self, token: str) -> None:
        if (found := self.next()) != token:
            raise TypeSyntaxError(f"expected {token!r}, found {found!r} at token {self.pos - 1}")

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def type(self) -> HiveType:
        name = self.word()
        if name in ("struct", "array", "map"):
            self.expect("<")
            kind = self.struct() if name == "struct" else self.array() if name == "array" else self.map()
            self.expect(">")
            return kind
        return Primitive(name, self.params() if self.peek() == "(" else ())

    def word(self) -> str:
        token = self.next()
        if not _WORD.fullmatch(token):
            raise TypeSyntaxError(f"expected a name, found {token!r} at token {self.pos - 1}")
        return token

    def struct(self) -> Struct:
        fields: list[tuple[str, HiveType]] = []
        while self.peek() != ">":
            if fields:
                self.expect(",")
            name = self.word()
            self.expect(":")
            fields.append((name, self.type()))
        if len({name for name, _ in fields}) != len(fields):
            raise TypeSyntaxError("a struct names a field twice")
        return Struct(tuple(fields))

    def array(self) -> Array:
        return Array(self.type())

    def map(self) -> Map:
        key = self.type()
        self.expect(",")
        return Map(key, self.type())

    def params(self) -> tuple[int, ...]:
        self.expect("(")
        params = [self.next()]
        while self.peek() == ",":
            self.next()
            params.append(self.next())
        self.expect(")")
        if not all(p.isdigit() for p in params):
            raise TypeSyntaxError("a type parameter is not a number")
        return tuple(int(p) for p in params)
