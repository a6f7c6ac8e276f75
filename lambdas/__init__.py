"""AWS Lambda handlers: the functions of the infrastructure document, over this repository's code.

- `whatsapp-webhook-handler`: `lambdas.webhook_handler.handler`, API Gateway HTTP API (v2) events.
- `message-orchestrator`: `lambdas.orchestrator.handler`, SQS FIFO batches
  (`ReportBatchItemFailures`).
- `voice-processor`: `lambdas.voice_processor.handler`, voice notes (Amazon Transcribe).
- `knowledge-base-manager`: `lambdas.kb_manager.handler`, S3 `ObjectCreated` under `kb-documents/`.
- `eum-events-handler`: `lambdas.eum_handler.handler`, AWS End User Messaging Social's SNS events.
- `daily-jobs`: `lambdas.daily_jobs.handler`, the daily export and analytics (EventBridge schedule).
- `handoff-timers`: `lambdas.handoff_timers.handler`, one pass of the human-handoff timers (every
  minute, EventBridge schedule; with `orchestrator=lambda` only).

Nothing is imported here, so that each handler loads only what it needs (cold start): the webhook
handler never loads the graph, the models or FastAPI. What a container builds once (clients, the
compiled graph, one event loop) lives in `lambdas.container`.
"""

__all__: list[str] = []
