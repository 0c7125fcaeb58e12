"""The forms of `auditor serve`: files, the declaration, the report asked for, the end of the session.

Each POST carries the session's CSRF token (checked before any file is kept); the slow work goes to a
background job and the browser is sent to the status page.
"""

from __future__ import annotations

import hmac

from python_multipart.exceptions import MultipartParseError
from starlette.requests import Request
from starlette.responses import Response

from auditor.i18n import t
from auditor.io.times import DEFAULT_ZONE
from auditor.policy import parse_policy
from auditor.report import pdf
from auditor.rules.yamlsafe import DocumentError
from auditor.serve import uploads, work
from auditor.serve.pages import busy, page, refuse, see_other, session_of
from auditor.serve.sessions import Session


async def upload(request: Request) -> Response:
    session = session_of(request)
    if busy(session):
        return see_other("/status")
    limits: uploads.Limits = request.app.state.limits
    folder = session.new_folder("upload")
    try:
        form = await uploads.receive(request, folder, limits, session.csrf)
    except (uploads.NotMultipart, MultipartParseError):
        return refuse(request, 400, "serve.error.form")
    if not form.csrf_ok:
        return refuse(request, 403, "serve.refused.csrf")
    if form.total_exceeded or form.too_large:
        text = (t("serve.upload.total_too_large", session.lang, limit=limits.total_bytes // uploads.MIB)
                if form.total_exceeded else
                t("serve.upload.file_too_large", session.lang, files=", ".join(form.too_large),
                  limit=limits.file_bytes // uploads.MIB))
        if not form.files:
            return page(request, "message.html.j2", 413, title=t("serve.upload.too_large_title", session.lang),
                        text=text)
        session.notice = text
    if not form.files:
        return see_other("/")
    space = session.workspace = session.workspace or work.Workspace()
    session.job = work.start(work.Job(next_url="/#files"),
                             work.read_uploads(space, form.files, timezone=DEFAULT_ZONE))
    return see_other("/status")


async def policy(request: Request) -> Response:
    session = session_of(request)
    if busy(session):
        return see_other("/status")
    limits = uploads.Limits(files=1, file_bytes=min(request.app.state.limits.file_bytes, uploads.MIB))
    try:
        form = await uploads.receive(request, session.new_folder("policy"), limits, session.csrf)
    except (uploads.NotMultipart, MultipartParseError):
        return refuse(request, 400, "serve.error.form")
    if not form.csrf_ok:
        return refuse(request, 403, "serve.refused.csrf")
    space = session.workspace = session.workspace or work.Workspace()
    if form.fields.get("action") == "remove":
        space.policy, space.policy_name, space.policy_problems = None, "", ""
        return see_other("/#policy")
    if form.too_large or form.total_exceeded:
        space.policy_problems = t("serve.policy.too_large", session.lang)
        return see_other("/#policy")
    if not form.files:
        return see_other("/#policy")
    path, shown = form.files[0]
    try:
        space.policy = parse_policy(path.read_text(encoding="utf-8"), uploads.safe_name(shown))
        space.policy_name, space.policy_problems = shown, ""
    except UnicodeDecodeError:
        space.policy, space.policy_problems = None, t("serve.policy.not_text", session.lang)
    except DocumentError as error:
        space.policy, space.policy_problems = None, str(error)
    space.outputs = []
    return see_other("/#policy")


async def run(request: Request) -> Response:
    session = session_of(request)
    if busy(session):
        return see_other("/status")
    form = await request.form(max_files=0, max_fields=10)
    if not _csrf_ok(form.get("csrf"), session):
        return refuse(request, 403, "serve.refused.csrf")
    space = session.workspace
    if space is None or space.dataset is None:
        return see_other("/")
    mode = str(form.get("mode", ""))
    agent = str(form.get("agent", ""))
    if mode not in ("personal", "committee") or (mode == "personal" and agent not in space.dataset.agents()):
        session.notice = t("serve.run.choose", session.lang)
        return see_other("/#report")
    out = session.new_folder("report")
    session.job = work.start(work.Job(next_url="/report"), work.make_report(space, out, mode, agent, session.lang))
    return see_other("/status")


def _csrf_ok(value: object, session: Session) -> bool:
    return isinstance(value, str) and hmac.compare_digest(value.encode(), session.csrf.encode())


async def end(request: Request) -> Response:
    session = session_of(request)
    form = await request.form(max_files=0, max_fields=10)
    if not _csrf_ok(form.get("csrf"), session):
        return refuse(request, 403, "serve.refused.csrf")
    request.app.state.store.end(session)
    response = page(request, "message.html.j2", title=t("serve.end.title", session.lang),
                    text=t("serve.end.text", session.lang), ended=True)
    response.delete_cookie(request.app.state.cookie, path="/", httponly=True, samesite="strict")
    return response


async def make_pdf(request: Request) -> Response:
    session = session_of(request)
    if busy(session):
        return see_other("/status")
    form = await request.form(max_files=0, max_fields=10)
    if not _csrf_ok(form.get("csrf"), session):
        return refuse(request, 403, "serve.refused.csrf")
    space = session.workspace
    html = next((p for p in space.outputs if p.suffix == ".html" and p.exists()), None) if space else None
    if space is None or html is None or not pdf.available():
        return see_other("/report")
    session.job = work.start(work.Job(next_url="/report"), work.make_pdf(space, html))
    return see_other("/status")
