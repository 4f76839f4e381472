"""The ``adsbridge`` command line: one subcommand per module that owns it."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from importlib.metadata import entry_points

from adsbridge import __version__, auth_cli, hash_file
from adsbridge.export import cli as export_cli
from adsbridge.export import schedule_cli
from adsbridge.stream import cli as streams_cli

# Commands of packages installed beside this one (the dev tooling's demo and emulator) join through entry
# points, so the runtime package never imports its dev tooling.
COMMANDS = "adsbridge.commands"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="adsbridge", description="Move advertising data between your AWS account and Amazon Ads."
    )
    parser.add_argument("--version", action="version", version=f"adsbridge {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True)
    hash_file.add_parser(subparsers)
    export_cli.add_parser(subparsers)
    schedule_cli.add_parser(subparsers)
    auth_cli.add_parser(subparsers)
    streams_cli.add_parser(subparsers)
    for command in sorted(entry_points(group=COMMANDS), key=lambda entry: entry.name):
        command.load()(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        sys.stderr.close()
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
