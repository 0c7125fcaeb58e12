"""Output safety: CSV formula injection, inert HTML, proxy URLs as text, atomic owner-only files, all under --out.

The report checks go through `auditor audit` on exports whose agents and URLs are hostile, and look only at
what lands on disk (the report modules are being reworked; their files are the contract).
"""

from __future__ import annotations

import csv
import os
import stat
from html.parser import HTMLParser
from pathlib import Path

import pytest

from auditor.cli.main import main
from auditor.io import csv_out, output
from tests.conftest import SAMPLES

IMG = "<img src=x onerror=alert(1)>"
IMG_NO_SPACE = "<img/src=x/onerror=alert(2)>"  # squid's user field cannot hold a space
ESCAPE = "../../escape"
URL = 'http://evil.example/"><script>alert(3)</script>'
TICKS = "http://evil.example/`<img/src=x/onerror=alert(4)>`/"  # breaks out of a Markdown code span


# --- CSV ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("start", csv_out.FORMULA_STARTS)
def test_every_formula_start_is_neutralised(start: str, tmp_path: Path) -> None:
    cell = f"{start}HYPERLINK(\"http://evil.example\";\"x\")"
    target = tmp_path / "rejects.csv"
    csv_out.write_csv(target, ["raw"], [[cell]])
    with open(target, encoding="utf-8-sig", newline="") as handle:
        [header, row] = list(csv.reader(handle, delimiter=";"))
    assert header == ["raw"]
    assert row == ["'" + cell]


@pytest.mark.parametrize(("value", "cell"), [
    ("jdupont", "jdupont"), ("a=b", "a=b"), ("", ""), (None, ""), (-3, "-3"), (2.5, "2.5"), (True, "True"),
    ("'quoted", "'quoted"), (" =1+1", " =1+1"), ("\n=1", "\n=1"),
])
def test_other_cells_are_kept_as_they_are(value: object, cell: str) -> None:
    assert csv_out.neutralise(value) == cell


def test_csv_round_trips_delimiters_quotes_and_line_ends(tmp_path: Path) -> None:
    rows = [["a;b", 'say "hi"', "two\nlines", "é€’"], ["@SUM(A1)", "-2+3", "+33 6", "=1"]]
    target = tmp_path / "out.csv"
    assert csv_out.write_csv(target, ["w", "x", "y", "z"], rows) == 2
    assert target.read_bytes().startswith(b"\xef\xbb\xbf")  # Excel reads the accents right
    with open(target, encoding="utf-8-sig", newline="") as handle:
        back = list(csv.reader(handle, delimiter=";"))
    assert back[1] == rows[0]
    assert back[2] == ["'@SUM(A1)", "'-2+3", "'+33 6", "'=1"]
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_csv_write_is_atomic(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    csv_out.write_csv(target, ["x"], [["old"]])

    def rows() -> list[list[str]]:
        raise RuntimeError("the data source failed half-way")

    with pytest.raises(RuntimeError):
        csv_out.write_csv(target, ["x"], (row for row in [["new"], *rows()]))
    assert "old" in target.read_text(encoding="utf-8-sig")
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]  # no temporary file left behind


# --- atomic writes --------------------------------------------------------------------------------------


