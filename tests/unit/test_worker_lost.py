"""A worker process the system stopped (out of memory, most often) is something the user can act on: the
catalogue's ``worker-lost`` (exit 2, how to give the audit less memory), not a crash report. What the command and
the local page say of it and of a full disk (``disk-full``, ``test_disk_full.py``)."""

from __future__ import annotations

import errno
import os
import signal
import time
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import pyarrow as pa
import pytest

from auditor import api
from auditor.cli.main import EXIT_USAGE, main
from auditor.errors import actionable, worker_lost
from auditor.i18n import t
from auditor.metrics import runner
from auditor.rules.engine import audit
from tests.conftest import SAMPLES


def _stopped(bucket: int) -> dict[str, pa.Table]:
    """A bucket worker the system kills (module level: the pool sends it by name)."""
    os.kill(os.getpid(), signal.SIGKILL)
    raise AssertionError("unreachable")


@pytest.mark.skipif("fork" not in __import__("multiprocessing").get_all_start_methods(), reason="needs fork")
def test_a_killed_metrics_worker_is_worker_lost(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner, "BUCKET_ROWS", 500)
    monkeypatch.setattr(runner, "BUCKET_WORKERS", 2)
    dataset = api.load([SAMPLES], api.ReadOptions(large_input_bytes=0))
    monkeypatch.setattr(runner, "_measure_in_worker", _stopped)
    with pytest.raises(BrokenProcessPool) as raised:
        audit(dataset)
    found = actionable(raised.value)
    assert found is not None and found.code == "worker-lost"
    assert "AUDITOR_MEMORY_LIMIT" in found.render("fr") and "AUDITOR_MEMORY_LIMIT" in found.render("en")


def test_only_a_lost_worker_is_worker_lost() -> None:
    try:
        try:
            raise BrokenProcessPool("A process in the process pool was terminated abruptly")
        except BrokenProcessPool as error:
            raise RuntimeError("while writing the reports") from error
    except RuntimeError as wrapped:
        assert worker_lost(wrapped) is not None  # raised while handling one
    assert worker_lost(ValueError("bad")) is None and actionable(ValueError("bad")) is None


#: Errors the user can act on, what the command says of them, and the variable the local page names.
ACTIONABLE = [
    (OSError(errno.ENOSPC, "No space left on device"), "no space left on the disk", "TMPDIR"),
    (BrokenProcessPool("A process in the process pool was terminated abruptly"), "for want of memory",
     "AUDITOR_MEMORY_LIMIT"),
]


@pytest.mark.parametrize(("error", "said", "variable"), ACTIONABLE, ids=["disk-full", "worker-lost"])
def test_the_command_says_what_to_do_with_exit_2(error: Exception, said: str, variable: str, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    def failing(*args: object, **kwargs: object) -> None:
        raise error

    monkeypatch.setattr(api, "load", failing)
    with pytest.raises(SystemExit) as exit_info:
        main(["--lang", "en", "audit", str(SAMPLES), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert exit_info.value.code == EXIT_USAGE
    assert said in err and f"{variable}=" in err and "Traceback" not in err


@pytest.mark.parametrize(("error", "said", "variable"), ACTIONABLE, ids=["disk-full", "worker-lost"])
def test_the_local_page_says_it_in_its_own_words(error: Exception, said: str, variable: str) -> None:
    """``auditor serve``: a job that meets it ends with the page's advice (no command to type), not with the
    message for a bug."""
    from auditor.serve import work

    def failing(job: work.Job) -> None:
        raise error

    job = work.start(work.Job(next_url="/"), failing)
    for _ in range(500):
        if job.done:
            break
        time.sleep(0.01)
    assert job.done and job.error is not None
    for lang in ("fr", "en"):
        text = job.error(lang)
        assert variable in text and "`" not in text and "auditor audit" not in text and "--out" not in text
        assert text != t("serve.error.bug", lang)
