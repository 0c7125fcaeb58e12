"""GPX 1.0/1.1: sniffing, points to exact rows, times in every form, rejects, the real gpxpy fixtures."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from auditor.api import ReadOptions, load
from auditor.errors import InputError
from auditor.model import Dataset
from auditor.sources import registry
from auditor.sources.base import Head, Source
from auditor.sources.gpx import Gpx, iso_z
from tests.conftest import real_exports
from tests.helpers import rejects_of

PARSER = Gpx()

SAMPLE = """<?xml version="1.0" encoding="UTF-8"?>
<gpx version="1.1" creator="Suivi Flotte v3" xmlns="http://www.topografix.com/GPX/1/1"
     xmlns:gpxtpx="http://www.garmin.com/xmlschemas/TrackPointExtension/v2">
  <metadata><time>2025-03-12T06:00:00Z</time></metadata>
  <wpt lat="48.8566" lon="2.3522">
    <time>2025-03-12T08:15:00Z</time>
    <name>Domicile Mme B.</name>
  </wpt>
  <rte>
    <rtept lat="48.85" lon="2.35"><name>prévu</name></rtept>
  </rte>
  <trk>
    <name>Tournée</name>
    <trkseg>
      <trkpt lon="2.3600000" lat="48.8600000">
        <ele>35.5</ele>
        <time>2025-03-12T09:00:00.1234567Z</time>
        <hdop>1.2</hdop>
      </trkpt>
      <trkpt lat="48.861" lon="2.361">
        <time>2025-03-12T10:00:01+01:00</time>
        <extensions><gpxtpx:TrackPointExtension><gpxtpx:speed>1.4</gpxtpx:speed></gpxtpx:TrackPointExtension></extensions>
      </trkpt>
      <trkpt lat="48.862" lon="2.362">
        <time>2025-03-12T10:30:00</time>
      </trkpt>
    </trkseg>
  </trk>
