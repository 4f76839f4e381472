"""``adsbridge streams``: Amazon Marketing Stream operations (subscriptions and DLQ redrive) in one group."""

from __future__ import annotations

import argparse

from adsbridge.stream import redrive_cli, subscriptions_cli


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    streams = subparsers.add_parser("streams", help="Amazon Marketing Stream operations")
    commands = streams.add_subparsers(dest="streams_command", required=True)
    subscriptions_cli.add_commands(commands)
    redrive_cli.add_command(commands)
