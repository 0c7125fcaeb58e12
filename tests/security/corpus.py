"""The hostile-input corpus, generated (nothing binary is committed): ``python -m tests.security.corpus DIR``.

Two families of cases:

* derived from the committed sample of every parser (``sample_exports/``): cut in the middle, header line
  only, NUL bytes, invalid UTF-8, UTF-16 without BOM, lone CR line ends, empty — each read with the parser
  forced, so every one of the 25 parsers meets every damage;
* hand-written attacks: XML entities and DTDs, zip bombs and archive tricks, gigantic lines and headers,
  misleading extensions, dates at the edges of time, clock changes, duplicate headers, endless recurrences.

Each case says which exit codes are acceptable (0 or 2 always; narrower when the outcome is known), which
sentence the error must contain, and the line it must name. Large inputs are written only when generated,
in the caller's temporary folder.
"""

from __future__ import annotations

import io
import json
import stat
import struct
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import BinaryIO

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "sample_exports"
MB = 1 << 20

@dataclass(frozen=True)
class Case:
    """One hostile input and what a correct run looks like."""

    id: str
    files: tuple[str, ...]  # paths relative to the corpus folder, given to `auditor ingest`
    covers: tuple[str, ...]  # parsers (or io modules) the case exercises
    parser: str | None = None  # forced with --parser
    exits: frozenset[int] = frozenset({0, 2})
    message: str | None = None  # English words the error must contain when the exit code is 2
    line: int | None = None  # the line the error must name
    names: str | None = None  # the file name the error must show (default: the first file's name)
    warnings: tuple[str, ...] = ()  # warning ids the provenance must count when the exit code is 0
    xfail: str | None = None  # a known defect outside the files this suite may change
    extra: tuple[str, ...] = field(default=())  # more command-line options
    command: str = "ingest"  # or "audit": the whole pipeline, metrics and reports included

    def argv(self, corpus: Path, out: Path) -> list[str]:
        args = [self.command, *(str(corpus / f) for f in self.files), "--out", str(out / self.id)]
        if self.parser:
            args += ["--parser", self.parser]
        return [*args, *self.extra]


