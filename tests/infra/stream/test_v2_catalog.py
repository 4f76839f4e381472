"""The v2 catalog in a StreamV2Stack: the Glue table as the runtime defines it, the catalog Lambda on the landing's
queue with partial batch responses, least-privilege grants (both keys' kms:Decrypt), and the v2 views, each read
by a Trino parser against the table's columns (as tests/infra/stream/test_view_sql.py does for v1)."""

from __future__ import annotations

from functools import cache
from typing import Any

import pytest
from aws_cdk.assertions import Match, Template
from infra.app import build_app
from infra.stream.config import StreamConfig
from infra.stream.v2_catalog import BATCH_SIZE, MAX_CONCURRENCY
from infra.stream.v2_stack import StreamV2Stack
from sqlglot import exp
from sqlglot.errors import OptimizeError
from tests.infra.stream.test_view_sql import create_view, in_creation_order

from adsbridge.stream.datasets import Realm
from adsbridge.stream.v2 import amazon
from adsbridge.stream.v2.table import PARQUET_SERDE

DATABASE = "adsbridge_stream_v2_eu_eu_west_2"
TABLE = "ads_performance_v1"


@cache
def template() -> Template:
    config = StreamConfig.parse({"realms": ["EU"], "v2": {"realms": ["EU"], "regions": {"EU": ["eu-west-2"]}}})
    return Template.from_stack(StreamV2Stack(build_app(), "V2", realm=Realm.EU, region="eu-west-2", config=config))


def resources(kind: str) -> dict[str, Any]:
    return dict(template().find_resources(kind))


def test_the_table_reads_parquet_partitioned_as_the_layout_and_holds_the_views_columns() -> None:
    [table] = resources("AWS::Glue::Table").values()
    props = table["Properties"]
    assert props["DatabaseName"] == DATABASE
    tin = props["TableInput"]
    assert tin["Name"] == TABLE
    assert tin["StorageDescriptor"]["SerdeInfo"]["SerializationLibrary"] == PARQUET_SERDE
    assert [k["Name"] for k in tin["PartitionKeys"]] == list(amazon.PARTITION_KEYS)
    columns = {c["Name"]: c["Type"] for c in tin["StorageDescriptor"]["Columns"]}
    assert columns["streambatch"] == "struct<version:bigint>" and columns["adproduct"] == "struct<value:string>"
    assert "projection.enabled" not in tin["Parameters"]  # partitions are registered by the catalog Lambda


def test_the_catalog_lambda_consumes_the_notification_queue_reporting_item_failures() -> None:
    template().has_resource_properties(
        "AWS::Lambda::Function",
        {"Handler": "adsbridge.stream.handlers.v2_catalog.lambda_handler", "Environment": {"Variables": Match.object_like({"DATABASE": DATABASE})}},
    )  # fmt: skip
    [mapping] = resources("AWS::Lambda::EventSourceMapping").values()
    props = mapping["Properties"]
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert props["BatchSize"] == BATCH_SIZE and props["ScalingConfig"] == {"MaximumConcurrency": MAX_CONCURRENCY}
    [queue_id] = [k for k, r in resources("AWS::SQS::Queue").items() if "RedrivePolicy" in r["Properties"]]
    assert props["EventSourceArn"] == {"Fn::GetAtt": [queue_id, "Arn"]}


def catalog_statements() -> list[dict[str, Any]]:
    [role] = [
        k for k, r in resources("AWS::IAM::Role").items() if "v2 catalog" in str(r["Properties"].get("Description"))
    ]
    [policy] = [r for r in resources("AWS::IAM::Policy").values() if r["Properties"]["Roles"] == [{"Ref": role}]]
    return list(policy["Properties"]["PolicyDocument"]["Statement"])


def _actions(statement: dict[str, Any]) -> set[str]:
    actions = statement["Action"]
    return {actions} if isinstance(actions, str) else set(actions)


def test_the_catalog_may_read_files_and_messages_and_change_only_its_tables() -> None:
    statements = catalog_statements()
    granted = set().union(*(_actions(s) for s in statements))
    assert not {a for a in granted if a.startswith(("s3:Put", "s3:Delete", "glue:Delete", "glue:Create"))}
    [glue] = [s for s in statements if "glue:UpdateTable" in _actions(s)]
    assert _actions(glue) == {"glue:GetTable", "glue:UpdateTable", "glue:BatchCreatePartition"}
    assert all("*" not in str(r) for r in glue["Resource"])
    assert any(f"table/{DATABASE}/{TABLE}" in str(r) for r in glue["Resource"])
    keys = {k for k in resources("AWS::KMS::Key") if k.startswith(("LandingDataKey", "LandingQueueKey"))}
    decrypted = {
        s["Resource"]["Fn::GetAtt"][0]
        for s in statements
        if "kms:Decrypt" in _actions(s) and "Fn::GetAtt" in s["Resource"]
    }
    assert len(keys) == 2 and decrypted == keys  # the data key (S3 reads) and the queue key (SQS receives)
    [get] = [s for s in statements if _actions(s) == {"s3:GetObject"}]
    assert "Data" in str(get["Resource"])


def _trino(hive: str) -> exp.DataType:
    return exp.DataType.build(hive, dialect="hive")


def test_every_v2_view_parses_as_trino_and_names_only_columns_the_table_has() -> None:
    [table] = resources("AWS::Glue::Table").values()
    tin = table["Properties"]["TableInput"]
    columns = tin["StorageDescriptor"]["Columns"] + tin["PartitionKeys"]
    schema: dict[str, dict[str, dict[str, Any]]] = {DATABASE: {TABLE: {c["Name"]: _trino(c["Type"]) for c in columns}}}
    created = []
    for view in in_creation_order(dict(template().to_json()["Resources"])):
        db, name, view_columns = create_view(schema, view["Properties"]["Sql"])
        # sqlglot types a struct field it cannot find as UNKNOWN instead of refusing it
        assert "UNKNOWN" not in view_columns.values(), (name, view_columns)
        schema[db][name] = view_columns
        created.append(name)
    assert created == [f"{TABLE}_latest", f"{TABLE}_hourly"]
    assert {"version", "ad_product", "impressions"} <= set(schema[DATABASE][f"{TABLE}_latest"])


def test_a_v2_view_naming_a_column_the_table_lacks_is_refused() -> None:
    schema = {DATABASE: {TABLE: {"campaignid": _trino("string")}}}
    with pytest.raises(OptimizeError, match="nosuch"):
        create_view(schema, f"CREATE OR REPLACE VIEW {DATABASE}.bad AS SELECT t.nosuch AS x FROM {DATABASE}.{TABLE} t")
    nested = {DATABASE: {TABLE: {"streambatch": _trino("struct<version:bigint>")}}}
    sql = f"CREATE OR REPLACE VIEW {DATABASE}.bad AS SELECT t.streambatch.nosuch AS x FROM {DATABASE}.{TABLE} t"
    assert create_view(nested, sql)[2] == {"x": "UNKNOWN"}  # what the check above refuses
