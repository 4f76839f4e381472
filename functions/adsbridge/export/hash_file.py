"""A CSV of PII in, the same CSV out with each PII column normalised and SHA-256 hashed (``adsbridge hash``,
:mod:`adsbridge.export.hash_cli`).

Columns whose header (case-insensitive) is one of :data:`~adsbridge.identity.PII_FIELDS` are replaced by
their hash — or, with ``normalized_only``, by the normal form, to inspect what would be hashed. An empty or
invalid value becomes an empty cell. A row's ``countrycode`` cell overrides the default country (a code
that is not ISO 3166-1 alpha-2 falls back to the default and is counted). Every other column, including
``externaluserid`` and ``countrycode``, passes through unchanged, in the same order. A header with no PII
column, or with one under another name (``e-mail``, ``first_name``: it would pass through raw), is refused
before anything is written; a named output file only appears once the whole input has been hashed.

Streaming, with memory independent of the file size: rows go through :mod:`csv` one at a time and the
normaliser caches are bounded. With ``workers`` > 1 (the command uses one per CPU) blocks of 4,000 records
are hashed in worker processes, at most two blocks per worker in flight, and written in input order — the
output is byte-identical to the single-process path. Raw values never reach stderr, logs or exception
messages — only counts and line numbers.
"""

from __future__ import annotations

import codecs
import collections
import concurrent.futures
import csv
import io
import itertools
import multiprocessing
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TextIO

from adsbridge.export.header_hint import describe_header, meant
from adsbridge.export.source import column_names
from adsbridge.identity import PII_FIELDS, Normalizer, normalizer_for, prehashed
from adsbridge.identity.normalizer import EMPTY_SHA256, UNKNOWN_COUNTRY

COUNTRY_COLUMN = "countrycode"
MORE_CELLS = "a row has more cells than the header: a comma in an unquoted value?"
# Headers of a column holding a whole name, lower-case letters and digits only: PII, but no field Amazon matches
# (it takes firstname and lastname apart), so it cannot be hashed, and passed through it would go out raw.
WHOLE_NAMES = frozenset({"name", "fullname", "customername", "contactname", "personname", "displayname"})

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


class _RowHasher:
    """Rewrites rows in place for one header; the same code runs in-process and in each worker."""

    def __init__(self, header: list[str], country: str, normalized_only: bool) -> None:
        self.header, self.country = header, country
        names = column_names(header)
        self.columns = [(index, name) for index, name in enumerate(names) if name in PII_FIELDS]
        self.country_index = names.index(COUNTRY_COLUMN) if COUNTRY_COLUMN in names else -1
        self.needed = max((index for index, _ in self.columns), default=-1) + 1
        self.normalized_only = normalized_only
        self.default_plan = self._plan(normalizer_for(country))
        self.plans: dict[str, Plan] = {}  # raw countrycode cell → plan; bounded by the clear below
        self.invalid = [0] * len(self.columns)
        self.unknown_country = 0

    def _plan(self, normalizer: Normalizer) -> Plan:
        rules = normalizer.rules if self.normalized_only else normalizer.hashers
        return [(index, rules[name], slot) for slot, (index, name) in enumerate(self.columns)]

    def _row_plan(self, code: str) -> Plan:
        normalizer = normalizer_for(code)
        if normalizer.country == UNKNOWN_COUNTRY:
            if code.strip():
                self.unknown_country += 1
            return self.default_plan
        if len(self.plans) >= 1024:
            self.plans.clear()
        plan = self.plans[code] = self._plan(normalizer)
        return plan

    def run(self, rows: Iterable[list[str]], writerow: Callable[[list[str]], object]) -> int:
        """Hash every row of ``rows`` into ``writerow``; returns how many rows there were."""
        count = 0
        invalid, plans, row_plan = self.invalid, self.plans, self._row_plan
        default_plan, country_index, needed = self.default_plan, self.country_index, self.needed
        width = len(self.header)
        for row in rows:
            count += 1
            if len(row) > width and any(row[width:]):  # no rule for those cells: they would go out raw
                raise csv.Error(MORE_CELLS)
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
                        invalid[slot] += prehashed(value) != EMPTY_SHA256  # sha256("") is an empty cell
                        row[index] = ""
                    else:
                        row[index] = result
            writerow(row)
        return count


