"""French CSV dialect sniffing: delimiter, preamble, decimal mark, day-first dates."""

from __future__ import annotations

import codecs

import pytest

from auditor.io import csv_dialect
from auditor.io.csv_dialect import Dialect, choose_delimiter, infer_values, records, sample_lines, sniff
from auditor.sources.base import Head

SEMICOLON = (
    "Date;Heure début;Agent;Montant;Commentaire\r\n"
    "13/02/2025;09:30;Dupont;12,5;\"avec ; un point-virgule\"\r\n"
    "14/02/2025;10:00;Martin;1 234,5;rien\r\n"
)


def test_semicolon_with_decimal_comma_and_day_first() -> None:
    dialect = sniff(SEMICOLON)
    assert dialect == Dialect(delimiter=";", decimal=",", dayfirst=True, preamble=0, header_line=1)


def test_comma_with_quoted_commas_and_a_quoted_line_break() -> None:
    text = 'name,comment,value\n"Dupont, Jean","two\nlines",12.5\n"Martin, Léa",plain,3.25\nSimon,"x, y",7.0\n'
    dialect = sniff(text)
    assert dialect.delimiter == ","
    assert dialect.decimal == "."
    lines = [(line, cells) for line, cells in records(text, dialect)]
    assert [line for line, _ in lines] == [1, 2, 4, 5]  # the quoted line break keeps record 2 on lines 2-3
    assert lines[1][1] == ["Dupont, Jean", "two\nlines", "12.5"]


def test_tab() -> None:
    text = "agent\ttime\tlat\tlon\na1\t2025-03-30 09:30:00\t48,85\t2,35\na2\t2025-03-30 09:31:00\t48,86\t2,36\n"
    dialect = sniff(text)
    assert dialect.delimiter == "\t"
    assert dialect.decimal == ","


def test_pipe() -> None:
    assert sniff("a|b|c\n1|2|3\n4|5|6\n").delimiter == "|"


def test_excel_sep_line_sets_the_delimiter_and_is_skipped() -> None:
    text = "sep=;\r\nagent,x;horodatage;latitude\r\na1,b;30/03/2025 09:30:00;48,85\r\n"
    dialect = sniff(text)
    assert (dialect.delimiter, dialect.preamble, dialect.header_line) == (";", 1, 2)
    assert records(text, dialect)[0] == (2, ["agent,x", "horodatage", "latitude"])


def test_quoted_sep_line_after_a_bom() -> None:
    assert sniff('\ufeff"sep=,"\na;b,c\n1;2,3\n').delimiter == ","


def test_title_line_before_the_header() -> None:
    text = ("Export des rendez-vous du 01/03/2025\n\nDate;Heure;Agent\n"
            "01/03/2025;09:30;Dupont\n02/03/2025;10:30;Martin\n")
    dialect = sniff(text)
    assert dialect.delimiter == ";"
    assert dialect.header_line == 3


def test_decimal_point_in_a_semicolon_file() -> None:
    assert sniff("a;b\nx;12.5\ny;3.75\n").decimal == "."


def test_decimal_defaults_to_comma_for_semicolon_files_and_point_for_comma_files() -> None:
    assert sniff("a;b\nx;12\n").decimal == ","
    assert sniff("a,b\nx,12\n").decimal == "."


def test_month_first_when_the_second_number_exceeds_12() -> None:
    assert sniff("Date;Agent\n02/13/2025;x\n02/01/2025;y\n").dayfirst is False
    assert sniff("Date;Agent\n02/01/2025 09:30;x\n").dayfirst is True  # ambiguous: French default
    assert infer_values([["13/02/2025"], ["02/13/2025"]], ";")[1] is True  # contradictory: day first


def test_cp1252_head_with_typographic_apostrophe_oe_and_euro() -> None:
    raw = "Agent;Usager;Montant\r\nDupont;M. l’Œuvre;12,5 €\r\nMartin;Mme Cœur;3,0 €\r\n".encode("cp1252")
    head = Head.of(raw, "agenda.csv", complete=True)
    assert head.encoding.name == "cp1252"
    assert "l’Œuvre" in head.text
    dialect = sniff(head.text)
    assert dialect.delimiter == ";"
    assert records(head.text, dialect)[1][1] == ["Dupont", "M. l’Œuvre", "12,5 €"]


def test_utf8_bom_is_not_part_of_the_first_header() -> None:
    raw = codecs.BOM_UTF8 + b"sep=;\r\nAgent;Date\r\nDupont;01/02/2025\r\n"
    head = Head.of(raw, "x.csv", complete=True)
    dialect = sniff(head.text)
    assert dialect.preamble == 1
    assert records(head.text, dialect)[0] == (2, ["Agent", "Date"])


def test_an_incomplete_sample_drops_its_cut_line() -> None:
    assert sample_lines("a;b\n1;2\n3;", complete=False) == ["a;b\n", "1;2\n"]
    assert sample_lines("a;b\n1;2\n3;", complete=True) == ["a;b\n", "1;2\n", "3;"]


def test_only_real_line_ends_split_lines() -> None:
    # \x0b, \x1c or U+2028 inside a cell are not line ends for csv/physical_lines: same here.
    assert sample_lines("a;b\u2028c\n1;2\n") == ["a;b\u2028c\n", "1;2\n"]


def test_preferred_delimiter_breaks_ties() -> None:
    lines = ["a;b,c\n", "1;2,3\n"]
    assert choose_delimiter(lines) == ";"
    assert choose_delimiter(lines, prefer=",") == ","


def test_forced_delimiter() -> None:
    assert sniff("a;b,c\n1;2,3\n", delimiter=",").delimiter == ","


@pytest.mark.parametrize("text", ["", "\n\n", "seul\n", "\x00\x01\x02", '"unterminated;quote\n1;2'])
def test_degenerate_samples_do_not_raise(text: str) -> None:
    dialect = sniff(text)
    assert dialect.delimiter in csv_dialect.DELIMITERS
    records(text, dialect)


def test_reader_is_non_strict() -> None:
    reader = Dialect(";").reader(['a;"b"c;d\n'])
    assert next(reader) == ["a", "bc", "d"]
