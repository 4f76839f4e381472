"""``adsbridge hash``: the command around :func:`~adsbridge.export.hash_file.hash_csv` — files or stdin/stdout,
one worker per CPU, and an output file that only appears once the whole input has been hashed."""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TextIO, cast

from adsbridge.export import hash_file
from adsbridge.export.hash_file import InputError, hash_csv
from adsbridge.identity.countries import normalize_country


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "hash",
        help="normalise and SHA-256 hash the PII columns of a CSV",
        description=hash_file.__doc__.split("\n\n")[1] if hash_file.__doc__ else None,
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
            dst, finish = _open_output(stack, args.output)
        except OSError as exc:
            print(f"adsbridge hash: cannot open {exc.filename}: {exc.strerror}", file=sys.stderr)
            return 1
        try:
            stats = hash_csv(src, dst, country=country, normalized_only=args.normalized_only, workers=_cpus())
            finish()
        except InputError as exc:
            print(f"adsbridge hash: {exc}", file=sys.stderr)
            return 1
        except OSError as exc:
            print(f"adsbridge hash: cannot write {args.output}: {exc.strerror}", file=sys.stderr)
            return 1
    print(f"adsbridge hash: {stats.summary()}", file=sys.stderr)
    return 0


def _cpus() -> int:
    """CPUs this process may use (the CLI hashes with one worker per CPU, up to 8)."""
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(usable, 8))


def _open_output(stack: contextlib.ExitStack, path: str | None) -> tuple[TextIO, Callable[[], None]]:
    """Where to write, and what to call once everything is written.

    A named output is written to a temporary file beside it that replaces it only then, so a run that fails
    (a refused header, a malformed line, Ctrl-C) leaves no partial file — and ``--output`` may name the input.
    """
    if not path:
        return _open(stack, None, sys.stdout, "w", "utf-8"), lambda: None
    target = Path(path)
    try:
        handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed by the stack or by finish()
            "w", encoding="utf-8", newline="", dir=target.parent, prefix=f".{target.name}.", delete=False
        )
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror, path) from None
    stack.callback(Path(handle.name).unlink, missing_ok=True)  # after the close below: stacks unwind in reverse
    stack.enter_context(handle)

    def finish() -> None:
        handle.close()
        os.replace(handle.name, target)

    return cast(TextIO, handle), finish


def _open(stack: contextlib.ExitStack, path: str | None, std: TextIO, mode: str, encoding: str) -> TextIO:
    if path:
        return cast(TextIO, stack.enter_context(open(path, mode, encoding=encoding, newline="")))
    wrapper = io.TextIOWrapper(std.buffer, encoding=encoding, newline="")
    # flush, then let go of stdin/stdout without closing them
    stack.callback(wrapper.detach)
    stack.callback(wrapper.flush)
    return wrapper