def hash_csv(src: TextIO, dst: TextIO, *, country: str, normalized_only: bool, workers: int = 1) -> HashStats:
    """Copy CSV ``src`` to ``dst`` with every PII column hashed (or only normalised); returns the counts.

    ``src`` should be opened with ``newline=""`` (as :mod:`csv` requires); output lines end with ``\\n``.
    With ``workers`` > 1 and more than one block of input, blocks of whole records are hashed in that many
    processes and written back in order — the output is byte-identical to ``workers=1``.
    Raises :class:`InputError` for input that is not UTF-8 CSV.
    """
    stats = HashStats()
    reader = csv.reader(src)
    writer = csv.writer(dst, lineterminator="\n")
    lines = _Lines(src)
    try:
        header = next(reader, None)
        if header is None:
            return stats
        hasher = _RowHasher(header, country, normalized_only)
        _check_header(header, hasher)
        writer.writerow(header)
        stats.pii_columns = tuple(name for _, name in hasher.columns)
        if workers <= 1:
            stats.rows = hasher.run(reader, writer.writerow)
        else:
            lines.number = reader.line_num
            blocks = lines.blocks()
            first = next(blocks, None)
            if first is None:
                pass
            elif first[2] < _BLOCK_ROWS:  # small input: not worth starting processes
                stats.rows = hasher.run(csv.reader(first[0]), writer.writerow)
            else:
                stats.rows = _run_parallel(itertools.chain((first,), blocks), dst, hasher, workers)
    except (csv.Error, UnicodeDecodeError) as exc:
        raise _input_error(exc, max(reader.line_num, lines.number)) from None
    except (InputError, BrokenPipeError, KeyboardInterrupt):
        raise
    except Exception as exc:  # a bug must not print a traceback whose message could quote a cell
        raise RuntimeError(f"hashing failed near line {reader.line_num} ({type(exc).__name__})") from None
    for (_, name), count in zip(hasher.columns, hasher.invalid, strict=True):
        stats.invalid[name] = stats.invalid.get(name, 0) + count
    stats.unknown_country += hasher.unknown_country
    return stats


def _check_header(header: list[str], hasher: _RowHasher) -> None:
    """Refuse a header that would let raw PII through: no PII column recognised (a ``;`` or tab delimiter,
    JSON lines, no header row), or a PII column under another name (``e-mail``, ``first_name``), which would be
    copied out unhashed. The message describes the line without quoting data (:mod:`adsbridge.export.header_hint`)."""
    unhashed = [name for name in header if meant(name, PII_FIELDS)]
    whole = [name.strip() for name in header if re.sub("[^a-z0-9]", "", name.lower()) in WHOLE_NAMES]
    if hasher.columns and not unhashed and not whole:
        return
    problem = "a PII column under another name would be written out unhashed" if unhashed or whole else "no PII column"
    notes, found = describe_header(header, (*PII_FIELDS, COUNTRY_COLUMN))
    notes += [f"{name} holds a whole name: split it into firstname and lastname" for name in whole]
    raise InputError(
        f"input: {problem} ({'; '.join([*notes, found])}); adsbridge hash reads comma-separated CSV whose header"
        f" names PII columns {', '.join(PII_FIELDS)} (any case), and {COUNTRY_COLUMN}"
    )


_BLOCK_ROWS = 4000  # records per block handed to a worker

Block = tuple[list[str], int, int]  # (physical lines, number of the line before the block, records)


class _Lines:
    """Cuts the rest of a CSV stream into blocks of whole records without parsing most of it.

    A line with no ``"`` that starts at a record boundary is a whole record (only a quoted field can span
    lines); a line with a ``"`` is handed to :mod:`csv` itself, which consumes exactly the lines of that record.
    So the cuts are where ``csv.reader`` would put them, at a fraction of the cost.
    """

    def __init__(self, src: TextIO) -> None:
        self.src = src
        self.number = 0  # physical lines read so far

    def _more(self, first: str, block: list[str]) -> Iterator[str]:
        yield first
        for line in self.src:
            block.append(line)
            self.number += 1
            yield line

    def blocks(self) -> Iterator[Block]:
        block: list[str] = []
        records, start = 0, self.number
        for line in self.src:
            self.number += 1
            block.append(line)
            if '"' in line:
                next(csv.reader(self._more(line, block)))  # csv reads on until the record ends
            records += 1
            if records == _BLOCK_ROWS:
                yield block, start, records
                block, records, start = [], 0, self.number
        if block:
            yield block, start, records


