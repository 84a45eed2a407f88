"""A session's Prometheus metrics, in a registry of its own (never the process-global one).

Counters the feed and decoder already keep (frames, bad frames, reconnects) are read when
scraped; the rest follow the journal records the session hands over. Prometheus samples are
floats: money becomes one here, at the edge, and nowhere else.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from ..engine.records import RecordType
from .feed import FeedStatus

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
LATENCY_BUCKETS_S = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class _Live(Collector):
    """What others count, read at scrape time."""

    def __init__(
        self, feed: Callable[[], FeedStatus], feed_health: Callable[[], Mapping[str, int]]
    ) -> None:
        self.feed_status = feed
        self.feed_health = feed_health

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        feed = self.feed_status()
        yield CounterMetricFamily(
            "trio_paper_frames", "WebSocket messages received", value=feed.frames
        )
        bad = self.feed_health().get("bad_frames", 0)
        yield CounterMetricFamily(
            "trio_paper_bad_frames", "messages that failed validation (skipped)", value=bad
        )
        yield CounterMetricFamily(
            "trio_paper_reconnects",
            "connections after the first",
            value=max(0, feed.connects - 1),
        )
        yield GaugeMetricFamily(
            "trio_paper_feed_connected",
            "1 while the WebSocket is up",
            value=int(feed.connected),
        )


class SessionMetrics:
    def __init__(
        self, feed: Callable[[], FeedStatus], feed_health: Callable[[], Mapping[str, int]]
    ) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        r.register(_Live(feed, feed_health))
        self.stale = Counter("trio_paper_stale_periods", "feed stale or disconnected", registry=r)
        self.fills = Counter("trio_paper_fills", "fills", registry=r)
        self.rejects = Counter("trio_paper_rejects", "entries refused by risk", registry=r)
        self.latency = Histogram(
            "trio_paper_frame_to_journal_seconds",
            "from an input's receive time to its records in the journal",
            buckets=LATENCY_BUCKETS_S, registry=r,
        )  # fmt: skip
        self.equity = Gauge("trio_paper_equity_usdt", "account equity", registry=r)
        self.position = Gauge("trio_paper_position", "signed net position (base asset)", registry=r)
        self.price = Gauge("trio_paper_price", "last traded price", registry=r)
        self.checkpoint_age = Gauge(
            "trio_paper_checkpoint_age_seconds", "since the last checkpoint", registry=r
        )
        self._down = False

    def on_records(self, records: list[dict[str, Any]], now_ms: int) -> None:
        if records:
            self.latency.observe(max(0, now_ms - records[-1]["ts"]) / 1000)
        for record in records:
            kind = record["type"]
            if kind == RecordType.FILL:
                self.fills.inc()
            elif kind == RecordType.REJECT:
                self.rejects.inc()
            elif kind == RecordType.FEED and record.get("event") in ("disconnected", "stale"):
                if not self._down:  # a refused redial is another record, not another period
                    self.stale.inc()
                self._down = True
            elif kind == RecordType.FEED and record.get("event") == "recovered":
                self._down = False
            if "equity" in record and record["equity"] is not None:
                self.equity.set(float(Decimal(record["equity"])))
            if "position" in record and record["position"] is not None:
                self.position.set(float(Decimal(record["position"])))

    def render(self) -> bytes:
        """The Prometheus text exposition format."""
        return generate_latest(self.registry)
