"""The export state machine's definition: one ASL file, filled in the way CloudFormation fills it.

The file lives with the CDK app (``statemachine/`` beside this module), which hands it to CDK with
``definition_substitutions``; the demo and the state-machine tests fill it with :func:`definition` and run it
in moto's Step Functions. Only the standard library is imported here, so the dev tooling can use it without CDK.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

ASL_FILE = Path(__file__).resolve().parent / "statemachine/export.asl.json"
_PLACEHOLDER = re.compile(r"\$\{(\w+)\}")


@dataclass(frozen=True)
class MachineSettings:
    """The machine's tunables, named once for ExportStack, the demo and the tests, as the ASL file spells them.

    Each becomes a string substitution (CloudFormation substitutes text); Configure turns them into numbers.
    """

    max_concurrency: int
    poll_interval_seconds: int
    query_poll_seconds: int
    query_max_polls: int
    ads_retry_seconds: int

    def substitutions(self) -> dict[str, str]:
        return {
            "MaxConcurrency": str(self.max_concurrency),
            "PollIntervalSeconds": str(self.poll_interval_seconds),
            "QueryPollSeconds": str(self.query_poll_seconds),
            "QueryMaxPolls": str(self.query_max_polls),
            "AdsRetrySeconds": str(self.ads_retry_seconds),
        }


def placeholders() -> set[str]:
    return set(_PLACEHOLDER.findall(ASL_FILE.read_text()))


def definition(**values: str) -> str:
    """The ASL file filled with ``values``."""
    return fill(ASL_FILE.read_text(), values)


def fill(text: str, values: Mapping[str, str]) -> str:
    """CloudFormation's DefinitionSubstitutions: ``${Name}`` only. Not string.Template, which turns the ASL
    context prefix ``$$.`` into ``$.``. A placeholder without a value raises KeyError naming it.
    """
    return _PLACEHOLDER.sub(lambda match: values[match.group(1)], text)
