"""CDK entry point (``cdk.json`` runs this). Every stack is checked by cdk-nag's AwsSolutions rules.

The stacks themselves (StreamStack per realm, ExportStack) arrive with their issues; this module only
builds the app and turns the checks on so that nothing synthesises unchecked.
"""

from __future__ import annotations

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks


def build_app() -> cdk.App:
    app = cdk.App()
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app, verbose=True))
    return app


if __name__ == "__main__":
    build_app().synth()