</gpx>
"""

GPX10 = """<gpx version="1.0" creator="GPSBabel" xmlns="http://www.topografix.com/GPX/1/0">
<trk><trkseg>
<trkpt lat="45.1" lon="14.1"><ele>700</ele><time>2010-10-03T09:36:30Z</time><speed>2.5</speed></trkpt>
</trkseg></trk>
</gpx>
"""


def _load(text: str | bytes, name: str = "trace.gpx", **options: Any) -> Dataset:
    data = text.encode("utf-8") if isinstance(text, str) else text
    return load([Source.from_bytes(data, name)], ReadOptions(parser=PARSER.name, **options))


def _rows(dataset: Dataset) -> list[dict[str, Any]]:
    return dataset.tables["positions"].to_pylist() if "positions" in dataset.tables else []


def _head(data: bytes, name: str = "export.txt") -> Head:
    return Head.of(data, name, complete=True)


def _point(attributes: str, body: str = "<time>2025-03-12T08:00:00Z</time>") -> str:
    return f'<gpx creator="x"><trk><trkseg>\n<trkpt {attributes}>{body}</trkpt>\n</trkseg></trk></gpx>'


# --- sniff --------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "head",
    [
        SAMPLE.encode(),
        GPX10.encode(),
        b'\xef\xbb\xbf<?xml version="1.0"?>\n<!-- exported -->\n<gpx>',
        b'<?xml version="1.0"?>\n<?xml-stylesheet href="x.xsl"?>\n<gpx:gpx xmlns:gpx="http://www.topografix.com/GPX/1/1">',
        b'<?xml version="1.0"?>\n<!DOCTYPE gpx [<!ENTITY a "b">]>\n<gpx>',  # refused by parse, but it is GPX
    ],
)
def test_sniff_claims_gpx(head: bytes) -> None:
    assert PARSER.sniff(_head(head)) == 0.95


@pytest.mark.parametrize(
    "head",
    [
        b'<?xml version="1.0"?>\n<kml xmlns="http://www.opengis.net/kml/2.2"><Document/></kml>',
        b'{"type": "FeatureCollection", "features": []}',
        b'{"locations": [{"latitudeE7": 488566000}]}',
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\n",
        b"1700000000.123    42 10.0.0.1 TCP_MISS/200 1234 GET http://example.com/ - DIRECT/1.2.3.4 text/html\n",
        b"agent;date;heure\nmdupont;12/03/2025;08:00\n",
        b'<?xml version="1.0"?>\n<root><gpx/></root>',
        b"",
    ],
)
def test_sniff_rejects_other_formats(head: bytes) -> None:
    assert PARSER.sniff(_head(head)) == 0.0


def test_detection_picks_gpx() -> None:
    found = registry.detect(Source.from_bytes(SAMPLE.encode(), "trace.gpx"))
    assert (found.parser, found.kind, found.tool, found.ambiguous) == ("gpx", "positions", "gpx", False)


# --- parse --------------------------------------------------------------------------------------

def test_sample_gives_exact_rows_andrejects_of() -> None:
    dataset = _load(SAMPLE, agent="mdupont")
    common = {"agent": "mdupont", "device": "Suivi Flotte v3", "accuracy_m": None, "activity": None,
              "tool": "gpx", "source_file": "trace.gpx"}
    assert _rows(dataset) == [
        {**common, "time": datetime(2025, 3, 12, 8, 15, tzinfo=UTC), "lat": 48.8566, "lon": 2.3522,
         "altitude_m": None, "speed_mps": None, "provider": "gpx-wpt", "source_row": 5},
        {**common, "time": datetime(2025, 3, 12, 9, 0, 0, 123456, tzinfo=UTC), "lat": 48.86, "lon": 2.36,
         "altitude_m": 35.5, "speed_mps": None, "provider": "gpx-trkpt", "source_row": 15},
        {**common, "time": datetime(2025, 3, 12, 9, 0, 1, tzinfo=UTC), "lat": 48.861, "lon": 2.361,
         "altitude_m": None, "speed_mps": 1.4, "provider": "gpx-trkpt", "source_row": 20},
        {**common, "time": datetime(2025, 3, 12, 9, 30, tzinfo=UTC), "lat": 48.862, "lon": 2.362,
         "altitude_m": None, "speed_mps": None, "provider": "gpx-trkpt", "source_row": 24},
    ]
    assert rejects_of(dataset) == [(10, "row-required-missing", {"field": "time"})]
    assert "prévu" in dataset.rejects.column("raw")[0].as_py()
    provenance = dataset.provenance[0]
    assert (provenance.rows_in, provenance.rows_parsed, provenance.rows_rejected) == (5, 4, 1)
    assert provenance.warnings == {"time-missing": 1, "timezone-missing": 1}


def test_gpx_10_speed_and_agent_hint() -> None:
    [row] = _rows(_load(GPX10, name="agent-07.gpx"))
    assert (row["agent"], row["device"], row["speed_mps"], row["altitude_m"]) == ("agent-07", "GPSBabel", 2.5, 700.0)


def test_no_namespace_and_no_creator() -> None:
    [row] = _rows(_load('<gpx><wpt lat="-33.9" lon="151.2"><time>2025-01-01T00:00:00Z</time></wpt></gpx>'))
    assert (row["device"], row["lat"], row["lon"], row["provider"]) == (None, -33.9, 151.2, "gpx-wpt")


def test_naive_time_is_read_in_the_export_zone() -> None:
    dataset = _load(_point('lat="1" lon="2"', "<time>2025-07-01T12:00:00</time>"), timezone="Europe/Paris")
    assert _rows(dataset)[0]["time"] == datetime(2025, 7, 1, 10, tzinfo=UTC)
    other = _load(_point('lat="1" lon="2"', "<time>2025-07-01T12:00:00</time>"), timezone="America/New_York")
    assert _rows(other)[0]["time"] == datetime(2025, 7, 1, 16, tzinfo=UTC)


@pytest.mark.parametrize(
    ("attributes", "body", "reason", "params"),
    [
        ('lat="91" lon="2"', None, "row-coordinates-invalid", {"value": "91, 2"}),
        ('lat="45" lon="-180.5"', None, "row-coordinates-invalid", {"value": "45, -180.5"}),
        ('lat="N45" lon="2"', None, "row-coordinates-invalid", {"value": "N45, 2"}),
        ('lat="nan" lon="2"', None, "row-coordinates-invalid", {"value": "nan, 2"}),
        ('lon="2"', None, "row-required-missing", {"field": "lat"}),
        ('lat="" lon="2"', None, "row-required-missing", {"field": "lat"}),
        ('lat="1" lon="2"', "<ele>12</ele>", "row-required-missing", {"field": "time"}),
        ('lat="1" lon="2"', "<time></time>", "row-required-missing", {"field": "time"}),
        ('lat="1" lon="2"', "<time>1901-12-13T20:45:52Z</time>", "row-required-missing", {"field": "time"}),
        ('lat="1" lon="2"', "<time>hier</time>", "row-time-invalid", {"field": "time", "value": "hier"}),
        ('lat="1" lon="2"', "<time>2025-02-30T10:00:00Z</time>", "row-time-invalid",
         {"field": "time", "value": "2025-02-30T10:00:00Z"}),
        ('lat="1" lon="2"', "<ele>haut</ele><time>2025-03-12T08:00:00Z</time>", "row-number-invalid",
         {"field": "altitude_m", "value": "haut"}),
    ],
)
def test_bad_points_are_rejected_with_their_line(
    attributes: str, body: str | None, reason: str, params: dict[str, Any]
) -> None:
    text = _point(attributes) if body is None else _point(attributes, body)
    dataset = _load(text)
    assert _rows(dataset) == []
    assert rejects_of(dataset) == [(2, reason, params)]
    assert dataset.provenance[0].rows_in == 1


def test_missing_and_sentinel_times_are_counted() -> None:
    body = "".join(
        f'<trkpt lat="1" lon="2">{t}</trkpt>\n'
        for t in ("", "<time>1901-12-13T20:45:52.2073437Z</time>", "<time>2025-01-01T00:00:00Z</time>")
    )
    dataset = _load(f"<gpx>\n<trk><trkseg>\n{body}</trkseg></trk></gpx>")
    assert len(_rows(dataset)) == 1
    assert dataset.provenance[0].warnings == {"time-missing": 2, "sentinel-time": 1}
    assert [r[0] for r in rejects_of(dataset)] == [3, 4]


def test_cp1252_file_without_declaration() -> None:
    data = (
        '<gpx creator="Télégestion Aide à domicile">'
        '<wpt lat="1" lon="2"><time>2025-01-01T00:00:00Z</time></wpt></gpx>'
    )
    [row] = _rows(_load(data.encode("cp1252")))
    assert row["device"] == "Télégestion Aide à domicile"


def test_empty_gpx_gives_no_rows() -> None:
    dataset = _load('<?xml version="1.0"?>\n<gpx version="1.1" creator="x"><trk><trkseg/></trk></gpx>')
    assert _rows(dataset) == [] and dataset.rejects.num_rows == 0


def test_truncated_file_is_an_input_error() -> None:
    with pytest.raises(InputError) as caught:
        _load(SAMPLE[: SAMPLE.index("<ele>") + 7])
    assert (caught.value.code, caught.value.line) == ("xml-malformed", 16)


# --- render -------------------------------------------------------------------------------------

def test_render_is_gpx_11_and_parses_back() -> None:
    rows = [
        {"agent": "agent", "device": "Balise 12", "time": datetime(2025, 3, 30, 1, 30, tzinfo=UTC),
         "lat": 48.8566, "lon": 2.3522, "altitude_m": 35.25, "accuracy_m": None, "speed_mps": None,
         "provider": "gpx-trkpt", "activity": None},
        {"agent": "agent", "device": "Balise 12", "time": datetime(2025, 3, 30, 1, 30, 0, 250000, tzinfo=UTC),
         "lat": -0.0000001, "lon": -179.9999999, "altitude_m": None, "accuracy_m": None, "speed_mps": None,
         "provider": "gpx-trkpt", "activity": None},
    ]
    data = PARSER.render(rows)
    text = data.decode("utf-8")
    assert 'xmlns="http://www.topografix.com/GPX/1/1"' in text and 'creator="Balise 12"' in text
    assert '<trkpt lat="48.8566000" lon="2.3522000">' in text
    assert "<time>2025-03-30T01:30:00Z</time>" in text and "<time>2025-03-30T01:30:00.250Z</time>" in text
    assert PARSER.sniff(_head(data)) == 0.95
    got = _rows(_load(data, agent="agent"))
    for field in PARSER.roundtrip_fields:
        assert [g[field] for g in got] == [r[field] for r in rows], field


def test_iso_z_keeps_milliseconds_only_when_present() -> None:
    assert iso_z(datetime(2025, 1, 1, tzinfo=UTC)) == "2025-01-01T00:00:00Z"
    assert iso_z(datetime(2025, 1, 1, 0, 0, 0, 1500, tzinfo=UTC)) == "2025-01-01T00:00:00.001Z"


# --- real exports (tkrajina/gpxpy test files, read in place) ------------------------------------

def _real(name: str) -> Dataset:
    [path] = [p for p in real_exports("gpx") if p.name == name]
    return load([path])


def test_every_real_gpx_is_detected_and_accounted() -> None:
    for path in real_exports("gpx"):
        assert registry.detect(Source.from_path(path)).parser == "gpx", path.name
        provenance = load([path]).provenance[0]
        assert provenance.rows_in == provenance.rows_parsed + provenance.rows_rejected


def test_mojstrovka_sentinel_times_are_all_missing() -> None:
    dataset = _real("Mojstrovka.gpx")
    provenance = dataset.provenance[0]
    assert (provenance.rows_in, provenance.rows_parsed, provenance.rows_rejected) == (184, 0, 184)
    assert provenance.warnings == {"sentinel-time": 184, "time-missing": 184}
    assert {(r[1], r[2]["field"]) for r in rejects_of(dataset)} == {("row-required-missing", "time")}
    assert rejects_of(dataset)[0][0] == 12  # the line of the first <trkpt>


def test_korita_zbevnica_untimed_track_is_counted() -> None:
    dataset = _real("korita-zbevnica.gpx")
    provenance = dataset.provenance[0]
    # 2 waypoints (dates only in <cmt>) + 358 untimed points rejected; 513 timed points kept.
    assert (provenance.rows_in, provenance.rows_parsed, provenance.rows_rejected) == (873, 513, 360)
    assert provenance.warnings == {"time-missing": 360}
    rows = _rows(dataset)
    assert {r["time"].date().isoformat() for r in rows} == {"2010-10-03"}
    assert rows[0]["source_row"] == 1113 and rows[0]["device"] == "GPSBabel - http://www.gpsbabel.org"
    assert {r["provider"] for r in rows} == {"gpx-trkpt"}


def test_unicode_with_bom_waypoint() -> None:
    [row] = _rows(_real("unicode_with_bom.gpx"))
    assert row["time"] == datetime(2016, 5, 27, 10, 8, 47, 800000, tzinfo=UTC)
    assert (row["lat"], row["lon"], row["altitude_m"], row["provider"]) == (43.309634, 3.515386, -14.6, "gpx-wpt")
    assert (row["device"], row["accuracy_m"], row["source_row"]) == (None, None, 3)  # hdop 16.2 is not metres


def test_track_with_offsets_and_lon_first() -> None:
    rows = _rows(_real("track-with-less-sec-time.gpx"))
    assert [(r["time"], r["lat"], r["lon"], r["source_row"]) for r in rows] == [
        (datetime(2015, 12, 11, 14, 43, 13, tzinfo=UTC), 57.011456, 9.992872, 6),
        (datetime(2015, 12, 11, 14, 43, 13, 994000, tzinfo=UTC), 57.01147, 9.992874, 10),
    ]
    assert rows[0]["device"] == "NikePlus GPX Bridge"


def test_gpx10_with_all_fields() -> None:
    dataset = _real("gpx1.0_with_all_fields.gpx")
    rows = _rows(dataset)
    assert [(r["provider"], r["time"], r["source_row"]) for r in rows] == [
        ("gpx-wpt", datetime(2013, 1, 2, 2, 3, tzinfo=UTC), 11),
        ("gpx-rtept", datetime(2013, 1, 2, 2, 3, 3, tzinfo=UTC), 42),
        ("gpx-trkpt", datetime(2013, 1, 1, 11, 0, 4, tzinfo=UTC), 85),  # naive 12:00:04, read in Paris
    ]
    provenance = dataset.provenance[0]
    assert (provenance.rows_in, provenance.rows_rejected) == (8, 5)  # the empty wpt and 4 empty rtept
    assert provenance.warnings == {"time-missing": 5, "timezone-missing": 1}