def test_a_planted_symlink_is_replaced_not_followed(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious", encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    (out / "committee.html").symlink_to(victim)
    output.write_text(out / "committee.html", "report")
    assert victim.read_text(encoding="utf-8") == "precious"
    assert not (out / "committee.html").is_symlink()
    assert (out / "committee.html").read_text(encoding="utf-8") == "report"


def test_a_failed_write_keeps_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "report.md"
    output.write_text(target, "old")
    with pytest.raises(ZeroDivisionError), output.atomic_open(target) as handle:
        handle.write("half")
        _ = 1 / 0
    assert target.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["report.md"]


# --- the reports of `auditor audit` on hostile exports --------------------------------------------------


class _Tags(HTMLParser):
    """Every start tag with its attributes, as a browser would build them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _hostile_exports(folder: Path) -> list[Path]:
    folder.mkdir()
    positions = (SAMPLES / "positions-csv.csv").read_text(encoding="utf-8")
    squid = (SAMPLES / "squid-native.log").read_text(encoding="utf-8")
    assert "bdubois" in positions and "rlegrand" in squid
    assert "http://www.leboncoin.fr/" in squid and "http://fonts.googleapis.com/" in squid
    (folder / "positions.csv").write_text(positions.replace("bdubois", IMG).replace("kmoreau", ESCAPE),
                                          encoding="utf-8")
    (folder / "access.log").write_text(
        squid.replace("rlegrand", IMG_NO_SPACE).replace("http://www.leboncoin.fr/", URL)
        .replace("http://fonts.googleapis.com/", TICKS), encoding="utf-8")
    return sorted(folder.iterdir())


@pytest.fixture(scope="module")
def audit_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("hostile-audit")
    inputs = _hostile_exports(base / "in")
    before = sorted(p.relative_to(base) for p in base.rglob("*"))
    out = base / "out"
    with pytest.raises(SystemExit) as leaving:
        main(["audit", *map(str, inputs), "--out", str(out), "--format", "html,md,json"])
    assert leaving.value.code in (0, None)
    after = sorted(p.relative_to(base) for p in base.rglob("*") if not p.is_relative_to(out))
    assert after == before, "a file was written outside --out"
    return out


def test_nothing_is_written_outside_out_even_for_a_path_like_agent(audit_out: Path) -> None:
    assert not (audit_out.parent / "escape").exists() and not (audit_out.parent.parent / "escape").exists()
    for path in audit_out.rglob("*"):
        assert path.resolve().is_relative_to(audit_out.resolve())
        assert ".." not in path.relative_to(audit_out).parts


def test_every_output_is_owner_only_and_no_temporary_is_left(audit_out: Path) -> None:
    paths = list(audit_out.rglob("*"))
    assert any(p.suffix == ".html" for p in paths)
    for path in paths:
        mode = stat.S_IMODE(path.stat().st_mode)
        if path.is_dir():
            assert mode & 0o077 == 0, (path, oct(mode))
        else:
            assert mode == 0o600, (path, oct(mode))
            assert not path.name.endswith(".tmp"), path


def _check_inert(page: Path, html: str) -> str:
    """The text a browser shows of ``html``; fails on any element, handler or link the data could have made."""
    parser = _Tags()
    parser.feed(html)
    for tag, attrs in parser.tags:
        assert tag not in ("img", "script", "iframe", "object", "embed", "base", "form"), (page, tag, attrs)
        assert not any(name.startswith("on") for name in attrs), (page, tag, attrs)
        for name in ("href", "src", "action", "xlink:href"):
            value = (attrs.get(name) or "").strip().lower()
            assert "evil.example" not in value and not value.startswith(("javascript:", "data:")), (page, attrs)
    return "".join(parser.text)


def test_html_shows_hostile_data_as_text_and_never_as_markup_or_links(audit_out: Path) -> None:
    shown = "".join(_check_inert(page, page.read_text(encoding="utf-8")) for page in audit_out.rglob("*.html"))
    assert IMG in shown or IMG_NO_SPACE in shown  # the name is there, as text


def test_markdown_renders_to_inert_html(audit_out: Path) -> None:
    """Markdown viewers pass raw HTML through (CommonMark does): the data must not be able to make any."""
    from markdown_it import MarkdownIt

    renderer = MarkdownIt("commonmark", {"html": True, "linkify": False})
    shown = "".join(_check_inert(page, renderer.render(page.read_text(encoding="utf-8")))
                    for page in audit_out.rglob("*.md"))
    assert "evil.example" in shown


def test_csv_written_by_audit_has_no_live_formula(audit_out: Path) -> None:
    tables = list(audit_out.rglob("*.csv"))
    for table in tables:
        with open(table, encoding="utf-8-sig", newline="") as handle:
            for row in csv.reader(handle, delimiter=";"):
                risky = [cell for cell in row if cell.startswith(csv_out.FORMULA_STARTS)
                         and not cell.lstrip("-+").replace(".", "", 1).replace(",", "", 1).isdigit()]
                assert not risky, (table.name, risky)


def test_mode_of_created_folders_ignores_a_permissive_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        output.write_text(tmp_path / "a" / "b" / "report.md", "x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "a").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "a" / "b" / "report.md").stat().st_mode) == 0o600
