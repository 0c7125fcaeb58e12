"""Parsers, one module per format family, registered with ``@register``; see registry.py."""

from auditor.sources.base import BatchBuilder, Head, ParseContext, Parser, Source
from auditor.sources.registry import detect, get, parsers, register

__all__ = ["BatchBuilder", "Head", "ParseContext", "Parser", "Source", "detect", "get", "parsers", "register"]
