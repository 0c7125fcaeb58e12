"""A full disk is something the user can act on: the catalogue's ``disk-full`` (exit 2, where to make room), not
a crash report, whichever writer met it (Python, pyarrow, DuckDB). What the command and the local page say:
``test_worker_lost.py``, for both."""

from __future__ import annotations

import errno
from pathlib import Path

import duckdb

from auditor.errors import disk_full

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
