"""``adsbridge streams redrive``: put a realm's dead-lettered Marketing Stream messages back on their queues.

Run it once the cause is fixed (a DLQ alarm names the dataset); messages that fail again return to the DLQ
after five more receives.
"""

from __future__ import annotations

import argparse
import sys

from adsbridge.stream.datasets import Realm


def add_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``redrive`` in the ``streams`` group."""
    redrive = commands.add_parser(
        "redrive",
        help="move messages from each stream DLQ back to its source queue",
        description="Moves at most each DLQ's depth at the start of the run, in the realm's region, with the "
        "default AWS credentials.",
    )
    redrive.add_argument("--realm", required=True, type=Realm, choices=list(Realm), help="NA, EU or FE")
    redrive.add_argument(
        "--dataset", action="append", help="dataset id, repeatable (default: every dataset deployed in the realm)"
    )
    redrive.add_argument("--queue-prefix", default="adsbridge-", help="the stack's queue_prefix (default: %(default)s)")
    redrive.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import boto3

    from adsbridge.stream.datasets import UnknownDataset, get
    from adsbridge.stream.redrive import QueueMissing, Redriver, redrive_all

    try:
        for dataset_id in args.dataset or ():
            get(dataset_id)
        redriver = Redriver(boto3.client("sqs", region_name=args.realm.aws_region), queue_prefix=args.queue_prefix)
        results = redrive_all(redriver, args.dataset)
    except UnknownDataset as exc:
        print(f"adsbridge streams redrive: unknown dataset {exc}", file=sys.stderr)
        return 2
    except QueueMissing as exc:
        print(f"adsbridge streams redrive: queue {exc} does not exist in {args.realm.aws_region}", file=sys.stderr)
        return 2
    for result in results:
        print(f"{result.dataset_id}: moved {result.moved}, failed {result.failed}")
    if not results:
        print(f"no stream queues with prefix {args.queue_prefix!r} in {args.realm.aws_region}")
    return 1 if any(r.failed for r in results) else 0
