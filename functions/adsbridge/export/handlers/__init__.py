"""Lambda handlers of the export state machine: Powertools decorators → parse → one step → small JSON.

``TASKS`` names each Lambda task as the ASL file does (``${<Task>FunctionArn}``), with its handler: the one
list ExportStack deploys and the demo and tests run in moto's Step Functions.
"""

TASKS = {
    "ClaimSchedule": "adsbridge.export.handlers.claim_schedule.lambda_handler",
    "Prepare": "adsbridge.export.handlers.prepare.lambda_handler",
    "UploadChunk": "adsbridge.export.handlers.upload_chunk.lambda_handler",
    "PollStatus": "adsbridge.export.handlers.poll_status.lambda_handler",
    "Report": "adsbridge.export.handlers.report.lambda_handler",
}
