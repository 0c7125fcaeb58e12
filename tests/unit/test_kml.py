"""KML: sniffing, gx:Track pairs (interleaved or grouped), timed placemarks, rejects, render round trip."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from auditor.api import ReadOptions, load
from auditor.errors import InputError
from auditor.model import Dataset
from auditor.sources import registry
from auditor.sources.base import Head, Source
from auditor.sources.kml import Kml
from tests.helpers import rejects_of

PARSER = Kml()

# As Google's location-history KML was written: single quotes, when/coord interleaved, local offsets.
GOOGLE = """<?xml version='1.0' encoding='UTF-8'?>
<kml xmlns='http://www.opengis.net/kml/2.2' xmlns:gx='http://www.google.com/kml/ext/2.2'>
\t<Document>
\t\t<name>Location history from 03/12/2025 to 03/12/2025 </name>
\t\t<open>1</open>
\t\t<Style id='multiTrack_n'><LineStyle><color>99ffac59</color><width>6</width></LineStyle></Style>
\t\t<Placemark>
\t\t\t<name>Latitude User</name>
\t\t\t<styleUrl>#multiTrack</styleUrl>
\t\t\t<gx:Track>
\t\t\t\t<altitudeMode>clampToGround</altitudeMode>
\t\t\t\t<when>2025-03-12T08:00:00.170+01:00</when>
\t\t\t\t<gx:coord>2.3522 48.8566 0</gx:coord>
\t\t\t\t<when>2025-03-12T08:01:00.000+01:00</when>
\t\t\t\t<gx:coord>2.3530 48.8570 0</gx:coord>
\t\t\t</gx:Track>
\t\t</Placemark>
\t</Document>
</kml>
"""

# As the KML reference writes a track: every <when>, then every <gx:coord>; plus timed placemarks.
REFERENCE = """<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2" xmlns:gx="http://www.google.com/kml/ext/2.2">
<Document>
  <TimeStamp><when>2020-01-01T00:00:00Z</when></TimeStamp>
  <Folder>
    <Placemark>
      <name>Visite</name>
      <TimeStamp><when>2025-03-12T10:15:00Z</when></TimeStamp>
      <Point><coordinates> 2.36 , 48.86 , 35 </coordinates></Point>
    </Placemark>
    <Placemark>
      <TimeSpan><begin>2025-03-12T11:00:00</begin><end>2025-03-12T12:00:00</end></TimeSpan>
      <Point><coordinates>2.37,48.87</coordinates></Point>
    </Placemark>
    <Placemark>
      <name>Agence</name>
      <Point><coordinates>2.38,48.88,0</coordinates></Point>
    </Placemark>
    <Placemark>
      <TimeSpan><begin>2025-03-12T12:00:00Z</begin></TimeSpan>
      <LineString><coordinates>2.37,48.87 2.38,48.88</coordinates></LineString>
    </Placemark>
    <Placemark>
      <gx:MultiTrack>
        <gx:Track>
          <when>2025-03-12T13:00:00Z</when>
          <when>2025-03-12T13:00:10Z</when>
          <when>2025-03-12T13:00:20Z</when>
          <gx:coord>2.40 48.90 12.5</gx:coord>
          <gx:coord>2.41 48.91</gx:coord>
          <gx:coord>2.42 48.92 1</gx:coord>
        </gx:Track>
      </gx:MultiTrack>
    </Placemark>
  </Folder>
