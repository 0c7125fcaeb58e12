"""One catalogue for every string a user reads: French first, English complete.

The catalogue is the union of the YAML files in `auditor/locale/` (one file per area: ``messages.yaml``,
``serve.yaml``…); a key maps to ``{fr: ..., en: ...}`` templates formatted with ``str.format`` named
fields. A key defined in two files is an error. A test checks that every key has both languages.
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
    merged: dict[str, dict[str, str]] = {}
    files = sorted((f for f in resources.files("auditor.locale").iterdir() if f.name.endswith(".yaml")),
                   key=lambda f: f.name)
    for file in files:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
        if not isinstance(data, dict):  # pragma: no cover - the files are ours
            raise RuntimeError(f"auditor/locale/{file.name} must be a mapping")
        twice = sorted(set(data) & set(merged))
        if twice:
            raise RuntimeError(f"auditor/locale/{file.name} redefines {twice}")
        merged.update(data)
    return merged


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