class Corpus:
    """Where case files go. Without a folder nothing is written: the case list alone (pytest collection)."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder

    def put(self, rel: str, make: Callable[[], bytes | str]) -> str:
        if self.folder is not None:
            path = self.folder / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            data = make()
            path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
        return rel

    def stream(self, rel: str, write: Callable[[BinaryIO], None]) -> str:
        if self.folder is not None:
            path = self.folder / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "wb") as handle:
                write(handle)
        return rel

    def big(self, rel: str, head: bytes, fill: bytes, size: int, tail: bytes = b"") -> str:
        """A file of ``size`` bytes of ``fill`` between ``head`` and ``tail``, written 1 MB at a time."""

        def write(handle: BinaryIO) -> None:
            handle.write(head)
            block = fill * (MB // len(fill))
            for _ in range(size // len(block)):
                handle.write(block)
            handle.write(tail)

        return self.stream(rel, write)


def sample_of(parser: str) -> Path:
    """The committed sample export read by ``parser`` (a file named after it, or the first file of its folder)."""
    folder = SAMPLES / parser
    if folder.is_dir():
        return sorted(p for p in folder.iterdir() if p.is_file())[0]
    [path] = [p for p in SAMPLES.iterdir() if p.is_file() and p.stem == parser]
    return path


def _text(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _lone_cr(data: bytes) -> bytes:
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r")


def _nul_bytes(data: bytes) -> bytes:
    step = max(len(data) // 7, 1)
    return b"".join(data[i : i + step] + b"\x00" for i in range(0, len(data), step))


def _invalid_utf8(data: bytes) -> bytes:
    cut = data.find(b"\n", len(data) // 3) + 1 or len(data) // 3
    return data[:cut] + b"\xff\xfe\xc3\x28\xa0\xa1\xe2\x28\xa1 \xf0\x90\x28\xbc" + data[cut:]


#: Damage applied to every parser's sample: name → (transformation, acceptable exits, message when exit 2).
DAMAGE: dict[str, Callable[[bytes], bytes]] = {
    "cut-middle": lambda d: d[: len(d) * 11 // 20],  # mid-row, mid-tag, mid-JSON
    "cut-early": lambda d: d[: min(len(d) // 9, 700)],
    "header-only": lambda d: d.split(b"\n", 1)[0] + b"\n",
    "nul-bytes": _nul_bytes,
    "invalid-utf8": _invalid_utf8,
    "utf16-no-bom": lambda d: _text(d).encode("utf-16-le"),
    "lone-cr": _lone_cr,
    "empty": lambda d: b"",
}


def parser_names() -> list[str]:
    from auditor.sources import registry

    return [p.name for p in registry.parsers()]


def damaged_cases(corpus: Corpus) -> list[Case]:
    cases = []
    for parser in parser_names():
        sample = sample_of(parser)
        for damage, transform in DAMAGE.items():
            rel = corpus.put(f"damaged/{parser}/{damage}/{sample.name}",
                             lambda s=sample, f=transform: f(s.read_bytes()))  # type: ignore[misc]
            exits = frozenset({2}) if damage == "empty" else frozenset({0, 2})
            message = "empty" if damage == "empty" else None
            cases.append(Case(f"{parser}--{damage}", (rel,), (parser,), parser=parser, exits=exits, message=message))
    return cases


# --- XML ------------------------------------------------------------------------------------------------

LAUGHS = "".join(f'  <!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">\n' for i in range(1, 10))
XML_ATTACKS = {
    "billion-laughs": '<!DOCTYPE {root} [\n  <!ENTITY lol0 "lol">\n' + LAUGHS + "]>\n<{open}>&lol9;</{root}>\n",
    "xxe-file": '<!DOCTYPE {root} [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n<{open}>&xxe;</{root}>\n',
    "xxe-parameter": '<!DOCTYPE {root} [<!ENTITY % p SYSTEM "http://192.0.2.1/x.dtd"> %p;]>\n<{open}/>\n',
    "external-dtd": '<!DOCTYPE {root} SYSTEM "http://192.0.2.1/x.dtd">\n<{open}/>\n',
    "quadratic-blowup": '<!DOCTYPE {root} [<!ENTITY a "' + "a" * 50_000 + '">]>\n<{open}>' + "&a;" * 20_000
    + "</{root}>\n",
}
ROOTS = {"gpx": ('gpx version="1.1" creator="x" xmlns="http://www.topografix.com/GPX/1/1"', "gpx"),
         "kml": ('kml xmlns="http://www.opengis.net/kml/2.2"', "kml")}


def xml_cases(corpus: Corpus) -> list[Case]:
    cases = []
    for ext, (open_tag, root) in ROOTS.items():
        for name, template in XML_ATTACKS.items():
            body = '<?xml version="1.0"?>\n' + template.replace("{open}", open_tag).replace("{root}", root)
            rel = corpus.put(f"xml/{name}.{ext}", lambda b=body: b)  # type: ignore[misc]
            cases.append(Case(f"{ext}-{name}", (rel,), (ext,), exits=frozenset({2}), message="refused for safety",
                              line=2))
        deep = f"<{open_tag}>" + "<a>" * 100_000 + "</a>" * 100_000 + f"</{root}>"
        rel = corpus.put(f"xml/deep.{ext}", lambda d=deep: d)  # type: ignore[misc]
        cases.append(Case(f"{ext}-deep-nesting", (rel,), (ext,), exits=frozenset({2}), message="nesting", line=1))
        rel = corpus.put(f"xml/huge-attribute.{ext}",
                         lambda o=open_tag, r=root: f'<{o}><x v="{"v" * (8 * MB)}"/></{r}>')  # type: ignore[misc]
        cases.append(Case(f"{ext}-huge-attribute", (rel,), (ext,)))
    return cases


# --- archives -------------------------------------------------------------------------------------------


def _zip(entries: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _lying_sizes(data: bytes, compressed: int, uncompressed: int) -> bytes:
    """The archive with every central-directory entry declaring these sizes (nothing else changes)."""
    out = bytearray(data)
    at = out.find(b"PK\x01\x02")
    while at != -1:
        struct.pack_into("<II", out, at + 20, compressed, uncompressed)
        at = out.find(b"PK\x01\x02", at + 4)
    return bytes(out)


def _symlink_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        info = zipfile.ZipInfo("positions.csv")
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(info, "/etc/passwd")
    return buffer.getvalue()


def _encrypted_zip() -> bytes:
    data = bytearray(_zip({"positions.csv": b"x" * 100}, zipfile.ZIP_STORED))
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        data[data.find(signature) + offset] |= 0x1
    return bytes(data)


def _positions_sample() -> bytes:
    return sample_of("positions-csv").read_bytes()


def _many_entries() -> bytes:
    entries = {f"notes/{i:05}.txt": b"" for i in range(3000)}
    entries["positions-csv.csv"] = _positions_sample()
    return _zip(entries, zipfile.ZIP_STORED)


ARCHIVES: dict[str, tuple[Callable[[], bytes], str]] = {
    "bomb-ratio": (lambda: _zip({"positions.csv": b"0" * (64 * MB)}), "ratio"),
    "bomb-total": (lambda: _lying_sizes(_zip({f"p{i}.csv": b"x" for i in range(6)}, zipfile.ZIP_STORED),
                                        0xFFFF0000, 0xFFFFFF00), "unpacked"),
    "bomb-member-lies": (lambda: _lying_sizes(_zip({"p.csv": b"x"}, zipfile.ZIP_STORED), 0x10, 0xFFFFFF00),
                         "ratio"),
    "bomb-nested": (lambda: _zip({"a.zip": _zip({"b.zip": _zip({"c.zip": _zip({"p.csv": _positions_sample()})})})}),
                    "nested"),
    "traversal-dotdot": (lambda: _zip({"../../evil/positions.csv": _positions_sample()}), "leaves the archive"),
    "traversal-absolute": (lambda: _zip({"/tmp/evil-positions.csv": _positions_sample()}), "leaves the archive"),
    "traversal-backslash": (lambda: _zip({"..\\..\\evil.csv": _positions_sample()}), "leaves the archive"),
    "traversal-drive": (lambda: _zip({"C:/evil.csv": _positions_sample()}), "leaves the archive"),
    "symlink": (_symlink_zip, "symbolic link"),
    "encrypted": (_encrypted_zip, "encrypted"),
    "entries-over-limit": (lambda: _zip({f"{i}.txt": b"" for i in range(10_001)}, zipfile.ZIP_STORED), "entries"),
    "truncated": (lambda: _zip({"positions-csv.csv": _positions_sample()})[:300], "archive"),
}


def archive_cases(corpus: Corpus) -> list[Case]:
    cases = []
    for name, (make, message) in ARCHIVES.items():
        rel = corpus.put(f"zip/{name}.zip", make)
        cases.append(Case(f"zip-{name}", (rel,), ("archive",), exits=frozenset({2}), message=message))
    rel = corpus.put("zip/thousands.zip", _many_entries)
    cases.append(Case("zip-thousands-of-entries", (rel,), ("archive", "positions-csv"), exits=frozenset({0})))
    rel = corpus.put("zip/export.csv", lambda: _zip({"positions-csv.csv": _positions_sample()}))
    cases.append(Case("zip-named-csv", (rel,), ("archive", "positions-csv"), exits=frozenset({0})))
    return cases


# --- text: sizes, headers, other kinds ------------------------------------------------------------------

POSITIONS_HEADER = "agent;horodatage;latitude;longitude;précision\n"


def _positions(rows: list[str]) -> bytes:
    return (POSITIONS_HEADER + "".join(r + "\n" for r in rows)).encode("utf-8")


def _row(time: str) -> str:
    return f"jdupont;{time};48,85;2,35;5"


def text_cases(corpus: Corpus) -> list[Case]:
    c = corpus
    positions = ("positions-csv",)
    forced = {"parser": "positions-csv"}
    return [
        Case("csv-50mb-line", (c.big("text/one-line.csv", POSITIONS_HEADER.encode(), b"x", 50 * MB),), positions,
             exits=frozenset({2}), message="line longer", line=2),
        Case("csv-50mb-line-forced", (c.big("text/forced/one-line.csv", POSITIONS_HEADER.encode(), b"x", 50 * MB),),
             positions, exits=frozenset({2}), message="line longer", line=2, **forced),
        Case("log-50mb-line", (c.big("text/access.log", b"", b"a", 50 * MB),), ("squid-native",),
             parser="squid-native", exits=frozenset({2}), message="line longer", line=1),
        Case("csv-50mb-header", (c.big("text/no-newline.csv", b"", b"a;", 50 * MB),), ("detection",),
             exits=frozenset({2})),
        Case("attlog-50mb-line", (c.big("text/attlog.dat", b"", b"1\t", 50 * MB),), ("zkteco-attlog",),
             parser="zkteco-attlog", exits=frozenset({2}), message="line longer", line=1),
        Case("w3c-50mb-line", (c.big("text/w3c.log", b"#Fields: date time c-ip cs-uri\n", b"1 ", 50 * MB),),
             ("w3c-proxy",), parser="w3c-proxy", exits=frozenset({2}), message="line longer", line=2),
        Case("csv-million-named-columns",
             (c.put("text/million-columns.csv", lambda: ";".join(f"c{i}" for i in range(10**6)) + "\n1;2\n"),),
             positions, exits=frozenset({2}), message="line longer", line=1, **forced),
        Case("csv-million-empty-fields",
             (c.put("text/million-fields.csv", lambda: POSITIONS_HEADER + ";" * (10**6 - 1) + "\n"),), positions,
             **forced),
        Case("csv-duplicate-headers", (c.put("text/duplicate-headers.csv", lambda: (
            "agent;horodatage;latitude;longitude;latitude;agent\njdupont;12/03/2025 08:00:00;48,85;2,35;1;x\n")),),
             positions, **forced),
        Case("csv-header-only", (c.put("text/header-only.csv", lambda: POSITIONS_HEADER),), positions, **forced),
        Case("csv-whitespace-only", (c.put("text/blank.csv", lambda: b" \r\n\t\n\n"),), positions, **forced),
        Case("nul-only", (c.put("text/only-nul.csv", lambda: b"\x00" * 5000),), ("detection",), exits=frozenset({2})),
        Case("csv-cut-mid-row", (c.put("text/mid-row.csv", lambda: _positions(
            [_row("12/03/2025 08:00:00"), "jdupont;12/03/2025 0"])),), positions, **forced),
        Case("csv-unclosed-quote", (c.put("text/quote.csv", lambda: _positions(
            ['jdupont;"12/03/2025 08:00:00;48,85;2,35;5'] * 3)),), positions, **forced),
        # Files of another kind behind a misleading extension.
        Case("gpx-named-csv", (c.put("text/track.csv", lambda: sample_of("gpx").read_bytes()),), ("gpx",),
             exits=frozenset({0})),
        Case("png-named-gpx", (c.put("text/picture.gpx", lambda: b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40),),
             ("detection",), exits=frozenset({2}), message="not recognised"),
        Case("pdf-named-csv", (c.put("text/report.csv", lambda: (
            b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\n" + b"\x00\x9c" * 2000)),), ("detection",),
             exits=frozenset({2}), message="not recognised"),
        Case("json-named-log", (c.put("text/records.log", lambda: sample_of("google-records").read_bytes()),),
             ("google-records",), exits=frozenset({0})),
        Case("broken-xlsx", (c.put("text/agenda.xlsx", lambda: _zip(
            {"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<x"})),), ("spreadsheet",),
             parser="esirius-agenda-csv", exits=frozenset({2})),
    ]


# --- JSON and iCalendar -----------------------------------------------------------------------------------

FEATURE = json.dumps({"type": "Feature", "geometry": {"type": "Point", "coordinates": [2.35, 48.85]},
                      "properties": {"agent": "jdupont", "time": "2025-03-12T08:00:00Z"}},
                     separators=(",", ":")).encode()


def _minified(handle: BinaryIO) -> None:
    """A 10 MB GeoJSON on a single line: a legitimate (minified) export, read as a stream."""
    thousand = b",".join([FEATURE] * 1000)
    handle.write(b'{"type":"FeatureCollection","features":[' + thousand)
    for _ in range(10 * MB // len(thousand) - 1):
        handle.write(b"," + thousand)
    handle.write(b"]}")


ICS = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:1\r\nDTSTART:20250312T080000Z\r\n"
       "DTEND:20250312T080001Z\r\nRRULE:{rule}\r\nSUMMARY:x\r\nEND:VEVENT\r\n{more}END:VCALENDAR\r\n")
LATER = "BEGIN:VEVENT\r\nUID:2\r\nDTSTART:20250319T080000Z\r\nSUMMARY:y\r\nEND:VEVENT\r\n"


def structured_cases(corpus: Corpus) -> list[Case]:
    c = corpus
    return [
        Case("geojson-deep-nesting", (c.put("json/deep.geojson", lambda: (
            b'{"type": "FeatureCollection", "features": ' + b"[" * 200_000)),), ("geojson",), parser="geojson",
             exits=frozenset({2})),
        Case("records-deep-nesting", (c.put("json/Records.json", lambda: (
            b'{"locations": ' + b"[" * 200_000 + b"]" * 200_000 + b"}")),), ("google-records",),
             parser="google-records"),
        Case("geojson-minified-single-line", (c.stream("json/minified.geojson", _minified),), ("geojson",),
             parser="geojson", exits=frozenset({0})),
        Case("geojson-20mb-string", (c.put("json/huge-string.geojson", lambda: (
            b'{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point",'
            b'"coordinates":[2.35,48.85]},"properties":{"agent":"' + b"a" * (20 * MB)
            + b'","time":"2025-03-12T08:00:00Z"}}]}')),), ("geojson",), parser="geojson"),
        Case("records-extreme-numbers", (c.put("json/numbers.json", lambda: (
            b'{"locations":[{"latitudeE7":1e999999,"longitudeE7":-1e999999,"timestamp":"2025-03-12T08:00:00Z"},'
            b'{"latitudeE7":NaN,"longitudeE7":Infinity,"timestamp":"2025-03-12T08:00:00Z"},'
            b'{"latitudeE7":123456789012345678901234567890,"longitudeE7":0,"timestampMs":"99999999999999999999"}'
            b"]}")),), ("google-records",), parser="google-records"),
        Case("timeline-cut-mid-json", (c.put("json/Timeline.json", lambda: (
            b'{"semanticSegments": [{"startTime": "2025-03-12T08:00:00.000+01:00",'
            b' "endTime": "2025-03-12T09:00:00.000+01:00", "timelinePath": [{"poi')),),
             ("google-timeline-device",), parser="google-timeline-device", exits=frozenset({2}), message="JSON"),
        Case("ics-endless-secondly", (c.put("ics/secondly.ics", lambda: ICS.format(rule="FREQ=SECONDLY", more=LATER)),),
             ("icalendar",), parser="icalendar", exits=frozenset({2}), message="repeat"),
        Case("ics-endless-minutely", (c.put("ics/minutely.ics", lambda: ICS.format(rule="FREQ=MINUTELY", more="")),),
             ("icalendar",), parser="icalendar", exits=frozenset({0})),
        Case("ics-billion-count", (c.put("ics/count.ics", lambda: ICS.format(
            rule="FREQ=MINUTELY;COUNT=1000000000", more=LATER)),), ("icalendar",), parser="icalendar"),
        Case("ics-year-9999", (c.put("ics/far.ics", lambda: ICS.replace("20250312", "99991231").format(
            rule="FREQ=YEARLY", more="")),), ("icalendar",), parser="icalendar"),
        Case("ics-repeated-properties", (c.put("ics/repeated.ics", lambda: ICS.format(rule="FREQ=DAILY;COUNT=3", more=(
            "BEGIN:VEVENT\r\nUID:3\r\nUID:4\r\nDTSTAMP:20250301T000000Z\r\nDTSTAMP:20250302T000000Z\r\n"
            "CREATED:20250301T000000Z\r\nCREATED:x\r\nDTSTART:20250313T080000Z\r\nDTEND:20250313T090000Z\r\n"
            "DTEND:20250313T100000Z\r\nSUMMARY:a\r\nSUMMARY:b\r\nORGANIZER:mailto:a@x\r\nORGANIZER:b\r\n"
            "END:VEVENT\r\n"))),), ("icalendar",), parser="icalendar", exits=frozenset({0})),
        Case("ics-endless-folding", (c.put("ics/folded.ics", lambda: (
            "BEGIN:VCALENDAR\r\nX-LONG:" + "\r\n x" * 200_000 + "\r\nEND:VCALENDAR\r\n")),), ("icalendar",),
             parser="icalendar"),
    ]


# --- times ----------------------------------------------------------------------------------------------

EDGES = ["13/12/1901 20:45:52", "01/01/1901 00:00:00", "01/01/1900 00:00:00", "31/12/2100 23:59:59",
         "29/02/2100 12:00:00", "19/01/2038 03:14:08", "01/01/0001 00:00:00", "31/12/9999 23:59:59",
         "1901-12-13T20:45:52Z", "2100-12-31T23:59:59Z", "99999-01-01T00:00:00Z", "45/13/2025 99:99:99"]
DST = ["30/03/2025 02:30:00", "30/03/2025 02:00:00", "26/10/2025 02:30:00", "26/10/2025 02:59:59",
       "30/03/2025 01:59:59", "26/10/2025 03:00:00"]
ATTLOG_TIMES = ["1901-12-13 20:45:52", "2100-12-31 23:59:59", "2025-03-30 02:30:00", "2025-10-26 02:30:00"]
ICS_TIMES = [("20250330T023000", "20250330T033000"), ("20251026T023000", "20251026T024500"),
             ("19011213T204552", "19011213T214552"), ("21001231T230000", "21001231T235959")]


def _ics_events() -> str:
    events = "".join(f"BEGIN:VEVENT\r\nUID:{i}\r\nDTSTART;TZID=Europe/Paris:{s}\r\nDTEND;TZID=Europe/Paris:{e}\r\n"
                     "SUMMARY:x\r\nEND:VEVENT\r\n" for i, (s, e) in enumerate(ICS_TIMES))
    return "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\n" + events + "END:VCALENDAR\r\n"


def time_cases(corpus: Corpus) -> list[Case]:
    c = corpus
    both = ("positions-csv", "times")
    return [
        Case("dates-1901-2100", (c.put("times/edges.csv", lambda: _positions([_row(t) for t in EDGES])),), both,
             parser="positions-csv", exits=frozenset({0}), warnings=("sentinel-time",)),
        Case("dst-gap-and-overlap", (c.put("times/dst.csv", lambda: _positions([_row(t) for t in DST])),), both,
             parser="positions-csv", exits=frozenset({0}),
             warnings=("dst-ambiguous", "dst-nonexistent", "timezone-missing")),
        Case("dst-other-zone", (c.put("times/dst-zone.csv", lambda: _positions([_row(t) for t in DST])),), both,
             parser="positions-csv", exits=frozenset({0}), extra=("--timezone", "America/New_York")),
        Case("unknown-timezone-option", (c.put("times/bad-zone.csv", lambda: _positions([_row(DST[0])])),), both,
             parser="positions-csv", exits=frozenset({2}), names="Mars/Olympus",
             extra=("--timezone", "Mars/Olympus")),
        Case("attlog-edge-dates", (c.put("times/attlog.dat", lambda: "".join(
            f"  1\t{t}\t1\t0\t1\t0\n" for t in ATTLOG_TIMES)),), ("zkteco-attlog", "times"), parser="zkteco-attlog",
             exits=frozenset({0})),
        Case("ics-dst-and-edges", (c.put("times/dst.ics", _ics_events),), ("icalendar", "times"),
             parser="icalendar", exits=frozenset({0})),
    ]


#: Cases also run through `auditor audit` (no --parser there: detection decides), metrics and reports included.
AUDITED = ("dates-1901-2100", "dst-gap-and-overlap", "attlog-edge-dates", "ics-dst-and-edges", "ics-year-9999",
           "csv-duplicate-headers", "csv-million-empty-fields", "zip-thousands-of-entries", "gpx-named-csv")


#: Known defects of `auditor audit` outside the files this suite may change.
AUDIT_XFAIL: dict[str, str] = {}


def audited(cases: list[Case]) -> list[Case]:
    """The AUDITED cases again, through `auditor audit` (exit 0: the edge values reach SQL and the reports)."""
    return [replace(c, id=f"audit-{c.id}", command="audit", parser=None, warnings=(), extra=(),
                    exits=frozenset({0}), xfail=AUDIT_XFAIL.get(c.id, c.xfail))
            for c in cases if c.id in AUDITED]


def generate(folder: Path | None) -> list[Case]:
    """Every case, its files written under ``folder`` (nothing written when ``folder`` is None)."""
    corpus = Corpus(folder)
    cases = [*damaged_cases(corpus), *xml_cases(corpus), *archive_cases(corpus), *text_cases(corpus),
             *structured_cases(corpus), *time_cases(corpus)]
    return [*cases, *audited(cases)]


if __name__ == "__main__":
    target = Path(sys.argv[1])
    for case in generate(target):
        print(case.id, " ".join(case.files))
