"""``adsbridge hash``: a CSV of PII in, the same CSV out with each PII column normalised and SHA-256 hashed.

Columns whose header (case-insensitive) is one of :data:`~adsbridge.identity.PII_FIELDS` are replaced by
their hash — or, with ``normalized_only``, by the normal form, to inspect what would be hashed. An empty or
invalid value becomes an empty cell. A row's ``countrycode`` cell overrides the default country (a code
that is not ISO 3166-1 alpha-2 falls back to the default and is counted). Every other column, including
``externaluserid`` and ``countrycode``, passes through unchanged, in the same order.

Streaming: one row at a time through :mod:`csv`, caches bounded, so memory does not grow with the file.
Raw values never reach stderr, logs or exception messages — only counts and line numbers.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TextIO, cast

from adsbridge.countries import normalize_country
from adsbridge.identity import PII_FIELDS, Normalizer, normalizer_for

COUNTRY_COLUMN = "countrycode"

# (column index, field rule, position in the invalid counters)
Plan = list[tuple[int, Callable[[str], "str | None"], int]]


class InputError(ValueError):
    """The input is not a readable UTF-8 CSV; the message names the line, never its contents."""


@dataclass
class HashStats:
    """Counts only — never values."""

    rows: int = 0
    invalid: dict[str, int] = field(default_factory=dict)  # non-empty PII cells that normalised to nothing
    unknown_country: int = 0  # rows whose countrycode was not a country code (default country used)
    pii_columns: tuple[str, ...] = ()

    def summary(self) -> str:
        invalid = ", ".join(f"{name}={count}" for name, count in self.invalid.items() if count) or "none"
        text = f"{self.rows} rows; PII columns: {', '.join(self.pii_columns) or 'none'}; invalid cells: {invalid}"
        if self.unknown_country:
            text += f"; rows with an unknown countrycode (default country used): {self.unknown_country}"
        return text


def hash_csv(src: TextIO, dst: TextIO, *, country: str, normalized_only: bool) -> HashStats:
    """Copy CSV ``src`` to ``dst`` with every PII column hashed (or only normalised); returns the counts.

    ``src`` should be opened with ``newline=""`` (as :mod:`csv` requires); output lines end with ``\\n``.
    """
    stats = HashStats()
    reader = csv.reader(src)
    writer = csv.writer(dst, lineterminator="\n")
    try:
        header = next(reader, None)
    except (csv.Error, UnicodeDecodeError) as exc:
        raise _input_error(exc, reader) from None
    if header is None:
        return stats
    writer.writerow(header)
    names = [name.strip().lower() for name in header]
    columns = [(index, name) for index, name in enumerate(names) if name in PII_FIELDS]
    stats.pii_columns = tuple(name for _, name in columns)
    country_index = names.index(COUNTRY_COLUMN) if COUNTRY_COLUMN in names else -1
    invalid = [0] * len(columns)

    def plan_for(normalizer: Normalizer) -> Plan:
        rules = normalizer.rules if normalized_only else normalizer.hashers
        return [(index, rules[name], slot) for slot, (index, name) in enumerate(columns)]

    default = normalizer_for(country)
    default_plan = plan_for(default)
    plans: dict[str, Plan] = {}  # raw countrycode cell → plan; bounded by the clear below

    def row_plan(code: str) -> Plan:
        normalizer = normalizer_for(code)
        if normalizer.country == "ZZ":
            if code.strip():
                stats.unknown_country += 1
            return default_plan
        if len(plans) >= 1024:
            plans.clear()
        plan = plans[code] = plan_for(normalizer)
        return plan

    needed = max((index for index, _ in columns), default=-1) + 1
    rows = 0
    writerow = writer.writerow
    try:
        for row in reader:
            rows += 1
            plan = default_plan
            if 0 <= country_index < len(row):
                code = row[country_index]
                if code:
                    plan = plans.get(code) or row_plan(code)
            if len(row) < needed:  # short row: only the cells it has
                plan = [step for step in plan if step[0] < len(row)]
            for index, rule, slot in plan:
                value = row[index]
                if value:
                    result = rule(value)
                    if result is None:
                        invalid[slot] += 1
                        row[index] = ""
                    else:
                        row[index] = result
            writerow(row)
    except (csv.Error, UnicodeDecodeError) as exc:
        raise _input_error(exc, reader) from None
    except Exception as exc:  # a bug must not print a traceback whose message could quote a cell
        raise RuntimeError(f"hashing failed near line {reader.line_num} ({type(exc).__name__})") from None
    stats.rows = rows
    for (_, name), count in zip(columns, invalid, strict=True):
        stats.invalid[name] = stats.invalid.get(name, 0) + count
    return stats


def _input_error(exc: Exception, reader: Any) -> InputError:
    # csv.Error texts are fixed strings and codec errors are summarised, so no cell content leaks
    reason = "not UTF-8" if isinstance(exc, UnicodeDecodeError) else f"malformed CSV ({exc})"
    return InputError(f"input is {reason} near line {reader.line_num + 1}")


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "hash",
        help="normalise and SHA-256 hash the PII columns of a CSV",
        description=__doc__.split("\n\n")[1] if __doc__ else None,
    )
    parser.add_argument("--country", default="US", help="default country for rows without countrycode (default US)")
    parser.add_argument("--input", metavar="F", help="CSV file to read (default: stdin)")
    parser.add_argument("--output", metavar="F", help="CSV file to write (default: stdout)")
    parser.add_argument(
        "--normalized-only", action="store_true", help="write the normalised values instead of their hashes"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    country = normalize_country(args.country)
    if country is None:
        print("adsbridge hash: --country must be an ISO 3166-1 alpha-2 code (e.g. US, GB)", file=sys.stderr)
        return 2
    with contextlib.ExitStack() as stack:
        try:
            src = _open(stack, args.input, sys.stdin, "r", "utf-8-sig")  # -sig: a BOM must not rename column 1
            dst = _open(stack, args.output, sys.stdout, "w", "utf-8")
        except OSError as exc:
            print(f"adsbridge hash: cannot open {exc.filename}: {exc.strerror}", file=sys.stderr)
            return 1
        try:
            stats = hash_csv(src, dst, country=country, normalized_only=args.normalized_only)
        except InputError as exc:
            print(f"adsbridge hash: {exc}", file=sys.stderr)
            return 1
    print(f"adsbridge hash: {stats.summary()}", file=sys.stderr)
    return 0


def _open(stack: contextlib.ExitStack, path: str | None, std: TextIO, mode: str, encoding: str) -> TextIO:
    if path:
        return cast(TextIO, stack.enter_context(open(path, mode, encoding=encoding, newline="")))
    wrapper = io.TextIOWrapper(std.buffer, encoding=encoding, newline="")
    # flush, then let go of stdin/stdout without closing them
    stack.callback(wrapper.detach)
    stack.callback(wrapper.flush)
    return wrapper
