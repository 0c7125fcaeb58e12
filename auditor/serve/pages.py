"""The pages of `auditor serve` that show things: the start page with the files read, progress, the report.

Every page is a Jinja2 template (autoescape) in the session's language; the status page refreshes itself
(``<meta http-equiv=refresh>``) while the work runs, so nothing needs JavaScript.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import jinja2
from babel.numbers import format_decimal
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from auditor import schemas
from auditor.i18n import LANGUAGES, has, t
from auditor.report import pdf
from auditor.serve import uploads, work
from auditor.serve.security import REPORT_CSP
from auditor.serve.sessions import Session
from auditor.sources import registry

MEDIA_TYPES = {".html": "text/html; charset=utf-8", ".md": "text/markdown; charset=utf-8",
               ".json": "application/json", ".pdf": "application/pdf"}


@cache
def environment() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.PackageLoader("auditor.serve", "templates"), autoescape=True,
                              undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def page(request: Request, name: str, status: int = 200, **values: Any) -> HTMLResponse:
    session = session_of(request)
    lang = session.lang

    def translate(key: str, **params: Any) -> str:
        return t(key, lang, **params)

    here = request.url.path if request.method == "GET" else "/"
    values.setdefault("ended", False)
    html = environment().get_template(name).render(t=translate, lang=lang, csrf=session.csrf, here=here,
                                                   **values)
    return HTMLResponse(html, status_code=status)


def session_of(request: Request) -> Session:
    session: Session = request.state.session  # set by the Guard, which refuses requests without one
    return session


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def busy(session: Session) -> bool:
    return session.job is not None and not session.job.done


def lang_from_query(request: Request) -> None:
    lang = request.query_params.get("lang")
    if lang in LANGUAGES:
        session_of(request).lang = lang


def refuse(request: Request, status: int, key: str, title: str = "serve.error.title") -> HTMLResponse:
    """A page saying, in the session's language, why the request was not done."""
    lang = session_of(request).lang
    return page(request, "message.html.j2", status, title=t(title, lang), text=t(key, lang))


async def index(request: Request) -> Response:
    lang_from_query(request)
    session = session_of(request)
    if busy(session):
        return see_other("/status")
    space = session.workspace or work.Workspace()
    notice, session.notice = session.notice, ""
    rows = file_rows(space, session.lang)
    return page(request, "index.html.j2", files=rows, summary=summary(rows, session.lang), notice=notice,
                agents=space.dataset.agents() if space.dataset else [], space=space,
                limits=request.app.state.limits, mib=uploads.MIB)


def file_rows(space: work.Workspace, lang: str) -> list[dict[str, Any]]:
    """One row per input read (a zip gives several, grouped under its name), or per upload not read."""
    rows: list[dict[str, Any]] = []
    for result in space.files:
        if result.error is not None:
            error = work.plain_error(result.error, lang)
            rows.append({"group": "", "file": result.name, "error": error, "skipped": False})
            continue
        for p in result.provenance:
            rows.append({
                **_where(result.name, p.file), "error": None, "skipped": False,
                "tool": registry.get(p.parser).title[lang], "kind": schemas.get(p.kind).title[lang],
                "rows": p.rows_parsed, "shown_rows": number(p.rows_parsed, lang),
                "problems": [*work.reject_lines(result, p.file, lang), *work.warning_lines(p, lang)],
            })
        rows += [{**_where(result.name, s["file"]), "error": None, "skipped": True} for s in result.skipped]
    return rows


def _where(upload: str, file: str) -> dict[str, str]:
    """A member of an uploaded zip is shown by its path inside, under the zip's name."""
    inside = file.removeprefix(f"{upload}:")
    return {"group": upload if inside != file else "", "file": inside}


def summary(rows: list[dict[str, Any]], lang: str) -> str:
    read = [r for r in rows if not r["error"] and not r["skipped"]]
    problems = len(rows) - len(read)
    key = "serve.files.summary_problems" if problems else "serve.files.summary"
    return t(key, lang, files=len(read), rows=number(sum(r["rows"] for r in read), lang), problems=problems)


def number(value: int, lang: str) -> str:
    return format_decimal(value, locale=lang)


async def status(request: Request) -> Response:
    lang_from_query(request)
    session = session_of(request)
    job = session.job
    if job is None:
        return see_other("/")
    if job.done and job.error is None:
        return see_other(job.next_url)
    error = job.error(session.lang) if job.error is not None else None
    steps = [t(key, session.lang, **params) for key, params in job.steps]
    return page(request, "status.html.j2", steps=steps, error=error, running=not job.done)


async def report(request: Request) -> Response:
    lang_from_query(request)
    session = session_of(request)
    space = session.workspace
    if space is None or not space.outputs:
        return see_other("/")
    outputs = list(enumerate(space.outputs))
    letters = [(i, p) for i, p in outputs if p.name.startswith("letter")]
    reports = [(i, p) for i, p in outputs if (i, p) not in letters]
    shown = next((i for i, p in reports if p.suffix == ".html"), None)
    letter_text = letters[0][1].read_text(encoding="utf-8") if letters else ""
    pdf_offered = shown is not None and not any(p.suffix == ".pdf" for _, p in reports) and pdf.available()
    return page(request, "report.html.j2", space=space, reports=download_labels(reports, session.lang),
                letters=letters, shown=shown, letter_text=letter_text, pdf_offered=pdf_offered)


def download_labels(files: list[tuple[int, Path]], lang: str) -> list[tuple[int, str, str]]:
    """(index, label, file name): the first file of a format is "the report" in it, any other is named."""
    seen: set[str] = set()
    labelled = []
    for index, path in files:
        fmt = path.suffix.lstrip(".")
        first = fmt not in seen and has(f"serve.format.{fmt}")
        seen.add(fmt)
        label = t(f"serve.format.{fmt}", lang) if first else t("serve.format.other", lang, format=fmt.upper())
        labelled.append((index, label, path.name))
    return labelled


async def output(request: Request) -> Response:
    session = session_of(request)
    space = session.workspace
    index = request.path_params["index"]
    if space is None or not 0 <= index < len(space.outputs) or not space.outputs[index].exists():
        return refuse(request, 404, "serve.error.gone")
    path = space.outputs[index]
    download = request.url.path.endswith("/download")
    kind = space.output_kind
    name = f"auditor-{path.name}" if path.stem == kind else f"auditor-{kind}-{path.name}"
    return FileResponse(path, media_type=MEDIA_TYPES.get(path.suffix, "application/octet-stream"),
                        filename=name, content_disposition_type="attachment" if download else "inline",
                        headers={"content-security-policy": REPORT_CSP})


async def formats(request: Request) -> Response:
    """The exports auditor reads, so a person can tell which one to ask their employer for."""
    lang_from_query(request)
    lang = session_of(request).lang
    rows = sorted(((p.title[lang], schemas.get(p.kind).title[lang], p.blind_spots[lang]) for p in registry.parsers()),
                  key=lambda row: row[0].casefold())
    return page(request, "formats.html.j2", rows=rows)
