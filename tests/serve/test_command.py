"""`auditor serve` as a user starts it: prints the address, serves, stops on Ctrl-C with exit 0, leaves no
temporary file, and logs neither the token nor anything about the files."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from auditor.cli.main import main
from auditor.serve.server import bind_loopback
from tests.conftest import ROOT, SAMPLES
from tests.serve.conftest import Client


def test_ctrl_c_stops_cleanly_and_deletes_everything(tmp_path: Path) -> None:
    env = {**os.environ, "TMPDIR": str(tmp_path), "AUDITOR_LANG": "fr"}
    command = [sys.executable, "-c", "from auditor.cli.main import main; main()", "serve", "--no-browser"]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    try:
        assert process.stdout is not None
        url = urlsplit(process.stdout.readline().strip())
        assert url.hostname == "127.0.0.1" and url.query.startswith("token=")
        client = Client(url.port or 0)
        assert client.get(f"/?{url.query}").status == 303
        sample = SAMPLES / "kelio-clockings-csv.csv"
        reply = client.post_form("/upload", {"csrf": client.csrf()}, [("files", sample.name, sample.read_bytes())])
        assert reply.status == 303
        client.wait_done()
        assert sample.name in client.get("/").text
        assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == [sample.name]
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert list(tmp_path.iterdir()) == []
    assert url.query.removeprefix("token=") not in err + out
    assert sample.name not in err and "GET" not in err and "POST" not in err
    assert "arrêté" in err


def test_a_busy_port_is_a_usage_error(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUDITOR_LANG", "fr")  # restored afterwards, though --lang changes it
    taken = bind_loopback()
    try:
        with pytest.raises(SystemExit) as exit_info:
            main(["--lang", "en", "serve", "--no-browser", "--port", str(taken.getsockname()[1])])
    finally:
        taken.close()
    assert exit_info.value.code == 2
    assert "is not available" in capsys.readouterr().err
