"""``adsbridge streams list|subscribe|archive|status``: Marketing Stream subscriptions of one profile or DSP advertiser;
``adsbridge streams v2 list|create|get|archive``: Stream v2 subscriptions of one advertiser account.

Credentials come from ``ADSBRIDGE_CLIENT_ID``/``_CLIENT_SECRET``/``_REFRESH_TOKEN`` (``ADSBRIDGE_API_URL`` and
``ADSBRIDGE_TOKEN_URL`` point it at the emulator). Subscriptions are bound to the refresh token's user and app
(docs/marketing-stream.md#subscription-limits): another user's token does not see them.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from adsbridge.stream.datasets import Realm

if TYPE_CHECKING:
    from adsbridge.ads import Owner, StreamsClient
    from adsbridge.ads.streams_v2 import StreamsV2Client

_COLUMNS = (("SUBSCRIPTION ID", "subscriptionId"), ("DATASET", "dataSetId"), ("STATUS", "status"),
            ("DESTINATION", "destinationArn"), ("UPDATED", "updatedDate"))  # fmt: skip
_V2_COLUMNS = (("SUBSCRIPTION ID", "subscriptionId"), ("DATASET", "dataSetId"), ("STATUS", "status"),
               ("BUCKET", "bucketArn"), ("QUEUE", "queueArn"), ("UPDATED", "updatedDate"))  # fmt: skip


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the subscription commands in the ``streams`` group."""
    listing = commands.add_parser("list", help="list the subscriptions of a profile or DSP advertiser")
    subscribe = commands.add_parser(
        "subscribe",
        help="subscribe the stack's queues to datasets",
        description="Creates one subscription per dataset to the queue <queue-prefix><dataset> in the realm's "
        "region. Confirmation is automatic once the StreamStack's ingest function reads the queue.",
    )
    archive = commands.add_parser("archive", help="archive subscriptions (Amazon has no delete)")
    status = commands.add_parser("status", help="show subscriptions by id")
    for sub in (listing, subscribe, archive, status):
        sub.add_argument("--realm", required=True, type=Realm, choices=list(Realm), help="NA, EU or FE")
        owner = sub.add_mutually_exclusive_group(required=True)
        owner.add_argument("--profile", help="sponsored-ads profile id")
        owner.add_argument("--dsp-advertiser", help="DSP advertiser id (for adsp-* datasets)")
        sub.add_argument("--json", action="store_true", help="print JSON instead of a table")
        sub.add_argument("--media-type", help="override the subscription media type (default: the API model's)")
        sub.add_argument("--dsp-account-header", help="override the DSP account header's name")
    subscribe.add_argument("--dataset", action="append", required=True, help="dataset id, repeatable")
    subscribe.add_argument("--account-id", required=True, help="the AWS account that owns the stream queues")
    subscribe.add_argument("--queue-prefix", default="adsbridge-", help="the stack's queue_prefix (%(default)s)")
    subscribe.add_argument("--notes", default="", help="free text stored with each subscription")
    for sub in (archive, status):
        sub.add_argument("subscription_id", nargs="+")
    listing.set_defaults(func=run, action=_list)
    subscribe.set_defaults(func=run, action=_subscribe)
    archive.set_defaults(func=run, action=_archive)
    status.set_defaults(func=run, action=_status)
    _add_v2_commands(commands)


