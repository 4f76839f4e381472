"""Every Athena view, as the installer sends it, read by a Trino parser against the tables the stack creates.

Athena engine version 3 is Trino. Each ``Custom::AthenaView`` statement in the synthesized StreamStack is
parsed with sqlglot's Trino dialect and every column it names is resolved against the Glue tables of the same
template (``StorageDescriptor.Columns`` + ``PartitionKeys``) and the views created before it, in the order
CloudFormation creates them. DuckDB runs the same SQL in the integration tests, but it neither speaks Trino
nor sees the Glue definitions: a column the tables lack would pass there and fail only at deployment.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import pytest
import sqlglot
from aws_cdk.assertions import Template
from infra.app import build_app
from infra.stream.config import StreamConfig
from infra.stream.stack import StreamStack
from sqlglot import exp
from sqlglot.errors import OptimizeError
from sqlglot.optimizer.annotate_types import annotate_types
from sqlglot.optimizer.qualify import qualify

from adsbridge.stream import datasets, views
from adsbridge.stream.datasets import Realm

Schema = dict[str, dict[str, dict[str, str]]]  # database → table or view → column → type


@cache
def template() -> dict[str, Any]:
    """Every dataset (the default), so every view kind and both performance joins."""
    stack = StreamStack(build_app(), "ViewSql", realm=Realm.EU, config=StreamConfig.parse({"realms": ["EU"]}))
    return dict(Template.from_stack(stack).to_json())


def glue_tables(resources: dict[str, Any]) -> Schema:
    schema: Schema = {}
    for resource in resources.values():
        if resource["Type"] == "AWS::Glue::Table":
            table = resource["Properties"]["TableInput"]
            columns = table["StorageDescriptor"]["Columns"] + table["PartitionKeys"]
            schema.setdefault(resource["Properties"]["DatabaseName"], {})[table["Name"]] = {
                c["Name"]: c["Type"] for c in columns
            }
    return schema


def in_creation_order(resources: dict[str, Any]) -> list[dict[str, Any]]:
    """The view resources, each after every view resource it depends on."""
    remaining = {k: r for k, r in resources.items() if r["Type"] == "Custom::AthenaView"}
    ordered: list[dict[str, Any]] = []
    while remaining:
        ready = sorted(k for k, r in remaining.items() if not set(r.get("DependsOn", [])) & set(remaining))
        assert ready, f"a dependency cycle among {sorted(remaining)}"
        ordered += [remaining.pop(k) for k in ready]
    return ordered


def create_view(schema: Schema, sql: str) -> tuple[str, str, dict[str, str]]:
    """(database, view, column → Trino type) of one ``CREATE OR REPLACE VIEW``; raises when a column is unknown."""
    statement = sqlglot.parse_one(sql, read="trino")
    assert isinstance(statement, exp.Create) and statement.args["kind"] == "VIEW" and statement.args.get("replace")
    target = statement.this
    query = qualify(statement.expression, schema=schema, dialect="trino", validate_qualify_columns=True)
    query = annotate_types(query, schema=schema, dialect="trino")
    for total in query.find_all(exp.Sum):
        assert total.this.type.is_type(*exp.DataType.NUMERIC_TYPES), f"{target.name}: {total.sql('trino')}"
    names = query.named_selects
    assert len(names) == len(set(names)), f"{target.name}: a column named twice"
    return target.db, target.name, {s.alias_or_name: s.type.sql("trino") for s in query.selects}


def test_every_view_parses_as_trino_and_names_only_columns_the_tables_have() -> None:
    resources = template()["Resources"]
    schema = glue_tables(resources)
    [database] = schema
    assert len(schema[database]) == len(datasets.catalogue())
    created = []
    for resource in in_creation_order(resources):
        props = resource["Properties"]
        db, view, columns = create_view(schema, props["Sql"])
        assert (db, view) == (props["Database"], props["View"]) == (database, props["View"])
        schema[database][view] = columns  # later views select from this one
        created.append(view)
    assert created == [v.name for v in views.views(database, datasets.catalogue().values())]
    # The views keep what they select from: every table column reaches the entity views and the dedup views.
    for dataset in datasets.catalogue().values():
        kept = f"{dataset.table}_dedup" if dataset.is_metric else f"{dataset.table}_latest"
        if kept in schema[database]:
            assert set(schema[database][dataset.table]) <= set(schema[database][kept]), kept
    # Openbridge's names show exactly the raw table's columns, in its order.
    for name, (dataset_id, _) in views.OPENBRIDGE.items():
        assert list(schema[database][name]) == list(schema[database][datasets.get(dataset_id).table]), name


@pytest.mark.parametrize(
    "select",
    [
        "SELECT t.no_such_column FROM {db}.sp_traffic t",
        "SELECT no_such_column, dt, count(*) AS n FROM {db}.sp_traffic GROUP BY no_such_column, dt",
        "SELECT * FROM (SELECT t.*, row_number() OVER (PARTITION BY t.no_such_column ORDER BY t._received_at) AS _rn "
        "FROM {db}.campaigns t) ranked WHERE _rn = 1",
    ],
)
def test_a_view_naming_a_column_no_table_has_is_refused(select: str) -> None:
    """The check above can fail: the same resolution refuses a column the Glue tables lack."""
    schema = glue_tables(template()["Resources"])
    [database] = schema
    with pytest.raises(OptimizeError, match="no_such_column"):
        create_view(schema, f"CREATE OR REPLACE VIEW {database}.bad AS " + select.format(db=database))


def test_a_sum_over_text_is_refused() -> None:
    schema = glue_tables(template()["Resources"])
    [database] = schema
    with pytest.raises(AssertionError, match="SUM"):
        create_view(
            schema, f"CREATE OR REPLACE VIEW {database}.bad AS SELECT sum(currency) AS c FROM {database}.sp_traffic"
        )
