"""The whole page in Debian's Chromium, as an agent uses it: choose the exports, read what was found, pick
who you are, read the report in the page, download the letter — in French, then in English.
Screenshots go to build/screenshots/ for a person to look at."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import Any

from auditor.serve.server import LocalServer
from tests.browser import SCREENSHOTS
from tests.conftest import SAMPLES

VIEWPORT = {"width": 1280, "height": 720}  # a small laptop


def _samples_zip(folder: Path) -> Path:
    target = folder / "exports.zip"
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(SAMPLES.rglob("*")):
            if path.is_file():
                archive.write(path, f"exports/{path.relative_to(SAMPLES)}")
    return target


def _shot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"serve-{name}.png"), full_page=True)


def _read_and_report(page: Any, words: dict[str, str], files: list[Path], name: str) -> None:
    page.get_by_label(words["drop"]).set_input_files([str(p) for p in files])
    _shot(page, f"{name}-1-start")
    page.get_by_role("button", name=words["read"]).click()
    page.wait_for_url("**/#files", timeout=30_000)  # through the self-refreshing status page
    assert page.get_by_text(re.compile(words["summary"])).is_visible()
    if page.locator("details.files").get_attribute("open") is None:  # many files: the table starts closed
        page.get_by_text(words["details"]).focus()
        page.keyboard.press("Enter")
    table = page.get_by_role("table", name=words["caption"])
    assert table.get_by_role("row").count() > len(files)
    assert "bdubois" in page.get_by_label(words["agent"]).inner_text()
    _shot(page, f"{name}-2-files")
    page.get_by_label(words["agent"]).select_option("bdubois")
    page.get_by_role("button", name=words["run"]).click()
    if "/status" in page.url:  # the self-refreshing progress page, when caught (not part of the checks)
        _shot(page, f"{name}-3-progress")
    page.wait_for_url("**/report", timeout=30_000)
    frame = page.frame_locator("iframe.report")
    assert frame.locator("h1").first.inner_text()
    assert "bdubois" in page.get_by_role("main").inner_text()
    _shot(page, f"{name}-4-report")
    with page.expect_download() as download_info:
        page.get_by_role("link", name=words["letter"]).click()
    letter = Path(download_info.value.path()).read_text(encoding="utf-8")
    assert words["article"] in letter


def test_an_agent_gets_their_report_in_french(browser: Any, server: LocalServer, tmp_path: Path) -> None:
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True, locale="fr-FR")
    page = context.new_page()
    page.goto(server.url)
    assert page.locator("html").get_attribute("lang") == "fr"
    _read_and_report(page, {"drop": "Déposez ici", "read": "Lire les fichiers", "caption": "Fichiers lus",
                            "summary": r"\d+ fichier\(s\) lu\(s\)", "details": "Voir le détail",
                            "agent": "Quel identifiant est le vôtre ?", "run": "Préparer le rapport",
                            "letter": "La lettre de demande d'accès", "article": "article 15"},
                     [_samples_zip(tmp_path)], "fr")
    context.close()


def test_the_same_in_english_with_separate_files(browser: Any, server: LocalServer) -> None:
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    page = context.new_page()
    page.goto(server.url)
    page.get_by_role("link", name="English").click()
    assert page.locator("html").get_attribute("lang") == "en"
    files = [SAMPLES / "gpx" / "bdubois.gpx", SAMPLES / "icalendar" / "bdubois.ics", SAMPLES / "badge-csv.csv"]
    _read_and_report(page, {"drop": "Drop the export files", "read": "Read the files", "caption": "Files read",
                            "summary": r"3 file\(s\) read", "details": "See the details",
                            "agent": "Which identifier is yours?", "run": "Prepare the report",
                            "letter": "The access-request letter", "article": "article 15"}, files, "en")
    page.set_viewport_size({"width": 390, "height": 800})  # a phone: nothing may overflow sideways
    page.goto(server.url.split("?")[0])
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    _shot(page, "en-5-narrow")
    context.close()


def test_the_page_works_from_the_keyboard(browser: Any, server: LocalServer) -> None:
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.goto(server.url)
    reached = []
    for _ in range(6):
        page.keyboard.press("Tab")
        reached.append(page.evaluate("document.activeElement.id || document.activeElement.textContent.trim()"))
    assert reached[0] == "Aller au contenu" and "files-input" in reached
    context.close()
