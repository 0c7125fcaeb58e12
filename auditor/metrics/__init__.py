"""Metrics: one SQL file per metric, run by DuckDB over the canonical tables (see ``runner``)."""

from __future__ import annotations

from auditor.metrics.catalog import MetricSpec, metric, metrics, views
from auditor.metrics.runner import MetricRunner, run_metrics

__all__ = ["MetricRunner", "MetricSpec", "metric", "metrics", "run_metrics", "views"]
