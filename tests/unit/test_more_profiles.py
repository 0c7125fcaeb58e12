"""The clocking, care, case-work, proxy and calendar profiles on hand-written exports: exact rows, missing
headers, XLSX, and detection that does not steal the other profiles' files."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from auditor.api import ReadOptions, load
from auditor.errors import InputError
from auditor.model import Dataset
from auditor.sources import registry
from auditor.sources.base import HEAD_SIZE, Head, Source

openpyxl = pytest.importorskip("openpyxl")

KELIO, BADGE, CARE, TELEGESTION = "kelio-clockings-csv", "badge-csv", "care-traceability-csv", "telegestion-csv"
CASES, PROXY, RDV, OUTLOOK = "case-actions-csv", "proxy-csv", "rdv-solidarites-xls", "outlook-calendar-csv"
NEW = (KELIO, BADGE, CARE, TELEGESTION, CASES, PROXY, RDV, OUTLOOK)
BOOKKEEPING = ("tool", "source_file")


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def parse(data: bytes | str, name: str, parser: str | None = None, agent: str | None = None,
          encoding: str = "utf-8") -> Dataset:
    raw = data.encode(encoding) if isinstance(data, str) else data
    return load([Source.from_bytes(raw, name)], ReadOptions(parser=parser, agent=agent))


def rows(dataset: Dataset, kind: str) -> list[dict[str, Any]]:
    table = dataset.tables.get(kind)
    got = table.to_pylist() if table is not None else []
    return [{k: v for k, v in r.items() if v is not None and k not in BOOKKEEPING} for r in got]


def rejects(dataset: Dataset) -> list[tuple[int, str, dict[str, Any]]]:
    return [(r["source_row"], r["reason"], json.loads(r["params"])) for r in dataset.rejects.to_pylist()]


def unmapped(data: str, name: str, parser: str) -> InputError:
    with pytest.raises(InputError) as error:
        parse(data, name, parser)
    assert error.value.code == "csv-header-unmapped"
    return error.value


def test_new_profiles_are_registered_with_both_languages() -> None:
    for name in NEW:
        parser = registry.get(name)
        assert parser.title["fr"] and parser.title["en"]
        assert parser.blind_spots["fr"] and parser.blind_spots["en"]
    tools = {name: registry.get(name).tool for name in NEW}
    assert tools == {KELIO: "kelio", BADGE: "badge", CARE: "care-traceability", TELEGESTION: "telegestion",
                     CASES: "case-tracker", PROXY: "proxy-csv", RDV: "rdv-solidarites", OUTLOOK: "outlook"}


# --- Kelio clockings ------------------------------------------------------------------------------

KELIO_CSV = (
    "Matricule;Nom;Prénom;Date;Heure;Sens;Lecteur;Mode d'obtention;Automatique;Latitude;Longitude;Précision (m)\r\n"
    "000123;Dupont;Anne;13/01/2025;08:05;E;Hall A;Badge;Non;;;\r\n"
    "000123;Dupont;Anne;13/01/2025;12:01:30;S;Mobile;Mobile;Non;45,764043;4,835659;12\r\n"
    "000123;Dupont;Anne;14/01/2025;17:00;S;;Automatique;Oui;;;\r\n"
    "000123;Dupont;Anne;15/01/2025;25:00;E;;;;;;\r\n"
    "000123;Dupont;Anne;16/01/2025;08:00;E;;Virtuel;peut-être;;;\r\n"
)


def test_kelio_cp1252_export_to_exact_rows() -> None:
    got = parse(KELIO_CSV, "badgeages_janvier.csv", encoding="cp1252")
    assert got.provenance[0].parser == KELIO
    assert rows(got, "clock_events") == [
        {"agent": "000123", "time": utc(2025, 1, 13, 7, 5), "direction": "in", "reader": "Hall A",
         "method": "badge", "automatic": False, "source_row": 2},
        {"agent": "000123", "time": utc(2025, 1, 13, 11, 1, 30), "direction": "out", "reader": "Mobile",
         "method": "mobile", "automatic": False, "lat": 45.764043, "lon": 4.835659, "accuracy_m": 12.0,
         "source_row": 3},
        {"agent": "000123", "time": utc(2025, 1, 14, 16, 0), "direction": "out", "method": "automatic",
         "automatic": True, "source_row": 4},
    ]
    assert rejects(got) == [
        (5, "row-time-invalid", {"field": "Heure", "value": "25:00"}),
        (6, "row-malformed", {"field": "Automatique", "value": "peut-être", "detail": "Automatique: peut-être"}),
    ]
    assert "unknown_columns" not in got.provenance[0].notes


def test_kelio_agent_from_badge_or_name_when_no_matricule() -> None:
    text = "Code badge;Date;Heure;Sens\r\n0A1F;13/01/2025;08:05;Entrée\r\n"
    assert rows(parse(text, "kelio.csv", KELIO), "clock_events") == [
        {"agent": "0A1F", "time": utc(2025, 1, 13, 7, 5), "direction": "in", "source_row": 2}]
    text = "Nom;Prénom;Date;Heure;Sens\r\nDupont;Anne;13/01/2025;08:05;S\r\n"
    assert rows(parse(text, "kelio.csv", KELIO), "clock_events") == [
        {"agent": "Anne Dupont", "time": utc(2025, 1, 13, 7, 5), "direction": "out", "source_row": 2}]


def test_kelio_missing_direction_column() -> None:
    error = unmapped("Matricule;Date;Heure\r\n1;13/01/2025;08:05\r\n", "kelio.csv", KELIO)
    assert (error.line, error.params["fields"]) == (1, "Sens")


def test_kelio_missing_agent_columns() -> None:
    error = unmapped("Date;Heure;Sens\r\n13/01/2025;08:05;E\r\n", "kelio.csv", KELIO)
    assert error.params["fields"] == "Matricule / Badge / Prénom / Nom"


# --- generic badge reader -------------------------------------------------------------------------

BADGE_CSV = (
    "Date heure;Badge;Porte;Événement;Site\r\n"
    "13/01/2025 08:05:00;B-0042;Porte principale;Entrée;Hôtel du département\r\n"
    "13/01/2025 12:00:10;B-0042;Porte principale;Sortie;\r\n"
    "2025-06-02T07:59:00;B-0042;Parking;Accès refusé;\r\n"
)


def test_badge_export_to_exact_rows() -> None:
    got = parse(BADGE_CSV, "controle_acces.csv")
    assert got.provenance[0].parser == BADGE
    assert rows(got, "clock_events") == [
        {"agent": "B-0042", "time": utc(2025, 1, 13, 7, 5), "direction": "in", "reader": "Porte principale",
         "site": "Hôtel du département", "source_row": 2},
        {"agent": "B-0042", "time": utc(2025, 1, 13, 11, 0, 10), "direction": "out", "reader": "Porte principale",
         "source_row": 3},
        {"agent": "B-0042", "time": utc(2025, 6, 2, 5, 59), "direction": "Accès refusé", "reader": "Parking",
         "source_row": 4},
    ]
    assert rejects(got) == []


def test_badge_english_headers() -> None:
    text = "Event time,User,Reader,Direction\n2025-01-13 08:05:00,jdoe,R1,In\n2025-01-13 17:05:00,jdoe,R1,Exit\n"
    assert rows(parse(text, "access_log.csv", BADGE), "clock_events") == [
        {"agent": "jdoe", "time": utc(2025, 1, 13, 7, 5), "direction": "in", "reader": "R1", "source_row": 2},
        {"agent": "jdoe", "time": utc(2025, 1, 13, 16, 5), "direction": "out", "reader": "R1", "source_row": 3},
    ]


def test_badge_missing_timestamp_column() -> None:
    error = unmapped("Badge;Porte;Événement\r\nB1;P1;Entrée\r\n", "badges.csv", BADGE)
    assert error.params["fields"] == "Date heure"


# --- nursing-home care traceability ---------------------------------------------------------------

CARE_CSV = (
    "Date du soin;Heure du soin;Résident;Soin;Soignant;Date de saisie;Heure de saisie;Appareil;Méthode;Unité\r\n"
    "13/01/2025;07:30;Mme R.;Toilette complète;ASD Martin;13/01/2025;14:55;Douchette 3;douchette;Unité Alzheimer\r\n"
    "13/01/2025;08h15;M. T.;Aide au repas;ASD Martin;;;Tablette 1;tablette;\r\n"
    "13/01/2025;;M. T.;Change;ASD Martin;;;;;\r\n"
)


def test_care_traceability_export_to_exact_rows() -> None:
    got = parse(CARE_CSV, "tracabilite_soins.csv", encoding="cp1252")
    assert got.provenance[0].parser == CARE
    assert rows(got, "care_acts") == [
        {"agent": "ASD Martin", "person_cared_for": "Mme R.", "act": "Toilette complète",
         "start": utc(2025, 1, 13, 6, 30), "recorded_at": utc(2025, 1, 13, 13, 55), "method": "douchette",
         "device": "Douchette 3", "site": "Unité Alzheimer", "source_row": 2},
        {"agent": "ASD Martin", "person_cared_for": "M. T.", "act": "Aide au repas", "start": utc(2025, 1, 13, 7, 15),
         "method": "tablette", "device": "Tablette 1", "source_row": 3},
    ]
    assert rejects(got) == [(4, "row-required-missing", {"field": "start"})]


def test_care_traceability_missing_act_column() -> None:
    error = unmapped("Date du soin;Heure du soin;Résident;Soignant\r\n13/01/2025;07:30;R;S\r\n", "soins.csv", CARE)
    assert error.params["fields"] == "Soin"


# --- home-care telegestion ------------------------------------------------------------------------

TELEGESTION_CSV = (
    "Intervenant;Bénéficiaire;Prestation;Début prévu;Fin prévue;Début réel;Fin réelle;Mode de pointage;"
    "Latitude;Longitude\r\n"
    "AD-17;Mme B.;Aide au lever;13/01/2025 08:00;13/01/2025 08:30;13/01/2025 08:07;13/01/2025 08:41;"
    "téléphone fixe;;\r\n"
    "AD-17;M. C.;Courses;13/01/2025 09:00;13/01/2025 10:00;13/01/2025 09:02;;application;45,75;4,85\r\n"
    "AD-17;M. C.;Courses;13/01/2025 11:00;13/01/2025 12:00;;;;;\r\n"
)


def test_telegestion_export_to_exact_rows() -> None:
    got = parse(TELEGESTION_CSV, "telegestion_janvier.csv", encoding="cp1252")
    assert got.provenance[0].parser == TELEGESTION
    assert rows(got, "care_acts") == [
        {"agent": "AD-17", "person_cared_for": "Mme B.", "act": "Aide au lever",
         "planned_start": utc(2025, 1, 13, 7, 0), "planned_end": utc(2025, 1, 13, 7, 30),
         "start": utc(2025, 1, 13, 7, 7), "end": utc(2025, 1, 13, 7, 41), "method": "téléphone fixe",
         "source_row": 2},
        {"agent": "AD-17", "person_cared_for": "M. C.", "act": "Courses", "planned_start": utc(2025, 1, 13, 8, 0),
         "planned_end": utc(2025, 1, 13, 9, 0), "start": utc(2025, 1, 13, 8, 2), "method": "application",
         "lat": 45.75, "lon": 4.85, "source_row": 3},
    ]
    assert rejects(got) == [(4, "row-required-missing", {"field": "start"})]


def test_telegestion_missing_actual_start() -> None:
    error = unmapped("Intervenant;Bénéficiaire;Début prévu\r\nA;B;13/01/2025 08:00\r\n", "telegestion.csv",
                     TELEGESTION)
    assert error.params["fields"] == "Début réel"


# --- case-work actions ----------------------------------------------------------------------------

CASES_CSV = (
    "Agent;Dossier;Action;Date/heure;Durée;Commentaire\r\n"
    "jdupont;D-2025-0012;Consultation;13/01/2025 09:12;00:05:30;\r\n"
    "jdupont;D-2025-0012;Rédaction rapport;13/01/2025 10:00;01:15:00;\"Famille ; situation à revoir\"\r\n"
    "jdupont;D-2025-0013;;13/01/2025 11:00;;\r\n"
)


def test_case_actions_export_to_exact_rows() -> None:
    got = parse(CASES_CSV, "actions_dossiers.csv", encoding="cp1252")
    assert got.provenance[0].parser == CASES
    assert rows(got, "case_actions") == [
        {"agent": "jdupont", "case": "D-2025-0012", "action": "Consultation", "time": utc(2025, 1, 13, 8, 12),
         "duration_s": 330.0, "source_row": 2},
        {"agent": "jdupont", "case": "D-2025-0012", "action": "Rédaction rapport", "time": utc(2025, 1, 13, 9, 0),
         "duration_s": 4500.0, "comment": "Famille ; situation à revoir", "source_row": 3},
    ]
    assert rejects(got) == [(4, "row-required-missing", {"field": "action"})]


def test_case_actions_split_date_and_minutes() -> None:
    text = ("Utilisateur;N° dossier;Type d'action;Date;Heure;Durée (min);Observation\r\n"
            "x;42;Ouverture;13/01/2025;09:30;12,5;ok\r\n")
    assert rows(parse(text, "suivi.csv", CASES), "case_actions") == [
        {"agent": "x", "case": "42", "action": "Ouverture", "time": utc(2025, 1, 13, 8, 30), "duration_s": 750.0,
         "comment": "ok", "source_row": 2}]


def test_case_actions_missing_case_column() -> None:
    error = unmapped("Agent;Action;Date/heure\r\nx;Ouverture;13/01/2025 09:30\r\n", "actions.csv", CASES)
    assert error.params["fields"] == "Dossier"


# --- proxy CSV ------------------------------------------------------------------------------------

PROXY_CSV = (
    "Date;Heure;Utilisateur;IP;URL;Domaine;Catégorie;Action;Octets;Statut\r\n"
    "13/01/2025;09:00:01;jdupont;10.0.0.5;https://www.service-public.fr/particuliers;www.service-public.fr;"
    "Administration;Autorisé;12 345;200\r\n"
    "13/01/2025;09:00:05;jdupont;10.0.0.5;www.facebook.com:443;www.facebook.com;Réseaux sociaux;Bloqué;0;403\r\n"
    "13/01/2025;09:00:09;jdupont;10.0.0.5;http://x.fr/;x.fr;;Autorisé;beaucoup;200\r\n"
)


def test_proxy_export_to_exact_rows() -> None:
    got = parse(PROXY_CSV, "proxy_janvier.csv")
    assert got.provenance[0].parser == PROXY
    assert rows(got, "web_requests") == [
        {"agent": "jdupont", "client_ip": "10.0.0.5", "time": utc(2025, 1, 13, 8, 0, 1),
         "url": "https://www.service-public.fr/particuliers", "domain": "www.service-public.fr", "status": 200,
         "bytes": 12345, "category": "Administration", "action": "allowed", "source_row": 2},
        {"agent": "jdupont", "client_ip": "10.0.0.5", "time": utc(2025, 1, 13, 8, 0, 5),
         "url": "www.facebook.com:443", "domain": "www.facebook.com", "status": 403, "bytes": 0,
         "category": "Réseaux sociaux", "action": "blocked", "source_row": 3},
    ]
    assert rejects(got) == [(4, "row-number-invalid", {"field": "Octets", "value": "beaucoup"})]


def test_proxy_one_timestamp_and_no_user_takes_the_agent_given() -> None:
    text = "Horodatage,IP,URL,Action\n2025-06-02 10:00:00,10.0.0.5,http://x.fr/,allow\n"
    assert rows(parse(text, "export.csv", PROXY, agent="moi"), "web_requests") == [
        {"agent": "moi", "client_ip": "10.0.0.5", "time": utc(2025, 6, 2, 8, 0), "url": "http://x.fr/",
         "action": "allowed", "source_row": 2}]


def test_proxy_missing_url_column() -> None:
    error = unmapped("Date;Heure;Utilisateur;Domaine\r\n13/01/2025;09:00;x;x.fr\r\n", "proxy.csv", PROXY)
    assert error.params["fields"] == "URL"


# --- RDV-Solidarités ------------------------------------------------------------------------------

RDV_HEADER = ["usager", "rdv_id", "année", "date prise rdv", "heure prise rdv", "origine", "date rdv", "heure rdv",
              "service", "motif", "contexte", "statut", "lieu", "professionnel.le(s)", "commune du responsable",
              "usager mineur ?", "résultat des notifications", "Organisation", "date naissance",
              "code postal du responsable", "créé par", "email(s) professionnel.le(s)", "rdv collectif",
              "inscription au rdv collectif par"]
RDV_LINES = [
    ["Mme Anne A", "123", "2023", "01/12/2022", "12h50", "Créé par un agent", "01/01/2023", "09h30", "PMI",
     "Consultation", "Suivi", "À renseigner", "MDS Paris Nord (21 rue X)", "Marie Martin", "Paris", "non", "",
     "Département", "01/02/1990", "75018", "Jean Agent", "m.martin@x.fr", "non", ""],
    ["M. B", "124", "2023", "", "", "RDV pris en ligne", "02/01/2023", "14h00", "Social", "RSA", "",
     "Rendez-vous honoré", "MDS Paris Nord (21 rue X)", "Marie Martin", "", "non", "", "Département", "", "",
     "", "m.martin@x.fr", "non", ""],
]
RDV_ROWS = [
    {"agent": "Marie Martin", "start": utc(2023, 1, 1, 8, 30), "category": "Consultation", "subject": "Suivi",
     "person_received": "Mme Anne A", "site": "MDS Paris Nord (21 rue X)", "created_by": "Jean Agent",
     "created_at": utc(2022, 12, 1, 11, 50), "status": "À renseigner"},
    {"agent": "Marie Martin", "start": utc(2023, 1, 2, 13, 0), "category": "RSA", "person_received": "M. B",
     "site": "MDS Paris Nord (21 rue X)", "status": "Rendez-vous honoré"},
]


def test_rdv_solidarites_as_csv() -> None:
    text = "\r\n".join(";".join(line) for line in [RDV_HEADER, *RDV_LINES]) + "\r\n"
    got = parse(text, "export_rdv.csv")
    assert got.provenance[0].parser == RDV
    assert rows(got, "appointments") == [{**r, "source_row": i + 2} for i, r in enumerate(RDV_ROWS)]
    assert rejects(got) == []
    assert "unknown_columns" not in got.provenance[0].notes


def test_rdv_solidarites_as_xlsx() -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "rdvs"
    for line in [RDV_HEADER, *RDV_LINES]:
        sheet.append(line)
    buffer = io.BytesIO()
    workbook.save(buffer)
    source = Source.from_bytes(buffer.getvalue(), "export-rdv-2023.xlsx")
    found = registry.detect(source)
    assert found.parser == RDV and not found.ambiguous, found.candidates
    got = parse(buffer.getvalue(), "export-rdv-2023.xlsx")
    assert rows(got, "appointments") == [{**r, "source_row": i + 2} for i, r in enumerate(RDV_ROWS)]


def test_rdv_solidarites_missing_professional_column() -> None:
    header = ";".join(h for h in RDV_HEADER if h != "professionnel.le(s)")
    error = unmapped(header + "\r\n", "rdv.csv", RDV)
    assert error.params["fields"] == "professionnel.le(s)"


# --- Outlook calendar -----------------------------------------------------------------------------

OUTLOOK_EN = (
    '"Subject","Start Date","Start Time","End Date","End Time","All day event","Reminder on/off","Reminder Date",'
    '"Reminder Time","Meeting Organizer","Required Attendees","Optional Attendees","Meeting Resources",'
    '"Billing Information","Categories","Description","Location","Mileage","Priority","Private","Sensitivity",'
    '"Show time as"\r\n'
    '"Réunion d\'équipe","3/4/2024","10:00:00 AM","3/4/2024","11:30:00 AM","False","True","3/4/2024",'
    '"9:45:00 AM","Durand, Marie","A;B",,,,"Réunion","Ordre du jour","Salle 2",,"Normal","False","Normal","2"\r\n'
    '"Congé","3/5/2024","12:00:00 AM","3/6/2024","12:00:00 AM","True","False",,,,,,,,,,,,"Normal","False",'
    '"Normal","3"\r\n'
)


def test_outlook_english_export_to_exact_rows() -> None:
    got = parse(OUTLOOK_EN, "durand_calendar.csv")
    assert got.provenance[0].parser == OUTLOOK
    assert rows(got, "appointments") == [
        {"agent": "durand_calendar", "start": utc(2024, 3, 4, 9, 0), "end": utc(2024, 3, 4, 10, 30),
         "all_day": False, "category": "Réunion", "subject": "Réunion d'équipe", "site": "Salle 2",
         "created_by": "Durand, Marie", "status": "busy", "source_row": 2},
        {"agent": "durand_calendar", "start": utc(2024, 3, 4, 23, 0), "end": utc(2024, 3, 5, 23, 0),
         "all_day": True, "subject": "Congé", "status": "out-of-office", "source_row": 3},
    ]
    assert rejects(got) == []
    got = parse(OUTLOOK_EN, "calendar.csv", agent="mdurand")
    assert {r["agent"] for r in rows(got, "appointments")} == {"mdurand"}


def test_outlook_english_dates_are_month_first_even_when_no_day_is_above_12() -> None:
    text = ('"Subject","Start Date","Start Time","End Date","End Time"\r\n'
            '"Point","10/11/2024","02:30:00 PM","10/11/2024","03:00:00 PM"\r\n')
    assert rows(parse(text, "calendar.csv", OUTLOOK, agent="a"), "appointments") == [
        {"agent": "a", "start": utc(2024, 10, 11, 12, 30), "end": utc(2024, 10, 11, 13, 0), "subject": "Point",
         "source_row": 2}]


def test_outlook_french_export_is_read_day_first() -> None:
    text = (
        '"Objet";"Date de début";"Heure de début";"Date de fin";"Heure de fin";"Journée entière";'
        '"Organisateur de la réunion";"Catégories";"Emplacement";"Afficher la disponibilité"\r\n'
        '"Permanence";"03/04/2024";"09:00:00";"03/04/2024";"12:00:00";"Faux";"Marie Durand";"Accueil";'
        '"MDS Nord";"2"\r\n'
    )
    got = parse(text.encode("cp1252"), "calendrier.csv", agent="mdurand")
    assert got.provenance[0].parser == OUTLOOK
    assert rows(got, "appointments") == [
        {"agent": "mdurand", "start": utc(2024, 4, 3, 7, 0), "end": utc(2024, 4, 3, 10, 0), "all_day": False,
         "category": "Accueil", "subject": "Permanence", "site": "MDS Nord", "created_by": "Marie Durand",
         "status": "busy", "source_row": 2}]


def test_outlook_missing_start_columns() -> None:
    error = unmapped('"Subject","Location"\r\n"x","y"\r\n', "calendar.csv", OUTLOOK)
    assert "Start Date" in error.params["fields"] and "Date de début" in error.params["fields"]


# --- detection ------------------------------------------------------------------------------------

FILES = {
    KELIO: (KELIO_CSV.encode("cp1252"), "export.csv"),
    BADGE: (BADGE_CSV.encode(), "export.csv"),
    CARE: (CARE_CSV.encode("cp1252"), "export.csv"),
    TELEGESTION: (TELEGESTION_CSV.encode("cp1252"), "export.csv"),
    CASES: (CASES_CSV.encode("cp1252"), "export.csv"),
    PROXY: (PROXY_CSV.encode(), "export.csv"),
    RDV: (("\r\n".join(";".join(line) for line in [RDV_HEADER, *RDV_LINES]) + "\r\n").encode(), "export.csv"),
    OUTLOOK: (OUTLOOK_EN.encode(), "export.csv"),
}


@pytest.mark.parametrize("name", NEW)
def test_hand_written_exports_are_detected_without_ambiguity(name: str) -> None:
    raw, file = FILES[name]
    found = registry.detect(Source.from_bytes(raw, file))
    assert found.parser == name and not found.ambiguous, found.candidates


@pytest.mark.parametrize("name", NEW)
@pytest.mark.parametrize("other", NEW)
def test_no_new_profile_claims_another_ones_export(name: str, other: str) -> None:
    if name == other:
        return
    raw, file = FILES[other]
    assert registry.get(name).sniff(Head.of(raw[:HEAD_SIZE], file, complete=len(raw) <= HEAD_SIZE)) == 0.0


@pytest.mark.parametrize("name", NEW)
def test_rendered_exports_are_detected_without_ambiguity(name: str) -> None:
    parser = registry.get(name)
    row: dict[str, Any] = {"agent": "a1", "time": utc(2025, 1, 13, 7, 5), "start": utc(2025, 1, 13, 7, 5),
                           "end": utc(2025, 1, 13, 8, 0), "action": "Consultation", "case": "D1", "url": "http://x.fr/",
                           "act": "Toilette", "direction": "in"}
    raw = parser.render([{k: v for k, v in row.items() if k in parser.profile.fields}])
    found = registry.detect(Source.from_bytes(raw, "export.csv"))
    assert found.parser == name and not found.ambiguous, found.candidates
    dataset = load([Source.from_bytes(raw, "a1.csv")], ReadOptions(parser=name))
    assert dataset.rejects.num_rows == 0
    assert rows(dataset, parser.kind)[0]["agent"] == "a1"