# One per worker process, built by _start_worker.
_worker: tuple[_RowHasher, str | None] | None = None


def _start_worker(header: list[str], country: str, normalized_only: bool, encoding: str | None) -> None:
    global _worker
    _worker = (_RowHasher(header, country, normalized_only), encoding)


def _hash_block(block: Block) -> tuple[str | bytes, int, list[int], int]:
    """Worker: hash one block of whole records; returns (output, rows, invalid counts, unknown-country rows).

    The output is already encoded when the parent writes bytes, which keeps that work off its one core."""
    assert _worker is not None
    hasher, encoding = _worker
    lines, start, _ = block
    out = io.StringIO()
    reader = csv.reader(lines)
    try:
        before = hasher.unknown_country
        hasher.invalid = [0] * len(hasher.columns)
        rows = hasher.run(reader, csv.writer(out, lineterminator="\n").writerow)
    except csv.Error as exc:
        raise _input_error(exc, start + reader.line_num) from None
    except Exception as exc:  # same rule as in-process: the message must never carry a cell
        raise RuntimeError(f"hashing failed near line {start + reader.line_num} ({type(exc).__name__})") from None
    text = out.getvalue()
    return (text.encode(encoding) if encoding else text), rows, hasher.invalid, hasher.unknown_country - before


def _run_parallel(blocks: Iterator[Block], dst: TextIO, hasher: _RowHasher, workers: int) -> int:
    """Ordered, bounded pipeline: workers hash the blocks, this process writes the results in input order.

    At most two blocks per worker are in flight, so memory does not depend on the input size. The counts
    are added to ``hasher``'s. Workers are forked on Linux (no re-import) and spawned elsewhere (macOS offers
    fork but system frameworks are not fork-safe); where the destination is a strict UTF-8 text file they also
    encode, and this process writes their bytes to its buffer."""
    target = getattr(dst, "buffer", None)
    encoding: str | None = None
    if target is not None and getattr(dst, "errors", None) == "strict" and _is_utf8(getattr(dst, "encoding", "")):
        encoding = "utf-8"
        dst.flush()  # the header went through the text layer
    context = multiprocessing.get_context("fork" if sys.platform == "linux" else "spawn")
    setup = (hasher.header, hasher.country, hasher.normalized_only, encoding)
    rows = 0
    in_flight: collections.deque[concurrent.futures.Future[tuple[str | bytes, int, list[int], int]]] = (
        collections.deque()
    )

    def collect() -> None:
        nonlocal rows
        output, count, invalid, unknown = in_flight.popleft().result()
        if isinstance(output, bytes):
            target.write(output)  # type: ignore[union-attr]
        else:
            dst.write(output)
        rows += count
        for slot, value in enumerate(invalid):
            hasher.invalid[slot] += value
        hasher.unknown_country += unknown

    with concurrent.futures.ProcessPoolExecutor(workers, context, _start_worker, setup) as pool:
        try:
            for block in blocks:
                in_flight.append(pool.submit(_hash_block, block))
                if len(in_flight) >= 2 * workers:
                    collect()
            while in_flight:
                collect()
        except BaseException:
            for future in in_flight:
                future.cancel()
            raise
    return rows


def _is_utf8(encoding: str) -> bool:
    try:
        return codecs.lookup(encoding).name == "utf-8"
    except LookupError:
        return False


def _input_error(exc: Exception, line: int) -> InputError:
    # csv.Error texts are fixed strings and codec errors are summarised, so no cell content leaks
    reason = "not UTF-8" if isinstance(exc, UnicodeDecodeError) else f"malformed CSV ({exc})"
    # csv has counted the line it failed on; a decoding error strikes before the line is counted
    return InputError(f"input is {reason} near line {line + isinstance(exc, UnicodeDecodeError)}")