def _add_v2_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``streams v2 ...``: the v2 API scopes by advertiser account in the body, not by profile in a header."""
    from adsbridge.ads.stream_v2_contract import DATASET_PERFORMANCE

    group = commands.add_parser("v2", help="Marketing Stream v2 subscriptions (Parquet into your S3 bucket)")
    v2_commands = group.add_subparsers(dest="v2_command", required=True)
    listing = v2_commands.add_parser("list", help="list the v2 subscriptions of an advertiser account")
    create = v2_commands.add_parser(
        "create",
        help="subscribe a v2 landing bucket and its notification queue",
        description="Amazon writes the dataset's Parquet files into --bucket-arn and a notification per file to "
        "--queue-arn, starting with up to 70 days of history. Both must be the v2 landing stack's.",
    )
    get = v2_commands.add_parser("get", help="show v2 subscriptions by id")
    archive = v2_commands.add_parser("archive", help="archive v2 subscriptions (the API's delete)")
    for sub in (listing, create, get, archive):
        sub.add_argument("--realm", required=True, type=Realm, choices=list(Realm), help="NA, EU or FE")
        sub.add_argument("--account", required=True, help="advertiser account id (amzn1.ads-account.g.…)")
        sub.add_argument("--json", action="store_true", help="print JSON instead of a table")
    create.add_argument("--dataset", action="append", help=f"v2 dataset id, repeatable ({DATASET_PERFORMANCE})")
    create.add_argument("--bucket-arn", required=True, help="the landing bucket, arn:aws:s3:::<bucket>")
    create.add_argument("--queue-arn", required=True, help="the landing notification queue's ARN")
    for sub in (get, archive):
        sub.add_argument("subscription_id", nargs="+")
    listing.set_defaults(func=run_v2, action=_v2_list)
    create.set_defaults(func=run_v2, action=_v2_create)
    get.set_defaults(func=run_v2, action=_v2_get)
    archive.set_defaults(func=run_v2, action=_v2_archive)


def run_v2(args: argparse.Namespace) -> int:
    """As :func:`run`, for ``streams v2``."""
    from adsbridge.ads import session_for
    from adsbridge.ads.streams_v2 import StreamsV2Client
    from adsbridge.regions import Region

    def call() -> Any:  # the session inside: missing credentials are reported like a failed call
        return args.action(StreamsV2Client(session_for(Region(args.realm.value))), args)

    return _run(f"v2 {args.v2_command}", call, args.json, _V2_COLUMNS)


def _v2_list(client: StreamsV2Client, args: argparse.Namespace) -> Iterator[dict[str, str]]:
    return (s.to_json() for s in client.query(args.account))


def _v2_create(client: StreamsV2Client, args: argparse.Namespace) -> Iterator[dict[str, str]]:
    from adsbridge.ads.stream_v2_contract import DATASET_PERFORMANCE

    for dataset_id in args.dataset or [DATASET_PERFORMANCE]:
        yield client.create(args.account, dataset_id, args.bucket_arn, args.queue_arn).to_json()


def _v2_get(client: StreamsV2Client, args: argparse.Namespace) -> Iterator[dict[str, str]]:
    return (s.to_json() for s in client.retrieve(args.account, args.subscription_id))


def _v2_archive(client: StreamsV2Client, args: argparse.Namespace) -> Iterator[dict[str, str]]:
    return (s.to_json() for s in client.delete(args.account, args.subscription_id))


def run(args: argparse.Namespace) -> int:
    """``streams list|subscribe|archive|status`` (see :func:`_run`)."""
    return _run(args.streams_command, lambda: args.action(_client(args), _owner(args), args), args.json, _COLUMNS)


def _run(
    command: str, call: Callable[[], Iterator[dict[str, str]]], as_json: bool, columns: tuple[tuple[str, str], ...]
) -> int:
    """Print what was done even when a later call fails, so a partial ``subscribe`` is never silent."""
    from adsbridge.ads import AdsError
    from adsbridge.stream.datasets import UnknownDataset

    rows: list[dict[str, str]] = []
    code = 0
    try:
        rows.extend(call())
    except (UnknownDataset, _Usage) as exc:
        print(f"adsbridge streams {command}: {exc}", file=sys.stderr)
        return 2
    except AdsError as exc:
        print(f"adsbridge streams {command}: {exc}", file=sys.stderr)
        code = 1
    if rows or not code:
        print(json.dumps(rows, indent=2) if as_json else _table(rows, columns))
    return code


class _Usage(ValueError):
    pass


def _client(args: argparse.Namespace) -> StreamsClient:
    from adsbridge.ads import StreamsClient, session_for
    from adsbridge.regions import Region

    overrides = {
        name: value
        for name, value in (
            ("media_type", args.media_type),
            ("dsp_account_header", args.dsp_account_header),
        )
        if value
    }
    return StreamsClient(session_for(Region(args.realm.value)), **overrides)


def _owner(args: argparse.Namespace) -> Owner:
    from adsbridge.ads import Owner

    return Owner(args.dsp_advertiser, dsp=True) if args.dsp_advertiser is not None else Owner(args.profile)


def _list(client: StreamsClient, owner: Owner, args: argparse.Namespace) -> Iterator[dict[str, str]]:
    return (s.to_json() for s in client.list(owner))


def _subscribe(client: StreamsClient, owner: Owner, args: argparse.Namespace) -> Iterator[dict[str, str]]:
    from adsbridge.ads.contract import SUBSCRIPTION_NOTES_MAX
    from adsbridge.stream.datasets import QUEUE_PREFIX_PATTERN, get

    if len(args.notes) > SUBSCRIPTION_NOTES_MAX:
        raise _Usage(f"--notes: at most {SUBSCRIPTION_NOTES_MAX} characters (Amazon's API model)")
    if not re.fullmatch(r"[0-9]{12}", args.account_id):
        raise _Usage("--account-id: must be the 12-digit AWS account id that owns the stream queues")
    if not re.fullmatch(QUEUE_PREFIX_PATTERN, args.queue_prefix):
        raise _Usage("--queue-prefix: must be the stack's queue_prefix: 1-20 letters, digits, '_' or '-', then '-'")
    for dataset in [get(dataset_id) for dataset_id in args.dataset]:  # all checked before the first call
        if dataset.is_dsp != owner.dsp:
            raise _Usage(f"{dataset.id} needs {'--dsp-advertiser' if dataset.is_dsp else '--profile'}")
    for dataset_id in args.dataset:
        queue = f"arn:aws:sqs:{args.realm.aws_region}:{args.account_id}:{args.queue_prefix}{dataset_id}"
        subscription_id = client.create(owner, dataset_id, queue, notes=args.notes)
        yield client.get(owner, subscription_id).to_json()


def _archive(client: StreamsClient, owner: Owner, args: argparse.Namespace) -> Iterator[dict[str, str]]:
    for subscription_id in args.subscription_id:
        client.archive(owner, subscription_id)
        yield client.get(owner, subscription_id).to_json()


def _status(client: StreamsClient, owner: Owner, args: argparse.Namespace) -> Iterator[dict[str, str]]:
    return (client.get(owner, subscription_id).to_json() for subscription_id in args.subscription_id)


def _table(rows: list[dict[str, str]], columns: tuple[tuple[str, str], ...]) -> str:
    if not rows:
        return "no subscriptions"
    widths = [max(len(title), *(len(row[key]) for row in rows)) for title, key in columns]
    lines = [[title for title, _ in columns], *([row[key] for _, key in columns] for row in rows)]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip() for line in lines)
