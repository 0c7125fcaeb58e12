"""The page's work over HTTP: files read and explained, the declaration checked, reports produced and served."""

from __future__ import annotations

import io
import re
import zipfile

import pytest

from auditor.errors import InputError
from auditor.report import pdf
from auditor.serve import work
from auditor.serve.security import REPORT_CSP
from auditor.serve.server import LocalServer
from tests.conftest import SAMPLES
from tests.serve.conftest import LIMITS, Client

BADGES = SAMPLES / "badge-csv.csv"
KELIO = SAMPLES / "kelio-clockings-csv.csv"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.write(KELIO, f"exports/{KELIO.name}")
        archive.writestr("exports/README.txt", "Lettre d'accompagnement.\n")
    return buffer.getvalue()


def _post(client: Client, path: str, body: str) -> int:
    return client.request("POST", path, body.encode(), {**FORM, "Origin": client.origin}).status


def test_each_file_is_explained_and_a_bad_one_is_named(client: Client) -> None:
    files = [("files", BADGES.name, BADGES.read_bytes()), ("files", "notes.txt", b"rien a voir ici\n"),
             ("files", "exports.zip", _zip())]
    assert client.post_form("/upload", {"csrf": client.csrf()}, files).status == 303
    assert client.wait_done().headers["location"] == "/#files"
    page = client.get("/").text
    assert "2 fichier(s) lu(s), 144 ligne(s) en tout ; 2 fichier(s) non lu(s) ou ignoré(s)." in page
    badge_row = re.search(r"<tr><th scope=\"row\">badge-csv.csv</th>(.*?)</tr>", page, re.S)
    assert badge_row and "Pointages" in badge_row.group(1) and ">72<" in badge_row.group(1)
    assert "72 heure(s) sans fuseau" in badge_row.group(1)
    assert re.search(r"notes.txt</th><td colspan=\"4\"><strong>Fichier non lu :</strong> notes.txt :"
                     r" format non reconnu .*? Ce n.est pas un export", page)
    assert "--parser" not in page
    assert re.search(r'"rowgroup" colspan="5">exports.zip</th></tr>\s*<tr><th scope="row">exports/' + KELIO.name,
                     page)
    assert re.search(r"exports/README.txt</th><td colspan=\"4\">ignoré", page)
    assert '<option value="bdubois">' not in page and "<select" in page


def test_the_declaration_is_checked_and_its_problems_shown_with_their_line(client: Client) -> None:
    csrf = client.csrf()
    bad = b"groups:\n  default: {days: [mon], hours: [{start: \"9h\", end: \"17:00\"}]}\n"
    client.post_form("/policy", {"csrf": csrf, "action": "add"}, [("policy", "employeur.yaml", bad)])
    page = client.get("/").text
    assert "La déclaration n'a pas pu être utilisée" in page and "employeur.yaml" in page and ":2" in page
    good = b"timezone: Europe/Paris\nretention_days: {clock_events: 30}\n"
    client.post_form("/policy", {"csrf": csrf, "action": "add"}, [("policy", "employeur.yaml", good)])
    page = client.get("/").text
    assert "Déclaration utilisée : employeur.yaml" in page and "n'a pas pu" not in page
    client.post_form("/policy", {"csrf": csrf, "action": "remove"})
    assert "Déclaration utilisée" not in client.get("/").text


def test_reports_are_produced_shown_and_downloadable(server: LocalServer, client: Client) -> None:
    csrf = client.csrf()
    client.post_form("/upload", {"csrf": csrf}, [("files", KELIO.name, KELIO.read_bytes())])
    client.wait_done()
    agents = re.findall(r'<option value="([^"]+)"', client.get("/").text)
    assert agents
    assert _post(client, "/run", f"csrf={csrf}&mode=personal&agent=somebody-else") == 303
    assert "Choisissez un type de rapport" in client.get("/").text

    assert _post(client, "/run", f"csrf={csrf}&mode=personal&agent={agents[0]}") == 303
    assert client.wait_done().headers["location"] == "/report"
    page = client.get("/report").text
    assert "Votre rapport personnel" in page and agents[0] in page
    frame = re.search(r'<iframe class="report" src="(/files/\d+)" title="Le rapport">', page)
    assert frame
    shown = client.get(frame.group(1))
    assert shown.status == 200 and shown.headers["content-security-policy"] == REPORT_CSP
    assert shown.headers["content-type"].startswith("text/html") and "<html" in shown.text
    assert "inline" in shown.headers["content-disposition"]
    links = dict(re.findall(r'<a href="(/files/\d+/download)" download>([^<]+)</a>', page))
    assert any("HTML" in label for label in links.values()) and any("JSON" in label for label in links.values())
    letter = next(url for url, label in links.items() if "lettre" in label)
    download = client.get(letter)
    assert download.headers["content-disposition"].startswith("attachment")
    assert "letter" in download.headers["content-disposition"] and len(download.body) > 200

    assert _post(client, "/run", f"csrf={csrf}&mode=committee") == 303
    client.wait_done()
    page = client.get("/report").text
    assert "Audit pour le comité" in page and "lettre" not in page.lower().split("<main")[1].split("</main>")[0]
    labels = re.findall(r'download>([^<]+)</a>', page)
    assert "Le rapport (HTML)" in labels and len(set(labels)) == len(labels)  # no two links read the same


