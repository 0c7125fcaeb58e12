"""The encoding cascade: BOM, strict UTF-8, declared, guessed, cp1252 — never latin-1."""

from __future__ import annotations

import codecs

from auditor.io.encoding import detect


def test_boms_win() -> None:
    assert detect(codecs.BOM_UTF8 + "Élève".encode()).name == "utf-8"
    assert detect(codecs.BOM_UTF8 + b"x").bom_length == 3
    assert detect("Nom\tÉlève".encode("utf-16")).how == "bom"


def test_utf16_without_bom_is_recognised() -> None:
    assert detect("1. Summary\tMeeting".encode("utf-16-le")).name == "utf-16-le"


def test_valid_utf8_is_utf8_even_cut_mid_character() -> None:
    data = "Hélène;Théo;œuvre".encode()
    assert detect(data).name == "utf-8"
    assert detect(data[:-1]).name == "utf-8"


def test_cp1252_never_latin1() -> None:
    data = "Rendez-vous d’accueil;œuvre;5 €;Hélène".encode("cp1252")
    found = detect(data)
    assert found.name == "cp1252"
    assert found.is_guess
    assert data.decode(found.name) == "Rendez-vous d’accueil;œuvre;5 €;Hélène"


def test_declared_xml_encoding_is_used() -> None:
    data = '<?xml version="1.0" encoding="windows-1252"?><gpx><name>Hélène’s</name></gpx>'.encode("cp1252")
    assert detect(data).name == "cp1252"
