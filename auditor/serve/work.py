"""The slow work behind the page, run in a background thread so the page can show its steps.

Reading keeps one result per uploaded file (so a bad file is named in plain words while the others are
still used); the report step calls only ``write_all`` and keeps the paths it returns; a PDF is made only
when asked for, because it takes far longer than the rest.
"""

from __future__ import annotations

import functools
import json
import sys
import tempfile
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from auditor import api, privacy, schemas
from auditor.errors import AuditorError, actionable, hint, message
from auditor.i18n import has, t
from auditor.io.output import write_bytes
from auditor.io.parquet_files import fast_writer
from auditor.model import Dataset, Provenance
from auditor.policy import Policy
from auditor.report import pdf, render
from auditor.report.write import Options, write_all
from auditor.rules.engine import audit
from auditor.rules.yamlsafe import DocumentError

Step = tuple[str, dict[str, Any]]


@dataclass
class FileResult:
    """What reading one uploaded file gave: the inputs it held (a zip holds several), or why it failed."""

    name: str
    provenance: list[Provenance] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    rejects: dict[str, list[Rejected]] = field(default_factory=dict)  # by input file
    error: AuditorError | None = None


@dataclass
class Rejected:
    """Rows of one input set aside for one reason: how many, and the first one as an example."""

    reason: str
    count: int
    row: int
    params: dict[str, Any]


@dataclass
class Workspace:
    """Everything a session has read and produced so far."""

    files: list[FileResult] = field(default_factory=list)
    dataset: Dataset | None = None
    policy: Policy | None = None
    policy_name: str = ""
    policy_problems: str = ""
    outputs: list[Path] = field(default_factory=list)
    output_kind: str = ""  # "personal" or "committee"
    output_agent: str = ""


@dataclass
class Job:
    """A piece of background work: the steps done so far (message keys), then done or failed."""

    next_url: str
    steps: list[Step] = field(default_factory=list)
    done: bool = False
    error: Callable[[str], str] | None = None  # the failure in a language

    def step(self, key: str, **params: Any) -> None:
        self.steps.append((key, params))


def start(job: Job, work: Callable[[Job], None]) -> Job:
    """Run ``work`` in a daemon thread; any failure becomes a message on the job, never a crash."""

    def run() -> None:
        try:
            work(job)
        except AuditorError as error:
            job.error = functools.partial(plain_error, error)
        except DocumentError as error:
            problems = str(error)
            job.error = lambda lang: t("serve.policy.invalid", lang) + "\n" + problems
        except Exception as error:  # a bug: say so; log only the type (a message could quote a row)
            known = actionable(error)  # not a bug: the user can act on it
            if known is not None:
                job.error = functools.partial(plain_error, known)
                return
            print(f"auditor serve: internal error {type(error).__name__}", file=sys.stderr)
            job.error = lambda lang: t("serve.error.bug", lang)
        finally:
            job.done = True

    threading.Thread(target=run, name="auditor-serve-job", daemon=True).start()
    return job


def read_file(path: Path, shown: str, timezone: str) -> tuple[FileResult, Dataset | None]:
    """Read one upload (a zip is opened into its members); an unreadable file gives its plain-words error."""
    result = FileResult(name=shown)
    try:
        dataset = api.load([path], api.ReadOptions(timezone=timezone))
    except AuditorError as error:
        result.error = error
        return result, None
    result.provenance = dataset.provenance
    result.skipped = dataset.skipped
    counts = Counter((r["source_file"], r["reason"]) for r in dataset.rejects.select(["source_file", "reason"])
                     .to_pylist())
    seen: set[tuple[str, str]] = set()
    for row in dataset.rejects.to_pylist():
        key = (row["source_file"], row["reason"])
        if key not in seen:
            seen.add(key)
            example = Rejected(row["reason"], counts[key], row["source_row"], json.loads(row["params"] or "{}"))
            result.rejects.setdefault(row["source_file"], []).append(example)
    return result, dataset


#: Rows per batch copied into a merged workspace.
BATCH_ROWS = 1 << 16


