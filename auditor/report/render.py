"""Turn a view model into HTML (Jinja2, autoescape on, no script, CSP), Markdown or JSON (schema-checked)."""

from __future__ import annotations

import json
import re
from functools import cache
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
    return " ".join(_md_word(word) for word in str(value).split())


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
    data = json.loads(json.dumps(view, ensure_ascii=False, default=str))
    for tool in data.get("tools", []):
        tool.pop("charts", None)
    validate(data)
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
def _finding_validator() -> jsonschema.protocols.Validator:
    """The schema's ``finding`` definition on its own (with the definitions it refers to)."""
    schema = report_schema()
    finding = {"$schema": schema["$schema"], "$defs": schema["$defs"], "$ref": "#/$defs/finding"}
    return jsonschema.validators.validator_for(schema)(finding)


#: Findings already checked in this process, by their JSON text: a finding is most of a report's nodes and the
#: same text recurs in every report that has it (a personal report lists each of its tools' findings twice).
_CHECKED_FINDINGS: set[str] = set()
_CHECKED_MAX = 100_000


def validate(data: dict[str, Any]) -> None:
    """Raise ``jsonschema.ValidationError`` unless ``data`` follows ``schemas/report.schema.json``.

    The same check as validating the whole document: the findings lists, whose items the schema checks only
    against its ``finding`` definition, are checked item by item, each distinct finding once per process, and the
    rest of the document with those lists emptied.
    """
    tools, findings = data.get("tools"), data.get("findings")
    if not (isinstance(tools, list) and isinstance(findings, list)
            and all(isinstance(tool, dict) and isinstance(tool.get("findings"), list) for tool in tools)):
        _validator().validate(data)  # not the usual shape: the plain check says what is wrong, and where
        return
    _validator().validate({**data, "findings": [], "tools": [{**tool, "findings": []} for tool in tools]})
    for finding in [*findings, *(finding for tool in tools for finding in tool["findings"])]:
        text = json.dumps(finding, ensure_ascii=False, sort_keys=True)
        if text not in _CHECKED_FINDINGS:
            _finding_validator().validate(finding)
            if len(_CHECKED_FINDINGS) >= _CHECKED_MAX:
                _CHECKED_FINDINGS.clear()
            _CHECKED_FINDINGS.add(text)


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
