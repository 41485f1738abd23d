"""Prometheus metrics served on ``/metrics`` by every service and the gateway."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

HTTP_REQUESTS = Counter(
    "postloan_http_requests_total",
    "HTTP requests handled",
    ["service", "method", "route", "status"],
)
HTTP_LATENCY = Histogram(
    "postloan_http_request_seconds",
    "HTTP request latency",
    ["service", "method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
EVENTS_CONSUMED = Counter(
    "postloan_events_consumed_total", "Events applied or skipped", ["consumer", "outcome"]
)
EVENT_LAG = Histogram(
    "postloan_event_lag_seconds",
    "Time from an event's creation to its application by a consumer",
    ["consumer"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 60.0),
)
DEAD_LETTERS = Counter("postloan_dead_letters_total", "Events dead-lettered", ["consumer"])
OUTBOX_BACKLOG = Gauge("postloan_outbox_backlog", "Events waiting in the outbox", ["service"])
OUTBOX_PUBLISHED = Counter("postloan_outbox_published_total", "Events relayed", ["service"])
