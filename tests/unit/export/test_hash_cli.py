"""The ``adsbridge hash`` command: options, files or stdin/stdout, a BOM, refusals that leave no partial output,
and a summary that never quotes a value."""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

from adsbridge.export import hash_cli


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="adsbridge")
    hash_cli.add_parser(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(argv)


def test_hash_subcommand_options() -> None:
    args = parse(["hash"])
    assert (args.country, args.input, args.output, args.normalized_only) == ("US", None, None, False)
    assert args.func is hash_cli.run
    args = parse(["hash", "--country", "gb", "--input", "a.csv", "--output", "b.csv", "--normalized-only"])
    assert (args.country, args.input, args.output, args.normalized_only) == ("gb", "a.csv", "b.csv", True)


def test_command_files_bom_and_summary_without_values(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source, target = tmp_path / "in.csv", tmp_path / "out.csv"
    source.write_text("\ufeffEmail,postal\nSecret.Person@Example.com,SW1A 1AA\nnope,\n", encoding="utf-8")
    args = parse(["hash", "--country", "uk", "--input", str(source), "--output", str(target)])
    assert args.func(args) == 0
    assert (
        target.read_text(encoding="utf-8") == f"Email,postal\n{sha('secret.person@example.com')},{sha('SW1A1AA')}\n,\n"
    )
    err = capsys.readouterr().err
    assert "2 rows" in err and "email=1" in err
    assert "secret" not in err.lower() and "nope" not in err and "SW1A" not in err


def test_command_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = parse(["hash", "--country", "Atlantis"])
    assert args.func(args) == 2
    args = parse(["hash", "--input", str(tmp_path / "missing.csv")])
    assert args.func(args) == 1
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"email\nsecret\xff@example.com\n")
    args = parse(["hash", "--input", str(bad), "--output", str(tmp_path / "o.csv")])
    assert args.func(args) == 1
    err = capsys.readouterr().err
    assert "must be an ISO 3166-1" in err and "missing.csv" in err and "not UTF-8" in err
    assert "secret" not in err
    assert list(tmp_path.iterdir()) == [bad]  # no partial output, no temporary file left behind


def test_command_refusing_a_header_leaves_the_output_as_it_was(tmp_path: Path) -> None:
    source, target = tmp_path / "in.csv", tmp_path / "out.csv"
    source.write_text("e-mail;phone\njane@example.com;5551234567\n", encoding="utf-8")
    target.write_text("earlier output\n", encoding="utf-8")
    args = parse(["hash", "--input", str(source), "--output", str(target)])
    assert args.func(args) == 1
    assert target.read_text(encoding="utf-8") == "earlier output\n"
    assert sorted(tmp_path.iterdir()) == [source, target]


def test_command_may_write_over_its_input(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text("email\nA@B.co\n", encoding="utf-8")
    args = parse(["hash", "--input", str(source), "--output", str(source)])
    assert args.func(args) == 0
    assert source.read_text(encoding="utf-8") == f"email\n{sha('a@b.co')}\n"


def test_command_streams_stdin_to_stdout() -> None:
    code = (
        "import argparse, sys; from adsbridge.export import hash_cli; p = argparse.ArgumentParser(); "
        "hash_cli.add_parser(p.add_subparsers()); a = p.parse_args(sys.argv[1:]); sys.exit(a.func(a))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, "hash", "--normalized-only"],
        input=b"email,phone\r\nA@B.co,(571) 412-0599\r\n",
        capture_output=True,
        check=True,
    )
    assert done.stdout == b"email,phone\na@b.co,15714120599\n"
    assert b"1 rows" in done.stderr
    refused = subprocess.run(
        [sys.executable, "-c", code, "hash"], input=b"e-mail;phone\njane@example.com;5551234567\n", capture_output=True
    )
    assert (refused.returncode, refused.stdout) == (1, b"")
    assert b"semicolon-separated" in refused.stderr and b"jane" not in refused.stderr
