"""ExportStack: S3 drop → EventBridge rule → the export state machine (ASL file) → reports in S3, with alarms.

``build_export_stacks(app, config)`` is what ``infra/app.py`` calls. The stack is composed of its parts, one
module each: storage.py (buckets), functions.py (task functions and their rights), machine.py (the state
machine), triggers.py (job rules, Scheduler schedules, their dead-letter queue) and notifications.py (alarms,
Notify).

The parts build in the stack's own scope rather than under a construct of their own, as StreamStack's do: a
logical id is derived from the construct path, so moving the buckets under a ``Storage`` construct would rename
``Input49F21B70`` and CloudFormation would replace every deployed resource (the retained buckets orphaned with
their data, new empty ones created). Each part therefore adds its resources under the ids the stack always used.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import Stack

from constructs import Construct
from infra.export.config import ExportConfig
from infra.export.functions import ExportFunctions
from infra.export.machine import export_machine
from infra.export.notifications import ExportNotifications
from infra.export.storage import ExportStorage
from infra.export.triggers import JobTriggers


def build_export_stacks(app: cdk.App, config: ExportConfig) -> list[cdk.Stack]:
    return [ExportStack(app, "AdsbridgeExport", config=config)]


class ExportStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, config: ExportConfig, **kwargs: object) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        self.storage = ExportStorage(self, config)
        self.functions = ExportFunctions(self, config, self.storage, machine_name=self.machine_name).functions
        self.state_machine = export_machine(self, config, self.functions, name=self.machine_name)
        self.triggers = JobTriggers(self, config, self.storage, self.state_machine)
        self.notifications = ExportNotifications(
            self, config, self.storage, self.state_machine, self.triggers.dead_letters
        )

    @property
    def machine_name(self) -> str:
        """Named, so Prepare's role can name its executions without depending on the machine (a cycle)."""
        return f"{self.stack_name}-export"
