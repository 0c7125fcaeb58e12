"""Write a whole audit to disk: committee report, index, one folder per person (report + letter), findings.

Every file is written atomically; names and order are stable, so the same inputs give the same bytes.
``committee.*`` names nobody and is what goes to the committee; ``index.html`` is the same report plus
links to every personal report, for whoever ran the audit to hand each person their own folder.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from auditor.i18n import t
from auditor.io.csv_out import write_csv
from auditor.io.output import ensure_dir, write_bytes, write_text
from auditor.model import Dataset
from auditor.report import committee, letter, pdf, personal, render
from auditor.report.index import ReportIndex
from auditor.report.people import Person, find, people
from auditor.rules.engine import AuditResult

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(agent: str) -> str:
    """A folder name that cannot escape DIR nor collide: readable part + short hash of the identifier."""
    ascii_name = unicodedata.normalize("NFKD", agent).encode("ascii", "ignore").decode("ascii")
    readable = _UNSAFE.sub("_", ascii_name).strip("._")[:40] or "agent"
    return f"{readable}-{hashlib.sha256(agent.encode('utf-8')).hexdigest()[:8]}"


@dataclass(frozen=True)
class Options:
    lang: str
    k: int
    formats: Sequence[str]
    key: bytes
    raw_identifiers: bool = False


def agent_letter(view: dict[str, Any], result: AuditResult, lang: str, name: str | None = None) -> str:
    by_kind: dict[str, list[str]] = {}
    for tool in view["tools"]:  # one section per kind of data, naming every tool that holds it
        by_kind.setdefault(tool["kind"], []).append(tool["tool"])
    tools = [(", ".join(sorted(names)), kind) for kind, names in sorted(by_kind.items())]
    used = {tool["tool"] for tool in view["tools"]}
    not_given = [c["title"][lang] for f in result.findings if f.tool in used for c in f.capabilities]
    return letter.letter(tools, lang, name=name, not_given=not_given)


CSV_COLUMNS = ("rule", "tool", "kind", "severity_text", "evidence_text", "agents_affected", "agents_observed",
               "title", "ask")


def write_findings_csv(view: dict[str, Any], target: Path) -> None:
    """The committee's findings as a spreadsheet (same k-suppressed counts; formulas neutralised)."""
    lang = view["lang"]
    header = [t(f"report.csv.{name}", lang) for name in CSV_COLUMNS]
    write_csv(target, header, ([f.get(name) for name in CSV_COLUMNS] for f in view["findings"]))


def write_view(view: dict[str, Any], stem: Path, formats: Sequence[str]) -> list[Path]:
    """``stem``.html/.md/.json/.pdf for each format asked (the PDF is printed from the HTML)."""
    written = []
    for fmt in formats:
        path = stem.with_name(f"{stem.name}.{fmt}")
        if fmt == "pdf":
            write_bytes(path, pdf.from_html(render.render(view, "html")))
        else:
            write_text(path, render.render(view, fmt))
        written.append(path)
    return written


def write_personal(dataset: Dataset, result: AuditResult, who: Person | str, folder: Path, options: Options,
                   index: ReportIndex | None = None) -> list[Path]:
    """report.* and letter.md of one person (a Person, or a bare identifier) in ``folder``."""
    pictures = any(fmt in ("html", "pdf") for fmt in options.formats)  # only HTML (and PDF) show the charts
    view = personal.build(dataset, result, who, options.lang, with_svg=pictures, index=index)
    written = write_view(view, folder / "report", options.formats)
    write_text(folder / "letter.md", agent_letter(view, result, options.lang))
    return [*written, folder / "letter.md"]


#: Below this many people, starting worker processes costs more than it saves.
PARALLEL_MIN = 48
_SHARED: dict[str, Any] = {}


def write_people(dataset: Dataset, result: AuditResult, chosen: Sequence[Person], out: Path, options: Options,
                 index: ReportIndex, workers: int | None = None,
                 progress: Callable[[str], None] | None = None) -> list[list[Path]]:
    """Every chosen person's folder under ``out/agents``, on every core for large batches (same bytes, same order).

    Workers are forked so they share the loaded tables and ``index`` (built before) without copying; a
    workspace dataset's workers each read their people's rows from its parts. Where fork does not exist
    (Windows, macOS defaults) the reports are written one after the other. ``progress(text)`` says how many are
    written (a year of exports for thousands of agents takes a minute).
    """
    workers = workers if workers is not None else min(os.cpu_count() or 1, 4)
    order = index.reading_order(chosen)  # written in the order their rows lie, returned in the order chosen
    jobs = [(chosen[place], out / "agents" / safe_name(chosen[place].name)) for place in order]
    written: list[list[Path]] = [[] for _ in chosen]
    if len(jobs) < PARALLEL_MIN or workers < 2 or "fork" not in multiprocessing.get_all_start_methods():
        done: Iterable[list[Path]] = (write_personal(dataset, result, person, folder, options, index)
                                      for person, folder in jobs)
        return _collect(done, order, written, progress)
    _SHARED.update(dataset=dataset, result=result, options=options, index=index)
    try:
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
            done = pool.map(_write_job, jobs, chunksize=max(1, len(jobs) // (workers * 8)))
            return _collect(done, order, written, progress)
    finally:
        _SHARED.clear()


def _collect(done: Iterable[list[Path]], order: list[int], written: list[list[Path]],
             progress: Callable[[str], None] | None) -> list[list[Path]]:
    """Each person's files put back in the order chosen, as they come (in the order written)."""
    for count, (place, files) in enumerate(zip(order, done, strict=True), start=1):
        written[place] = files
        if progress:
            progress(t("progress.reports_done", None, done=count, n=len(order)))
    return written


def _write_job(job: tuple[Person, Path]) -> list[Path]:
    person, folder = job
    return write_personal(_SHARED["dataset"], _SHARED["result"], person, folder, _SHARED["options"], _SHARED["index"])


def selected_people(dataset: Dataset, result: AuditResult, wanted: Sequence[str] | None) -> list[Person]:
    """Everyone (one per person of the identity map, else per identifier), or those named or holding ``wanted``."""
    everyone = people(dataset, result.policy)
    if wanted is None:
        return everyone
    chosen = {person.name: person for name in wanted if (person := find(everyone, name)) is not None}
    return [chosen[name] for name in sorted(chosen)]


def write_all(dataset: Dataset, result: AuditResult, out: Path, options: Options,
              agents: Sequence[str] | None = None, progress: Callable[[str], None] | None = None) -> list[Path]:
    ensure_dir(out)
    view = committee.build(dataset, result, options.key, options.k, options.lang, options.raw_identifiers)
    written = write_view(view, out / "committee", options.formats)
    write_findings_csv(view, out / "committee-findings.csv")
    written.append(out / "committee-findings.csv")
    write_text(out / "findings.json", render.indented_json(render.plain_json(result.to_dict())))
    written.append(out / "findings.json")
    index = ReportIndex(dataset, result)
    links = []
    chosen = selected_people(dataset, result, agents)
    for person, files in zip(chosen, write_people(dataset, result, chosen, out, options, index, progress=progress),
                             strict=True):
        written += files
        links.append({"name": person.name, "identifiers": ", ".join(person.identifiers),
                      "files": [{"href": f.relative_to(out).as_posix(), "label": f.name} for f in files]})
    write_text(out / "index.html", render.index_html(view, links))
    written.append(out / "index.html")
    return written
