"""A full disk is something the user can act on: the catalogue's ``disk-full`` (exit 2, where to make room), not
a crash report, whichever writer met it (Python, pyarrow, DuckDB)."""

from __future__ import annotations

import errno
import time
from pathlib import Path

import duckdb
import pytest

from auditor import api
from auditor.cli.main import EXIT_USAGE, main
from auditor.errors import disk_full
from auditor.i18n import t
from tests.conftest import SAMPLES

#: What pyarrow's writers raise on a full disk (seen writing Parquet to /dev/full; not done here: as root, pyarrow
#: replaced the device with a file of that name).
PYARROW_FULL = OSError(errno.ENOSPC, "Error writing bytes to file. Detail: [errno 28] No space left on device")


def test_full_disks_from_every_writer_are_disk_full() -> None:
    for error in (PYARROW_FULL, OSError("Detail: [errno 28] No space left on device"),
                  duckdb.IOException("Could not write file: No space left on device")):
        found = disk_full(error)
        assert found is not None and found.code == "disk-full"
        assert "TMPDIR" in found.render("en") and "TMPDIR" in found.render("fr")


def test_full_disks_are_told_apart_from_other_errors(tmp_path: Path) -> None:
    own = OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "x.parquet"))
    found = disk_full(own)
    assert found is not None and str(tmp_path / "x.parquet") in found.render("en")  # the file named when known
    try:
        try:
            raise own
        except OSError as error:
            raise RuntimeError("while writing the parts") from error
    except RuntimeError as wrapped:
        assert disk_full(wrapped) is not None  # raised while handling a full disk
    assert disk_full(OSError(errno.EACCES, "Permission denied")) is None
    assert disk_full(ValueError("bad")) is None


def test_the_command_says_what_to_do_with_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(api, "load", full)
    with pytest.raises(SystemExit) as exit_info:
        main(["--lang", "en", "audit", str(SAMPLES), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert exit_info.value.code == EXIT_USAGE
    assert "no space left on the disk" in err and "TMPDIR" in err and "Traceback" not in err


def test_the_local_page_says_it_in_its_own_words() -> None:
    """``auditor serve``: a job that meets a full disk ends with the page's advice (no command to type), not
    with the message for a bug."""
    from auditor.serve import work

    def full(job: work.Job) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    job = work.start(work.Job(next_url="/"), full)
    for _ in range(500):
        if job.done:
            break
        time.sleep(0.01)
    assert job.done and job.error is not None
    for lang in ("fr", "en"):
        text = job.error(lang)
        assert "TMPDIR" in text and "`" not in text and "--out" not in text
        assert text != t("serve.error.bug", lang)
