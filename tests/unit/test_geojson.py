"""GeoJSON: sniffing (never Google's JSON), points and timed lines to exact rows, rejects, streaming."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from auditor.api import ReadOptions, load
from auditor.errors import InputError
from auditor.model import Dataset
from auditor.sources import registry
from auditor.sources.base import Head, Source
from auditor.sources.geojson import GeoJson
from tests.conftest import real_exports
from tests.helpers import rejects_of

PARSER = GeoJson()


def _feature(geometry: Any, **properties: Any) -> dict[str, Any]:
    return {"type": "Feature", "geometry": geometry, "properties": properties}


def _point(lon: Any, lat: Any, *more: Any, **properties: Any) -> dict[str, Any]:
    return _feature({"type": "Point", "coordinates": [lon, lat, *more]}, **properties)


def _collection(*features: Any) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": list(features)}).encode()


def _load(data: bytes | str, name: str = "positions.geojson", **options: Any) -> Dataset:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return load([Source.from_bytes(raw, name)], ReadOptions(parser=PARSER.name, **options))


def _rows(dataset: Dataset) -> list[dict[str, Any]]:
    return dataset.tables["positions"].to_pylist() if "positions" in dataset.tables else []


def _head(data: bytes, name: str = "export.json") -> Head:
    return Head.of(data, name, complete=True)


# --- sniff --------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("head", "score"),
    [
        (_collection(_point(2.35, 48.85, time="2025-01-01T00:00:00Z")), 0.95),
        (b'\xef\xbb\xbf{\n  "features": [],\n  "type": "FeatureCollection"\n}', 0.95),
        (json.dumps(_point(2.35, 48.85)).encode(), 0.9),
        (b'{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Po', 0.95),  # head cut
    ],
)
def test_sniff_claims_geojson(head: bytes, score: float) -> None:
    assert PARSER.sniff(_head(head)) == score


@pytest.mark.parametrize(
    "head",
    [
        b'{"locations": [{"latitudeE7": 488566000, "longitudeE7": 23522000, "timestampMs": "1"}]}',
        b'{"timelineObjects": [{"placeVisit": {"location": {"type": "Feature"}}}]}',
        b'{"semanticSegments": [], "rawSignals": [], "type": "Feature"}',
        b'[{"type": "Feature"}]',
        b'{"name": "not geo"}',
        b'<?xml version="1.0"?>\n<gpx/>',
        b'<kml xmlns="http://www.opengis.net/kml/2.2"/>',
        b"BEGIN:VCALENDAR\r\n",
        b"",
    ],
)
def test_sniff_rejects_other_formats(head: bytes) -> None:
    assert PARSER.sniff(_head(head)) == 0.0


def test_sniff_never_claims_the_real_google_timeline() -> None:
    for path in real_exports("google"):
        head = Head.of(path.read_bytes()[:65536], path.name, complete=True)
        assert PARSER.sniff(head) == 0.0, path.name


def test_detection_picks_geojson() -> None:
    data = _collection(_point(2.35, 48.85, time="2025-01-01T00:00:00Z"))
    for name in ("x.geojson", "export.json"):
        found = registry.detect(Source.from_bytes(data, name))
        assert (found.parser, found.kind, found.ambiguous) == ("geojson", "positions", False)


# --- parse --------------------------------------------------------------------------------------

def test_points_give_exact_rows() -> None:
    data = _collection(
        _point(2.3522, 48.8566, 35, time="2025-03-12T08:15:00Z", user="marie.dupont", accuracy=12.5, device="tel-07"),
        _point(2.3522, 48.8566, timestamp=1741767300000),  # epoch ms
        _point("2.36", "48.86", datetime=1741767300, agent=4012),  # epoch s, numeric agent, numbers as text
        _point(2.37, 48.87, date="2025-03-12 09:15:00"),  # naive: read in the export zone
        _point(2.38, 48.88, when="2025-03-12T09:15:00.1234567+01:00", time=None),
    )
    dataset = _load(data, name="agent-b.geojson")
    got = [(r["agent"], r["device"], r["time"], r["lat"], r["lon"], r["altitude_m"], r["accuracy_m"],
            r["source_row"]) for r in _rows(dataset)]
    stamp = datetime(2025, 3, 12, 8, 15, tzinfo=UTC)
    assert got == [
        ("marie.dupont", "tel-07", stamp, 48.8566, 2.3522, 35.0, 12.5, 1),
        ("agent-b", None, stamp, 48.8566, 2.3522, None, None, 2),
        ("4012", None, stamp, 48.86, 2.36, None, None, 3),
        ("agent-b", None, stamp, 48.87, 2.37, None, None, 4),
        ("agent-b", None, datetime(2025, 3, 12, 8, 15, 0, 123456, tzinfo=UTC), 48.88, 2.38, None, None, 5),
    ]
    assert {r["tool"] for r in _rows(dataset)} == {"geojson"}
    assert dataset.rejects.num_rows == 0
    assert dataset.provenance[0].warnings == {"timezone-missing": 1}


def test_lines_with_coordinate_times() -> None:
    line = _feature(
        {"type": "LineString", "coordinates": [[2.1, 48.1, 30], [2.2, 48.2, 31], [2.3, 48.3]]},
        coordTimes=["2025-03-12T08:00:00Z", "2025-03-12T08:01:00Z"], accuracy=[5, 6, 7],
    )
    multi = _feature(
        {"type": "MultiLineString", "coordinates": [[[3.1, 49.1]], [[3.2, 49.2], [3.3, 49.3]]]},
        coordTimes=[["2025-03-12T09:00:00Z"], ["2025-03-12T09:01:00Z", "2025-03-12T09:02:00Z"]], user="u1",
    )
    points = _feature({"type": "MultiPoint", "coordinates": [[4.1, 50.1]]}, times=[1741770000])
    dataset = _load(_collection(line, multi, points))
    got = [(r["agent"], r["time"].isoformat(), r["lon"], r["altitude_m"], r["accuracy_m"], r["source_row"])
           for r in _rows(dataset)]
    assert got == [
        ("positions", "2025-03-12T08:00:00+00:00", 2.1, 30.0, 5.0, 1),
        ("positions", "2025-03-12T08:01:00+00:00", 2.2, 31.0, 6.0, 1),
        ("u1", "2025-03-12T09:00:00+00:00", 3.1, None, None, 2),
        ("u1", "2025-03-12T09:01:00+00:00", 3.2, None, None, 2),
        ("u1", "2025-03-12T09:02:00+00:00", 3.3, None, None, 2),
        ("positions", "2025-03-12T09:00:00+00:00", 4.1, None, None, 3),
    ]
    assert rejects_of(dataset) == [(1, "row-required-missing", {"field": "time"})]  # the third point has no time
    assert '"coordinate": 3' in dataset.rejects.column("raw")[0].as_py()
    provenance = dataset.provenance[0]
    assert (provenance.rows_in, provenance.rows_parsed) == (7, 6)
    assert provenance.warnings == {"time-missing": 1}


def test_untimed_and_unusable_features_are_rejected() -> None:
    data = _collection(
        _feature({"type": "LineString", "coordinates": [[2.1, 48.1], [2.2, 48.2]]}),
        _feature({"type": "Polygon", "coordinates": [[[2, 48], [3, 48], [3, 49], [2, 48]]]}, time="2025-01-01"),
        _feature(None, time="2025-03-12T08:00:00Z"),
        _point(200, 48.85, time="2025-03-12T08:00:00Z"),
        _point(2.35, 48.85, time="bientôt"),
        _point(2.35, 48.85, time=True),
        _feature({"type": "Point", "coordinates": [2.35]}, time="2025-03-12T08:00:00Z"),
        _point(2.35, "nord", time="2025-03-12T08:00:00Z"),
        _point(2.35, 48.85, time="2025-03-12T08:00:00Z", accuracy="large"),
        "not a feature",
        _point(2.35, 48.85, time="1901-12-13T20:45:52Z"),
    )
    dataset = _load(data)
    assert _rows(dataset) == []
    assert rejects_of(dataset) == [
        (1, "row-required-missing", {"field": "time"}),
        (1, "row-required-missing", {"field": "time"}),
        (2, "row-required-missing", {"field": "time", "geometry": "Polygon"}),
        (3, "row-required-missing", {"field": "lat"}),
        (4, "row-coordinates-invalid", {"value": "48.85, 200"}),
        (5, "row-time-invalid", {"field": "time", "value": "bientôt"}),
        (6, "row-time-invalid", {"field": "time", "value": "True"}),
        (7, "row-coordinates-invalid", {"value": "[2.35]"}),
        (8, "row-coordinates-invalid", {"value": "nord, 2.35"}),
        (9, "row-number-invalid", {"field": "accuracy_m", "value": "large"}),
        (10, "row-malformed", {"detail": "feature is not an object"}),
        (11, "row-required-missing", {"field": "time"}),
    ]
    provenance = dataset.provenance[0]
    assert provenance.rows_in == 12 == provenance.rows_rejected
    assert provenance.warnings == {"time-missing": 4, "sentinel-time": 1}


def test_a_single_feature_or_a_bare_geometry_at_the_root() -> None:
    feature = json.dumps({"properties": {"time": "2025-03-12T08:00:00Z"}, "type": "Feature",
                          "geometry": {"type": "Point", "coordinates": [2.35, 48.85]}})
    [row] = _rows(_load(feature))
    assert (row["lat"], row["source_row"]) == (48.85, 1)
    bare = _load('{"type": "Point", "coordinates": [2.35, 48.85]}')
    assert rejects_of(bare) == [(1, "row-required-missing", {"field": "time"})]


def test_features_before_type_bom_and_cp1252() -> None:
    body = '{"features": [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [2.35, 48.85]}, ' \
           '"properties": {"time": "2025-03-12T08:00:00Z", "agent": "Hélène Lefèvre"}}], "type": "FeatureCollection"}'
    for data in (body.encode("utf-8"), b"\xef\xbb\xbf" + body.encode("utf-8"), body.encode("cp1252")):
        [row] = _rows(_load(data))
        assert row["agent"] == "Hélène Lefèvre"


@pytest.mark.parametrize(
    "data",
    [
        b'{"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": {"type": "Po',
        b'{"type": "FeatureCollection", "features": []} trailing',
        b"[1, 2, 3]",
        b'{"name": "no geojson here"}',
        b"not json",
        b"",
    ],
)
def test_malformed_or_foreign_json_is_an_input_error(data: bytes) -> None:
    with pytest.raises(InputError) as caught:
        _load(data)
    assert caught.value.code in ("json-malformed", "file-empty")


def test_many_features_stream() -> None:
    features = [_point(2 + i / 1e4, 48.5, time=f"2025-03-12T08:{i // 60 % 60:02d}:{i % 60:02d}Z") for i in range(3000)]
    rows = _rows(_load(_collection(*features)))
    assert len(rows) == 3000 and rows[-1]["source_row"] == 3000


# --- render -------------------------------------------------------------------------------------

def test_render_is_a_feature_collection_and_parses_back() -> None:
    rows = [
        {"agent": "Zoé L’Hôte", "device": None, "time": datetime(2026, 3, 29, 1, 0, 0, 999000, tzinfo=UTC),
         "lat": 43.6046523, "lon": 1.4442469, "altitude_m": 146.25, "accuracy_m": 7.5, "speed_mps": None,
         "provider": None, "activity": None},
        {"agent": "00412", "device": None, "time": datetime(2026, 3, 29, 1, 0, tzinfo=UTC), "lat": 0.0, "lon": -0.0,
         "altitude_m": None, "accuracy_m": None, "speed_mps": None, "provider": None, "activity": None},
    ]
    data = PARSER.render(rows)
    document = json.loads(data)
    assert document["type"] == "FeatureCollection"
    assert document["features"][0]["properties"] == {"time": "2026-03-29T01:00:00.999Z", "agent": "Zoé L’Hôte",
                                                     "accuracy": 7.5}
    assert document["features"][1]["geometry"] == {"type": "Point", "coordinates": [-0.0, 0.0]}
    assert PARSER.sniff(_head(data)) == 0.95
    got = _rows(_load(data))
    for field in PARSER.roundtrip_fields:
        assert [g[field] for g in got] == [r[field] for r in rows], field


@given(data=st.data())
def test_mutated_geojson_only_raises_input_error(data: st.DataObject) -> None:
    raw = bytearray(_collection(
        _point(2.35, 48.85, 35, time="2025-03-12T08:00:00Z", user="Zoé", accuracy=5),
        _feature({"type": "LineString", "coordinates": [[2.1, 48.1], [2.2, 48.2]]},
                 coordTimes=["2025-03-12T08:00:00Z"]),
    ))
    for _ in range(data.draw(st.integers(1, 6))):
        if not raw:
            break
        at = data.draw(st.integers(0, len(raw) - 1))
        action = data.draw(st.sampled_from(["flip", "delete", "insert", "truncate"]))
        if action == "flip":
            raw[at] = data.draw(st.integers(0, 255))
        elif action == "delete":
            del raw[at : at + data.draw(st.integers(1, 20))]
        elif action == "insert":
            raw[at:at] = data.draw(st.sampled_from([b"[", b"]", b"{", b'"', b"null", b"1e999", b"-", b"\xff", b","]))
        else:
            del raw[at:]
    try:
        dataset = _load(bytes(raw))
    except InputError:
        return
    provenance = dataset.provenance[0]
    assert provenance.rows_in == provenance.rows_parsed + provenance.rows_rejected
