"""The reports as a person sees them: rendered in headless Chromium, printed to PDF, screenshots kept.

A page must make no request at all (every resource is inline), log no console error, and show its
title; the PDF must have pages with ink on them. Screenshots go to build/screenshots/ to be looked at.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from auditor.report import pdf
from auditor.report.write import Options, write_all
from tests.browser import SCREENSHOTS
from tests.report.conftest import Audited


@pytest.fixture(scope="module")
def written(audited: Audited, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("reports")
    files = write_all(audited.dataset, audited.result, out, Options("fr", 3, ("html",), b"k" * 32))
    personal = next(p for p in files if p.name == "report.html")
    return {"index": out / "index.html", "committee": out / "committee.html", "personal": personal}


@pytest.mark.parametrize("page_name", ["index", "committee", "personal"])
def test_report_renders_offline_without_errors(browser: Any, written: dict[str, Path], page_name: str) -> None:
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    requests: list[str] = []
    errors: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    url = written[page_name].as_uri()
    page.goto(url)
    page.wait_for_load_state("load")
    assert [r for r in requests if r != url] == [], "a report fetched something"
    assert errors == []
    assert page.locator("h1").inner_text().strip()
    assert page.locator("svg[role=img] title").count() >= 1
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"report-{page_name}.png"), full_page=True)
    page.close()


def test_pdf_has_pages_with_ink(written: dict[str, Path], tmp_path: Path) -> None:
    """The personal report printed through the optional extra (the committee one prints the same way)."""
    if not pdf.available():
        pytest.skip("WeasyPrint is not installed (optional auditor[pdf] extra)")
    pdfium = pytest.importorskip("pypdfium2")
    for name in ("personal",):
        target = tmp_path / f"{name}.pdf"
        target.write_bytes(pdf.from_html(written[name].read_text(encoding="utf-8")))
        document = pdfium.PdfDocument(str(target))
        assert len(document) >= 2, name
        image = document[0].render(scale=1).to_pil().convert("L")
        dark = image.histogram()[:128]  # pixels darker than mid-grey
        dark = sum(dark)
        assert dark > 2000, f"{name}: first page looks empty"
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        image.save(SCREENSHOTS / f"{name}-pdf-page1.png")
        document.close()
