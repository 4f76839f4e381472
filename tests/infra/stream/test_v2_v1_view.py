"""``sp_v1_v2_hourly`` is deployed where the realm's v1 stream database is in the v2 landing's region, and nowhere else.

Athena resolves a view's tables in the Glue Data Catalog of its own region, and v1 lives only in its realm's region
(infra/stream/v2_stack.py). The view reads v1 by its database's name, a string fixed by the config, so the v2 stack
imports nothing from the v1 stack; it deploys after it, since Athena checks a view's sources when it creates it.
"""

from __future__ import annotations

import json
from typing import Any

from aws_cdk.assertions import Template
from infra.app import build_app
from infra.stream.config import StreamConfig
from infra.stream.stack import build_stream_stacks
from infra.stream.v2_stack import StreamV2Stack, build_v2_stacks
from tests.infra.stream.test_view_sql import create_view, glue_tables, in_creation_order
from tests.infra.synthesized import synthesized

from adsbridge.stream.v2.views import SP_ALIGNED

V1_NA, V2_NA = "adsbridge_stream_na", "adsbridge_stream_v2_na_us_east_1"


def _views(resources: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["Properties"]["View"]: r for r in resources.values() if r["Type"] == "Custom::AthenaView"}


def test_the_fixture_app_has_the_view_only_where_v1_shares_the_region() -> None:
    """NA's v1 and v2 are both in us-east-1, FE's in us-west-2; EU's v1 is in eu-west-1, not eu-west-2."""
    app = synthesized()
    having = {stack for stack in app.templates if SP_ALIGNED in _views(app.template(stack)["Resources"])}
    assert having == {"AdsbridgeStreamV2-NA-us-east-1", "AdsbridgeStreamV2-FE-us-west-2"}
    assert {"AdsbridgeStreamV2-EU-eu-west-2", "AdsbridgeStreamV2-FE-ap-southeast-1"} <= set(app.templates)


def test_the_view_parses_as_trino_against_the_v1_and_v2_columns() -> None:
    """Every column it names exists in NA's v1 ``sp_traffic_hourly`` or in NA's v2 hourly view, as synthesized."""
    app = synthesized()
    schema: dict[str, dict[str, dict[str, str]]] = {}
    for stack in ("AdsbridgeStream-NA", "AdsbridgeStreamV2-NA-us-east-1"):
        resources = app.template(stack)["Resources"]
        for database, tables in glue_tables(resources).items():
            schema.setdefault(database, {}).update(tables)
        for view in in_creation_order(resources):
            database, name, columns = create_view(schema, view["Properties"]["Sql"])
            schema[database][name] = columns
    aligned = schema[V2_NA][SP_ALIGNED]
    assert {"campaign_id", "dt", "hour", "v1_clicks", "v2_clicks", "v1_cost", "v2_cost"} <= set(aligned)
    assert (
        f"FROM {V1_NA}.sp_traffic_hourly"
        in _views(app.template("AdsbridgeStreamV2-NA-us-east-1")["Resources"])[SP_ALIGNED]["Properties"]["Sql"]
    )


def test_the_view_installer_may_read_v1_and_write_only_its_own_views() -> None:
    resources = synthesized().template("AdsbridgeStreamV2-NA-us-east-1")["Resources"]
    [policy] = [
        r["Properties"]["PolicyDocument"]
        for k, r in resources.items()
        if r["Type"] == "AWS::IAM::Policy" and k.startswith("CatalogViewsInstaller")
    ]
    reads = [s for s in policy["Statement"] if "glue:GetTable" in s["Action"] and "glue:CreateTable" not in s["Action"]]
    writes = [s for s in policy["Statement"] if "glue:CreateTable" in s["Action"]]
    assert f"table/{V1_NA}/*" in json.dumps(reads) and f"database/{V1_NA}" in json.dumps(reads)
    assert writes and V1_NA not in json.dumps(writes)
    assert "Fn::ImportValue" not in json.dumps(resources)  # the name is a string, not an export


def _v2_stacks(stream: dict[str, Any]) -> dict[str, StreamV2Stack]:
    app = build_app()
    config = StreamConfig.parse(stream)
    stacks = build_v2_stacks(app, config, build_stream_stacks(app, config))
    return {stack.stack_name: stack for stack in stacks if isinstance(stack, StreamV2Stack)}


def test_the_v2_stack_deploys_after_the_v1_stack_it_reads() -> None:
    stacks = _v2_stacks({"realms": ["NA"], "v2": {"realms": ["NA"]}})
    [stack] = stacks.values()
    assert stack.v1_database == V1_NA and SP_ALIGNED in stack.catalog.views.resources
    assert [dependency.stack_name for dependency in stack.dependencies] == ["AdsbridgeStream-NA"]


def test_no_view_without_a_v1_stream_of_the_realm_or_without_its_sp_traffic() -> None:
    without_v1 = _v2_stacks({"realms": ["EU"], "v2": {"realms": ["NA"]}})
    without_sp = _v2_stacks({"realms": ["NA"], "datasets": ["sb-traffic"], "v2": {"realms": ["NA"]}})
    for stack in [*without_v1.values(), *without_sp.values()]:
        assert stack.v1_database is None and stack.dependencies == []
        assert set(stack.catalog.views.resources) == {"ads_performance_v1_latest", "ads_performance_v1_hourly"}
        assert SP_ALIGNED not in json.dumps(Template.from_stack(stack).to_json())
