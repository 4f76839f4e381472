"""Lambda entry points of Stream in: Powertools decorators, the AWS clients, then one call into the logic.

``ingest`` (the SQS ingest function), ``subscription_resource`` and ``view_installer`` (custom resources),
``subscription_monitor`` (the hourly schedule). StreamStack names these handlers; the logic they call lives
beside this package, in modules of the same name where there is more than the wiring.
"""
