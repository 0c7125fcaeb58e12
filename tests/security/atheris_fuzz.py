"""Coverage-guided fuzzing of one parser with atheris (libFuzzer), for release time; not run in CI.

atheris is not a dependency: ``uv run --with`` brings it for one run, without touching pyproject.toml::

    uv run --with atheris python -m tests.security.atheris_fuzz gpx -max_total_time=600

The parser is forced (detection bypassed) and seeded with its committed sample; any exception other than
``InputError`` — or rows that do not balance, which ``api`` reports as a bug — is a crash that libFuzzer
saves as ``crash-*`` in the current folder. Extra arguments go to libFuzzer.
"""

from __future__ import annotations

import contextlib
import sys
import tempfile
from pathlib import Path

import atheris  # type: ignore[import-not-found]
import duckdb  # noqa: F401 - the libraries first, uninstrumented: instrumenting them takes minutes
import icalendar  # noqa: F401
import pandas  # noqa: F401
import pyarrow.parquet  # noqa: F401

with atheris.instrument_imports(include=["auditor"]):  # coverage feedback from our code only
    from auditor.api import ReadOptions, load
    from auditor.errors import InputError
    from auditor.sources import registry
    from auditor.sources.base import Source

    registry.parsers()  # every parser module, imported (and instrumented) now
from tests.security.corpus import sample_of


def main() -> None:
    parser = sys.argv[1]
    sample = sample_of(parser)
    seeds = Path(tempfile.mkdtemp(prefix=f"atheris-{parser}-"))
    (seeds / sample.name).write_bytes(sample.read_bytes()[:16384])

    def one_input(data: bytes) -> None:
        with contextlib.suppress(InputError):
            load([Source.from_bytes(data, sample.name)], ReadOptions(parser=parser, agent="agent"))

    atheris.Setup([sys.argv[0], *sys.argv[2:], str(seeds)], one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
