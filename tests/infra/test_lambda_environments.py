"""Every synthesized adsbridge Lambda's environment parses with its handler's model, tokens resolved.

The stacks build each ``environment`` from the model (``Model.variables``), which checks names but not values at
synthesis (they are CDK tokens there); this is where the values are checked, as the handler will parse them.
"""

from __future__ import annotations

from typing import Any

from tests.infra.synthesized import synthesized

from adsbridge.export.handlers import environment as export_environment
from adsbridge.lambda_environment import LambdaEnvironmentError
from adsbridge.stream.handlers import environment as stream_environment

MODELS = export_environment.MODELS | stream_environment.MODELS


def adsbridge_functions() -> list[tuple[str, str, dict[str, str]]]:
    """(logical id, handler, environment with tokens resolved) of every function running adsbridge code."""
    app = synthesized()
    found = []
    for (stack, logical_id), function in app.resources("AWS::Lambda::Function").items():
        properties: dict[str, Any] = function["Properties"]
        if not properties.get("Handler", "").startswith("adsbridge."):
            continue  # CDK's own provider framework
        variables = properties.get("Environment", {}).get("Variables", {})
        found.append((logical_id, properties["Handler"], {k: str(app.resolve(stack, v)) for k, v in variables.items()}))
    return found


def test_every_function_environment_parses_with_its_handlers_model() -> None:
    functions = adsbridge_functions()
    assert {handler for _, handler, _ in functions} - set(MODELS) == set(), "every deployed handler has a model"
    failures = {}
    for logical_id, handler, environment in functions:
        try:
            MODELS[handler].from_environ(environment)
        except LambdaEnvironmentError as exc:
            failures[logical_id] = str(exc)
    assert failures == {}


def test_the_monitor_gets_its_owners_and_the_notifier_its_topics() -> None:
    """The JSON-valued variables arrive as JSON the models read, not as text that only looks like it."""
    parsed = [MODELS[handler].from_environ(env) for _, handler, env in adsbridge_functions()]
    monitors = [env for env in parsed if isinstance(env, stream_environment.MonitorEnvironment)]
    assert any(env.owners for env in monitors)
    [notify] = [env for env in parsed if isinstance(env, export_environment.NotifyEnvironment)]
    assert len(notify.alarm_topics) == 1  # the fixture's own alarm topic