def merge(datasets: list[Dataset]) -> Dataset:
    """One dataset from several (canonical tables of the same kind share one schema); a single one as it is. If
    one was large enough to be kept in a Parquet workspace, so is the merge (written batch by batch, never held
    whole)."""
    if len(datasets) == 1:
        return datasets[0]
    rejects = pa.concat_tables([d.rejects for d in datasets])
    provenance = [p for d in datasets for p in d.provenance]
    skipped = [s for d in datasets for s in d.skipped]
    kinds = sorted({kind for d in datasets for kind in d.kinds()})
    if all(d.workspace is None for d in datasets):
        tables = {kind: pa.concat_tables([d.tables[kind] for d in datasets if kind in d.tables]) for kind in kinds}
        return Dataset(tables=tables, rejects=rejects, provenance=provenance, skipped=skipped)
    keep = tempfile.TemporaryDirectory(prefix="auditor-workspace-")
    folder = Path(keep.name)
    (folder / "tables").mkdir()
    for kind in kinds:
        schema = schemas.get(kind).arrow
        with fast_writer(folder / "tables" / f"{kind}.parquet", schema) as out:
            for dataset in (d for d in datasets if kind in d.tables):
                path = dataset.parquet(kind)
                batches = (pq.ParquetFile(path).iter_batches(BATCH_ROWS) if path is not None
                           else dataset.tables[kind].to_batches(BATCH_ROWS))
                for batch in batches:
                    out.write_table(pa.Table.from_batches([batch]).cast(schema))
    return Dataset.in_workspace(folder, rejects, provenance, skipped, keep)


def read_uploads(workspace: Workspace, uploads: list[tuple[Path, str]], timezone: str) -> Callable[[Job], None]:
    def work(job: Job) -> None:
        datasets = [workspace.dataset] if workspace.dataset is not None else []
        for number, (path, shown) in enumerate(uploads, 1):
            job.step("serve.step.read", file=shown, number=number, total=len(uploads))
            result, dataset = read_file(path, shown, timezone)
            workspace.files.append(result)
            if dataset is not None:
                datasets.append(dataset)
        workspace.dataset = merge(datasets) if datasets else None
        workspace.outputs = []
        job.step("serve.step.read_done")

    return work


def make_report(workspace: Workspace, out: Path, mode: str, agent: str, lang: str) -> Callable[[Job], None]:
    def work(job: Job) -> None:
        dataset = workspace.dataset
        if dataset is None:  # pragma: no cover - the page offers no report before a file is read
            raise RuntimeError("no dataset")
        job.step("serve.step.audit")
        result = audit(dataset, workspace.policy)
        job.step("serve.step.write")
        options = Options(lang=lang, k=privacy.DEFAULT_K, formats=render.FORMATS, key=privacy.new_key())
        # write_all finds the person who holds the identifier (the declaration may give them several);
        # their files are the ones in their own folder, the committee's stay beside it.
        written = write_all(dataset, result, out, options, agents=[agent] if mode == "personal" else [])
        if mode == "personal":
            written = [path for path in written if path.parent != out] or written
        workspace.outputs, workspace.output_kind, workspace.output_agent = list(written), mode, agent
        job.step("serve.step.report_done")

    return work


def make_pdf(workspace: Workspace, html: Path) -> Callable[[Job], None]:
    """The report shown, printed to PDF on demand: WeasyPrint takes seconds per page, so only if asked."""

    def work(job: Job) -> None:
        job.step("serve.step.pdf")
        target = html.with_suffix(".pdf")
        write_bytes(target, pdf.from_html(html.read_text(encoding="utf-8")))
        workspace.outputs = [*workspace.outputs, target]
        job.step("serve.step.report_done")

    return work


def plain_error(error: AuditorError, lang: str) -> str:
    """The error as the command line says it, without advice about options a page user cannot type."""
    text = error.render(lang)
    advice = hint(error.code, lang, **error.params)
    if advice and "`" in advice:
        text = text.removesuffix(f" {advice}")
        if has(f"serve.hint.{error.code}"):
            text += " " + t(f"serve.hint.{error.code}", lang, **error.params)
    return text


def warning_lines(provenance: Provenance, lang: str) -> list[str]:
    """The file's warnings as sentences (counts filled in)."""
    return [message(code, lang, count=count, timezone=provenance.timezone)
            for code, count in provenance.warnings.items()]


def reject_lines(result: FileResult, file: str, lang: str) -> list[str]:
    """Each reason rows were set aside for, with the first such line as an example."""
    return [t("serve.files.rejected", lang, count=r.count, line=r.row, reason=message(r.reason, lang, **r.params))
            for r in result.rejects.get(file, [])]
