"""Prometheus metrics, one registry per app (tests build many apps)."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import generate_latest

__all__ = ["Metrics"]

_DENIED = {401: "authentication", 403: "forbidden", 429: "rate_limited"}


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "ragseal_requests_total", "HTTP requests", ["method", "route", "status"],
            registry=self.registry)
        self.latency = Histogram(
            "ragseal_request_seconds", "HTTP request latency", ["method", "route"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry)
        self.denied = Counter(
            "ragseal_denied_total", "Requests denied: authentication (401), forbidden (403), "
            "rate_limited (429)", ["reason"],
            registry=self.registry)
        self.verdicts = Counter(
            "ragseal_inspect_verdicts_total", "Inspection verdicts", ["verdict"],
            registry=self.registry)
        self.documents_ingested = Counter(
            "ragseal_documents_ingested_total", "Documents ingested through the API",
            registry=self.registry)
        self.chunks_ingested = Counter(
            "ragseal_chunks_ingested_total", "Chunks ingested through the API",
            registry=self.registry)

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method=method, route=route, status=str(status)).inc()
        self.latency.labels(method=method, route=route).observe(seconds)
        reason = _DENIED.get(status)
        if reason is not None:
            self.denied.labels(reason=reason).inc()

    def ingested(self, chunks: int) -> None:
        self.documents_ingested.inc()
        self.chunks_ingested.inc(chunks)

    def render(self) -> tuple[bytes, str]:
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
