"""One catalogue for every string a user reads: French first, English complete.

The catalogue is `auditor/locale/messages.yaml`; a key maps to ``{fr: ..., en: ...}`` templates
formatted with ``str.format`` named fields. A test checks that every key has both languages.
"""

from __future__ import annotations

import os
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

LANGUAGES = ("fr", "en")
DEFAULT_LANG = "fr"


@lru_cache(maxsize=1)
def catalogue() -> dict[str, dict[str, str]]:
    text = resources.files("auditor.locale").joinpath("messages.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    if not isinstance(data, dict):  # pragma: no cover - the file is ours
        raise RuntimeError("auditor/locale/messages.yaml must be a mapping")
    return data


def current_lang() -> str:
    lang = os.environ.get("AUDITOR_LANG", DEFAULT_LANG)
    return lang if lang in LANGUAGES else DEFAULT_LANG


def t(key: str, lang: str | None = None, /, **params: Any) -> str:
    """Translate ``key`` into ``lang`` (default: $AUDITOR_LANG or French), filling ``params``."""
    entry = catalogue().get(key)
    if entry is None:
        raise KeyError(f"message key not in catalogue: {key}")
    template = entry[lang or current_lang()]
    return template.format(**params) if params else template


def has(key: str) -> bool:
    return key in catalogue()