def test_switching_language(client: Client) -> None:
    page = client.get("/?lang=en").text
    assert '<html lang="en">' in page and "Read the files" in page and 'href="/?lang=fr"' in page
    assert '<html lang="en">' in client.get("/").text


def test_an_internal_error_is_said_plainly_and_logs_no_row(client: Client, monkeypatch: pytest.MonkeyPatch,
                                                           capfd: pytest.CaptureFixture[str]) -> None:
    def broken(dataset: object, policy: object) -> None:
        raise ValueError("row 12: Mme Durand, 3 rue des Lilas")

    monkeypatch.setattr(work, "audit", broken)
    csrf = client.csrf()
    client.post_form("/upload", {"csrf": csrf}, [("files", KELIO.name, KELIO.read_bytes())])
    client.wait_done()
    assert _post(client, "/run", f"csrf={csrf}&mode=committee") == 303
    page = client.wait_done().text
    assert "Erreur interne" in page and "Durand" not in page
    err = capfd.readouterr().err
    assert "ValueError" in err and "Durand" not in err


@pytest.mark.skipif(not pdf.available(), reason="WeasyPrint is not installed (the auditor[pdf] extra)")
def test_a_pdf_is_made_on_demand(client: Client) -> None:
    csrf = client.csrf()
    teams = SAMPLES / "teams-attendance.csv"
    client.post_form("/upload", {"csrf": csrf}, [("files", teams.name, teams.read_bytes())])
    client.wait_done()
    agent = re.findall(r'<option value="([^"]+)"', client.get("/").text)[0]
    _post(client, "/run", f"csrf={csrf}&mode=personal&agent={agent}")
    client.wait_done()
    assert "Préparer le rapport en PDF" in client.get("/report").text
    assert _post(client, "/pdf", f"csrf={csrf}") == 303
    assert client.wait_done().headers["location"] == "/report"
    page = client.get("/report").text
    link = re.search(r'<a href="(/files/\d+/download)" download>Le rapport en PDF', page)
    assert link and "Préparer le rapport en PDF" not in page
    download = client.get(link.group(1))
    assert download.headers["content-type"] == "application/pdf" and download.body.startswith(b"%PDF")


def test_hostile_file_names_are_shown_inert_and_stored_inside(server: LocalServer, client: Client) -> None:
    csrf = client.csrf()
    names = ["<img src=x onerror=alert(1)>.csv", "../../../etc/cron.d/x.csv", "..\\..\\boot.ini", "export (1).csv"]
    files = [("files", name, BADGES.read_bytes()) for name in names]
    assert client.post_form("/upload", {"csrf": csrf}, files).status == 303
    client.wait_done()
    raw = client.get("/").body.decode()
    assert "<img" not in raw and "_img src_x onerror_alert(1)_.csv" in raw and "export (1).csv" in raw
    root = server.store.root
    stored = sorted(p for p in root.rglob("*") if p.is_file())
    assert len(stored) == 4 and all(p.resolve().is_relative_to(root.resolve()) for p in stored)
    assert {"x.csv", "boot.ini"} <= {p.name for p in stored}
    big = [("files", "<b>big</b>.log", b"z" * (LIMITS.file_bytes + 1))]
    refused = client.post_form("/upload", {"csrf": csrf}, big).body.decode()
    assert "<b>big" not in refused and "&lt;b&gt;big&lt;/b&gt;.log" in refused


def test_the_formats_read_are_listed(client: Client) -> None:
    page = client.get("/formats?lang=en").text
    assert "Badge reader or access-control log (CSV)" in page and "GPS track (GPX)" in page
    assert '<a href="/formats"' in client.get("/").text


def test_an_input_error_during_the_work_is_shown_in_the_page_language(client: Client,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    def unreadable(dataset: object, policy: object) -> None:
        raise InputError("file-empty", "agenda.csv")

    monkeypatch.setattr(work, "audit", unreadable)
    csrf = client.csrf()
    client.post_form("/upload", {"csrf": csrf}, [("files", KELIO.name, KELIO.read_bytes())])
    client.wait_done()
    assert _post(client, "/run", f"csrf={csrf}&mode=committee") == 303
    assert "agenda.csv : le fichier est vide." in client.wait_done().text
    assert "agenda.csv: the file is empty." in client.get("/status?lang=en").text
