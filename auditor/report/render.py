"""Turn a view model into HTML (Jinja2, autoescape on, no script, CSP), Markdown or JSON (schema-checked)."""

from __future__ import annotations

import json
import re
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import jinja2
import jsonschema
from markupsafe import Markup

from auditor.i18n import format_number, t
from auditor.schemas import schemas_dir

#: Text formats of a report (``render``); "pdf" is printed from the HTML and needs the ``auditor[pdf]`` extra.
FORMATS = ("html", "md", "json")
ALL_FORMATS = (*FORMATS, "pdf")
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|#])")
_LINKISH = re.compile(r"://|\bwww\.|@|\.(fr|com|org|net|local|eu|gouv)\b", re.IGNORECASE)


def md(value: Any) -> str:
    """A value as inert Markdown text: no link, no markup, one line (URLs stay text)."""
    return _md_text(str(value))


@lru_cache(maxsize=4096)
def _md_text(text: str) -> str:
    """``md`` of a text, escaped at once and kept for the next report: most are the catalogue's, the same in every
    one (2,000 personal reports escaped 2.6 million words one by one: 6.8 -> 5.5 ms of CPU a person for the three
    formats, 10 M fixes)."""
    words = text.split()
    if _LINKISH.search(text) is None:  # what looks like a link holds no blank: then no word does either
        return _md_word(" ".join(words))
    return " ".join(_md_word(word) for word in words)


def _md_word(word: str) -> str:
    if _LINKISH.search(word):  # a code span: shown as typed, never turned into a link
        return "`" + word.replace("`", "'").replace("|", "\\|") + "`"
    return _MD_SPECIAL.sub(r"\\\1", word)


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("auditor.report", "templates"),
        # HTML templates escape everything; Markdown ones pass every data value through the ``md`` filter.
        autoescape=jinja2.select_autoescape(disabled_extensions=("md.j2",), default=True, default_for_string=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,  # the templates are the package's: not looked at again on every report (four stats each)
    )
    env.filters["md"] = md
    return env


def _number(value: Any, lang: str) -> Any:
    """Counts as people read them ("10 000 000"); a masked count ("moins de 5") is already text."""
    return format_number(value, lang) if isinstance(value, int | float) and not isinstance(value, bool) else value


def html(view: dict[str, Any]) -> str:
    lang = view["lang"]
    charts = {
        (tool["tool"], tool["kind"]): {name: Markup(svg) for name, svg in tool.get("charts", {}).items()}
        for tool in view.get("tools", [])
    }
    return environment().get_template(f"{view['type']}.html.j2").render(
        v=view, charts=charts, t=lambda key, **kw: t(key, lang, **kw), n=lambda x: _number(x, lang))


def index_html(view: dict[str, Any], links: list[dict[str, Any]]) -> str:
    """The committee report with, at its top, a link to every personal report (for whoever ran the audit)."""
    return html({**view, "links": links})


def markdown(view: dict[str, Any]) -> str:
    lang = view["lang"]
    return environment().get_template(f"{view['type']}.md.j2").render(
        v=view, t=lambda key, **kw: t(key, lang, **kw), n=lambda x: _number(x, lang))


def as_json(view: dict[str, Any]) -> str:
    """The JSON document without the pictures (their figures are in ``figures``), checked by its schema."""
    data = plain_json(view)
    for tool in data.get("tools", []):
        tool.pop("charts", None)
    validate(data)
    return indented_json(data)


def plain_json(data: Any) -> Any:
    """``data`` as it reads back from JSON (tuples as lists, keys as text, times and other objects as their ``str``,
    a NaN as ``None``: what the written document holds), by ``orjson`` (0.03 ms a personal report against 0.3 for
    the standard library's round trip); integers beyond 64 bits are left to the standard library."""
    import orjson

    options = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
    try:
        return orjson.loads(orjson.dumps(data, default=_as_json_value, option=options))
    except orjson.JSONEncodeError:
        return json.loads(json.dumps(data, ensure_ascii=False, default=str), parse_constant=lambda _: None)


def _as_json_value(value: Any) -> Any:
    """What the standard library's encoder does with ``default=str``: a float's subclass (numpy's) is a number."""
    return float(value) if isinstance(value, float) else str(value)


def indented_json(data: Any) -> str:
    """``data`` as sorted, two-space indented JSON text, by ``orjson``: the standard library's encoder is pure Python
    as soon as it indents (1 ms of a personal report's 5); integers beyond 64 bits are left to it. A NaN or an
    infinity is written ``null`` (the standard library wrote ``NaN``, which JSON readers refuse)."""
    import orjson

    try:
        return orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode("utf-8") + "\n"
    except orjson.JSONEncodeError:
        return json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


@cache
def report_schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((schemas_dir() / "report.schema.json").read_text(encoding="utf-8"))
    return loaded


@cache
def _validator() -> jsonschema.protocols.Validator:
    """Checked and compiled once: ``jsonschema.validate`` re-checks the schema itself on every call."""
    schema = report_schema()
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


@cache
def _compiled() -> Any:
    """The schema compiled by ``jsonschema-rs`` (Rust): a personal report checked in 0.01 ms instead of 3 ms,
    which was a fifth of writing one (2,000 reports of a 10 M-fix audit)."""
    import jsonschema_rs

    return jsonschema_rs.validator_for(report_schema(), offline=True)  # never fetches a reference


def validate(data: dict[str, Any]) -> None:
    """Raise ``jsonschema.ValidationError`` unless ``data`` follows ``schemas/report.schema.json``.

    Checked by the compiled schema; a document it refuses is checked again by ``jsonschema``, which stays the
    reference (a NaN is a "number" to it, not to the compiled schema; the report schema has no such field) and whose
    error says what is wrong and where.
    """
    if not _compiled().is_valid(data):
        _validator().validate(data)


def render(view: dict[str, Any], fmt: str) -> str:
    if fmt == "html":
        return html(view)
    if fmt == "md":
        return markdown(view)
    if fmt == "json":
        return as_json(view)
    raise ValueError(fmt)


def format_of(path: Path) -> str:
    suffix = path.suffix.lower().lstrip(".")
    return {"htm": "html", "markdown": "md"}.get(suffix, suffix)
