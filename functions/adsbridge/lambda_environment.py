"""The environment-variable contract between a stack and its Lambda handlers, written once per handler.

Each handler's variables are one pydantic model (``adsbridge.<capability>.handlers.environment``): a field per
variable, the variable's name as the field's alias. Both sides use the same model:

- the handler parses its environment with ``Model.from_environ()``; a missing or bad variable fails at once with
  a message naming the variable, and the parse is cached per distinct environment (once per cold start);
- the stack builds the function's ``environment={...}`` with ``Model.variables(field=text, ...)``, the names
  coming from the model. The values there are the variables' text and may be CDK tokens (a bucket name, a
  ``to_json_string``), which only resolve at deployment, so ``variables`` checks the names (an unknown field or
  a missing required one fails synthesis) but not the values; tests/infra parses every synthesized Lambda's
  environment, tokens resolved, with its handler's model (``MODELS``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import lru_cache
from typing import Self, TypeVar, cast

from pydantic import BaseModel, ConfigDict, ValidationError


class LambdaEnvironmentError(RuntimeError):
    """A Lambda's environment lacks a variable its handler needs, or holds a bad value: a deployment bug."""


class LambdaEnvironment(BaseModel):
    """Base of every handler's environment model; subclasses declare ``field: T = Field(alias="NAME")``."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> Self:
        """The handler's variables from ``environ`` (``os.environ`` unless given), parsed once per distinct value."""
        env = os.environ if environ is None else environ
        names = tuple(field.alias or name for name, field in cls.model_fields.items())
        return cast(Self, _parse(cls, tuple((name, env[name]) for name in names if name in env)))

    @classmethod
    def variables(cls, **values: str) -> dict[str, str]:
        """``environment=`` for the stack: each field's text under its variable name (values unchecked: tokens)."""
        unknown = sorted(set(values) - set(cls.model_fields))
        missing = sorted(name for name, field in cls.model_fields.items() if field.is_required() and name not in values)
        if unknown or missing:
            raise ValueError(f"{cls.__name__}: unknown {unknown}, missing {missing}")
        return {cls.model_fields[name].alias or name: text for name, text in values.items()}


_Model = TypeVar("_Model", bound=LambdaEnvironment)


@lru_cache(maxsize=32)
def _parse(model: type[_Model], items: tuple[tuple[str, str], ...]) -> _Model:
    try:
        return model.model_validate(dict(items))
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, error['loc']))}: {error['msg']}" for error in exc.errors())
        raise LambdaEnvironmentError(f"bad Lambda environment ({model.__name__}): {problems}") from None