</Document>
</kml>
"""


def _load(text: str | bytes, name: str = "history.kml", **options: Any) -> Dataset:
    data = text.encode("utf-8") if isinstance(text, str) else text
    return load([Source.from_bytes(data, name)], ReadOptions(parser=PARSER.name, **options))


def _rows(dataset: Dataset) -> list[dict[str, Any]]:
    return dataset.tables["positions"].to_pylist() if "positions" in dataset.tables else []


def _head(data: bytes, name: str = "export.txt") -> Head:
    return Head.of(data, name, complete=True)


def _track(body: str) -> str:
    return (
        '<kml xmlns="http://www.opengis.net/kml/2.2" xmlns:gx="http://www.google.com/kml/ext/2.2">'
        f"<Placemark><gx:Track>\n{body}\n</gx:Track></Placemark></kml>"
    )


# --- sniff --------------------------------------------------------------------------------------

@pytest.mark.parametrize("head", [GOOGLE.encode(), REFERENCE.encode(), b"\xef\xbb\xbf<kml>", b"<!-- x -->\n<kml:kml>"])
def test_sniff_claims_kml(head: bytes) -> None:
    assert PARSER.sniff(_head(head)) == 0.95


@pytest.mark.parametrize(
    "head",
    [
        b'<?xml version="1.0"?>\n<gpx version="1.1" creator="x"/>',
        b'{"type": "FeatureCollection", "features": []}',
        b'{"timelineObjects": []}',
        b"BEGIN:VCALENDAR\r\n",
        b"<html><body>kml</body></html>",
        b"date;agent;lat;lon\n",
    ],
)
def test_sniff_rejects_other_formats(head: bytes) -> None:
    assert PARSER.sniff(_head(head)) == 0.0


def test_detection_picks_kml() -> None:
    found = registry.detect(Source.from_bytes(GOOGLE.encode(), "history-2025-03-12.kml"))
    assert (found.parser, found.kind, found.ambiguous) == ("kml", "positions", False)


# --- parse --------------------------------------------------------------------------------------

def test_google_track_gives_exact_rows() -> None:
    dataset = _load(GOOGLE, agent="mdupont")
    common = {"agent": "mdupont", "device": None, "accuracy_m": None, "speed_mps": None, "activity": None,
              "altitude_m": 0.0, "provider": "kml-track", "tool": "kml", "source_file": "history.kml"}
    assert _rows(dataset) == [
        {**common, "time": datetime(2025, 3, 12, 7, 0, 0, 170000, tzinfo=UTC), "lat": 48.8566, "lon": 2.3522,
         "source_row": 13},
        {**common, "time": datetime(2025, 3, 12, 7, 1, tzinfo=UTC), "lat": 48.857, "lon": 2.353, "source_row": 15},
    ]
    assert dataset.rejects.num_rows == 0 and dataset.provenance[0].warnings == {}


def test_reference_layout_placemarks_andrejects_of() -> None:
    dataset = _load(REFERENCE, name="agent-12.kml")
    got = [(r["provider"], r["time"], r["lat"], r["lon"], r["altitude_m"], r["source_row"]) for r in _rows(dataset)]
    assert got == [
        ("kml-point", datetime(2025, 3, 12, 10, 15, tzinfo=UTC), 48.86, 2.36, 35.0, 6),
        ("kml-point", datetime(2025, 3, 12, 10, 0, tzinfo=UTC), 48.87, 2.37, None, 11),  # TimeSpan begin, Paris
        ("kml-track", datetime(2025, 3, 12, 13, 0, tzinfo=UTC), 48.90, 2.40, 12.5, 29),
        ("kml-track", datetime(2025, 3, 12, 13, 0, 10, tzinfo=UTC), 48.91, 2.41, None, 30),
        ("kml-track", datetime(2025, 3, 12, 13, 0, 20, tzinfo=UTC), 48.92, 2.42, 1.0, 31),
    ]
    assert {r["agent"] for r in _rows(dataset)} == {"agent-12"}
    assert rejects_of(dataset) == [
        (15, "row-required-missing", {"field": "time"}),  # a placemark with no time
        (19, "row-required-missing", {"field": "time", "geometry": "LineString"}),  # a line: no time per point
    ]
    assert "2.37,48.87 2.38,48.88" in dataset.rejects.column("raw")[1].as_py()
    provenance = dataset.provenance[0]
    assert (provenance.rows_in, provenance.rows_parsed, provenance.rows_rejected) == (7, 5, 2)
    assert provenance.warnings == {"time-missing": 2, "timezone-missing": 1}


def test_unpaired_track_entries_are_kept_asrejects_of() -> None:
    more_coords = _track("<when>2025-03-12T08:00:00Z</when>\n<gx:coord>2 48 0</gx:coord>\n<gx:coord>3 49 0</gx:coord>")
    dataset = _load(more_coords)
    assert len(_rows(dataset)) == 1
    assert rejects_of(dataset) == [(4, "row-required-missing", {"field": "time"})]
    more_times = _track(
        "<when>2025-03-12T08:00:00Z</when>\n<when>2025-03-12T08:01:00Z</when>\n<gx:coord>2 48</gx:coord>"
    )
    dataset = _load(more_times)
    assert len(_rows(dataset)) == 1
    assert rejects_of(dataset) == [(3, "row-required-missing", {"field": "lat"})]
    assert dataset.provenance[0].rows_in == 2


@pytest.mark.parametrize(
    ("when", "coord", "reason", "params"),
    [
        ("2025-03-12T08:00:00Z", "2.35 95 0", "row-coordinates-invalid", {"value": "95, 2.35"}),
        ("2025-03-12T08:00:00Z", "2,35 48,85", "row-coordinates-invalid", {"value": "48,85, 2,35"}),
        ("2025-03-12T08:00:00Z", "2.35", "row-required-missing", {"field": "lat"}),
        ("", "2.35 48.85", "row-required-missing", {"field": "time"}),
        ("1901-12-13T20:45:52Z", "2.35 48.85", "row-required-missing", {"field": "time"}),
        ("2025-13", "2.35 48.85", "row-time-invalid", {"field": "time", "value": "2025-13"}),
        ("2025-03-12T08:00:00Z", "2.35 48.85 haut", "row-number-invalid", {"field": "altitude_m", "value": "haut"}),
    ],
)
def test_bad_track_points(when: str, coord: str, reason: str, params: dict[str, Any]) -> None:
    dataset = _load(_track(f"<when>{when}</when>\n<gx:coord>{coord}</gx:coord>"))
    assert _rows(dataset) == []
    assert rejects_of(dataset) == [(3, reason, params)]


def test_a_large_track_streams() -> None:
    body = "\n".join(
        f"<when>2025-03-12T08:{i // 60:02d}:{i % 60:02d}Z</when><gx:coord>2.{i:04d} 48.5 0</gx:coord>"
        for i in range(3000)
    )
    rows = _rows(_load(_track(body)))
    assert len(rows) == 3000 and rows[-1]["lon"] == 2.2999 and rows[-1]["source_row"] == 3001


def test_hostile_and_truncated_kml() -> None:
    with pytest.raises(InputError) as caught:
        _load('<?xml version="1.0"?>\n<!DOCTYPE kml [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n<kml>&x;</kml>')
    assert caught.value.code == "xml-forbidden"
    with pytest.raises(InputError) as caught:
        _load(GOOGLE[: GOOGLE.index("<gx:coord>") + 12])
    assert (caught.value.code, caught.value.line) == ("xml-malformed", 13)


# --- render -------------------------------------------------------------------------------------

def test_render_is_a_google_style_track_and_parses_back() -> None:
    rows = [
        {"agent": "agent", "device": None, "time": datetime(2025, 10, 26, 0, 59, 59, tzinfo=UTC), "lat": 45.764043,
         "lon": 4.835659, "altitude_m": 170.5, "accuracy_m": None, "speed_mps": None, "provider": "kml-track",
         "activity": None},
        {"agent": "agent", "device": None, "time": datetime(2025, 10, 26, 1, 0, 0, 5000, tzinfo=UTC), "lat": -90.0,
         "lon": 180.0, "altitude_m": None, "accuracy_m": None, "speed_mps": None, "provider": "kml-track",
         "activity": None},
    ]
    data = PARSER.render(rows)
    text = data.decode()
    assert "<gx:Track>" in text and "<gx:coord>4.8356590 45.7640430 170.5</gx:coord>" in text
    assert "<when>2025-10-26T01:00:00.005Z</when>" in text
    assert PARSER.sniff(_head(data)) == 0.95
    got = _rows(_load(data, agent="agent"))
    for field in PARSER.roundtrip_fields:
        assert [g[field] for g in got] == [r[field] for r in rows], field
