"""Prometheus metrics of the ingest path (receiver and workers), defined once."""

from prometheus_client import Counter, Gauge, Histogram

WEBHOOKS = Counter(
    "codemill_webhook_requests_total",
    "Webhook requests by provider and outcome",
    ["provider", "outcome"],
)
PUSHES = Counter("codemill_push_events_total", "Push events processed by source", ["source"])
REVIEWS = Counter("codemill_review_comments_total", "Review comments accepted", ["source"])
COMMITS = Counter("codemill_commits_total", "Commits processed by ledger status", ["status"])
EXAMPLES_OUT = Counter(
    "codemill_examples_produced_total", "Examples produced to codemill.examples", ["dataset"]
)
REJECTS = Counter(
    "codemill_rejects_total", "Rejected inputs by stage and reason", ["stage", "kind"]
)
SKIPPED = Counter("codemill_skipped_files_total", "Files skipped by reason", ["reason"])
ROWS_WRITTEN = Counter("codemill_rows_written_total", "Rows committed to Delta", ["table"])
SINK_DUPLICATES = Counter(
    "codemill_sink_duplicates_total", "Records the sink skipped as already written", ["kind"]
)
SINK_COMMIT_SECONDS = Histogram(
    "codemill_sink_batch_seconds",
    "Time to commit one micro-batch to Delta",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
PUSH_SECONDS = Histogram(
    "codemill_push_processing_seconds",
    "Time to fetch and extract one push event",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
LAG = Gauge("codemill_consumer_lag", "Records behind the end of the topic", ["topic", "partition"])
