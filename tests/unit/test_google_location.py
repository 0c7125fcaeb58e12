"""Google location history: Records.json / Location History.json, Semantic history, on-device Timeline."""

from __future__ import annotations

import contextlib
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
from auditor.sources.google_location import GoogleRecords, GoogleSemantic, GoogleTimelineDevice
from tests.conftest import real_exports
from tests.helpers import rejects_of

RECORDS, SEMANTIC, DEVICE = GoogleRecords(), GoogleSemantic(), GoogleTimelineDevice()


def _utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, micro: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, micro, tzinfo=UTC)


def _load(data: bytes | str, name: str, parser: str | None = None) -> Dataset:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return load([Source.from_bytes(raw, name)], ReadOptions(parser=parser, agent="marie.curie"))


def _rows(dataset: Dataset) -> list[dict[str, Any]]:
    return dataset.tables["positions"].to_pylist() if "positions" in dataset.tables else []


def _pick(rows: list[dict[str, Any]], *fields: str) -> list[tuple[Any, ...]]:
    return [tuple(row[f] for f in fields) for row in rows]


def _head(data: str, name: str) -> Head:
    raw = data.encode("utf-8")
    return Head.of(raw, name, complete=True)


# --- inputs --------------------------------------------------------------------------------------

#: The ≤ 2021 Takeout file: epoch-ms strings, a 32-bit overflowed longitude, a fix without latitudeE7.
LOCATION_HISTORY = """{
  "locations" : [ {
    "timestampMs" : "1507330772000",
    "latitudeE7" : 488566000,
    "longitudeE7" : 23522000,
    "accuracy" : 17,
    "activity" : [ {
      "timestampMs" : "1507330770000",
      "activity" : [ { "type" : "ON_FOOT", "confidence" : 25 }, { "type" : "STILL", "confidence" : 75 } ]
    } ]
  }, {
    "timestampMs" : "1507330832123",
    "latitudeE7" : -338688000,
    "longitudeE7" : 2782874296,
    "accuracy" : 1200,
    "velocity" : 3,
    "altitude" : 45,
    "heading" : 90
  }, {
    "timestampMs" : "1507330892000",
    "accuracy" : 20
  } ]
}"""

#: The 2022–2024 Records.json: ISO times with and without milliseconds, source, deviceTag, bad rows.
RECORDS_JSON = """{
  "locations": [{
    "latitudeE7": 488566123,
    "longitudeE7": 23522456,
    "accuracy": 22,
    "source": "WIFI",
    "deviceTag": -577680260,
    "platformType": "ANDROID",
    "timestamp": "2022-01-12T17:18:24.190Z",
    "deviceTimestamp": "2022-01-12T17:18:23.001Z",
    "serverTimestamp": "2022-01-12T17:18:25.000Z"
  }, {
    "latitudeE7": 488570000,
    "longitudeE7": 23530000,
    "accuracy": 5,
    "velocity": 12,
    "heading": 270,
    "altitude": 61,
    "verticalAccuracy": 3,
    "source": "GPS",
    "deviceTag": 1234,
    "platformType": "IOS",
    "timestamp": "2022-01-12T17:19:00Z"
  }, {
    "latitudeE7": 488570000,
    "longitudeE7": 23530000,
    "timestamp": "hier soir"
  }, {
    "latitudeE7": 950000000,
    "longitudeE7": 23530000,
    "timestamp": "2022-01-12T17:20:00Z"
  }, {
    "latitudeE7": 488570000,
    "longitudeE7": 23530000,
    "accuracy": "large",
    "timestamp": "2022-01-12T17:21:00Z"
  }]
}
"""

SEMANTIC_JSON = """{
  "timelineObjects": [{
    "placeVisit": {
      "location": {
        "latitudeE7": 488566000, "longitudeE7": 23522000, "placeId": "ChIJ-home",
        "address": "12 rue des Écoles, Paris", "name": "Domicile", "semanticType": "TYPE_HOME",
        "sourceInfo": {"deviceTag": 42}
      },
      "duration": {"startTimestampMs": "1546326000000", "endTimestampMs": "1546354800000"},
      "placeConfidence": "HIGH_CONFIDENCE",
      "childVisits": [{"location": {"latitudeE7": 488566100, "longitudeE7": 23522100}}]
    }
  }, {
    "activitySegment": {
      "startLocation": {"latitudeE7": 488566000, "longitudeE7": 23522000, "sourceInfo": {"deviceTag": 42}},
      "endLocation": {"latitudeE7": 488600000, "longitudeE7": 23600000},
      "duration": {"startTimestamp": "2019-01-01T08:00:00Z", "endTimestamp": "2019-01-01T08:30:00.500Z"},
      "distance": 1500,
      "activityType": "WALKING",
      "confidence": "HIGH",
      "waypointPath": {"waypoints": [{"latE7": 488570000, "lngE7": 23530000},
                                     {"latE7": 488580000, "lngE7": 23540000},
                                     {"latE7": 488590000, "lngE7": 23550000}]},
      "simplifiedRawPath": {"points": [
        {"latE7": 488575000, "lngE7": 23535000, "timestampMs": "1546329900000", "accuracyMeters": 10},
        {"latE7": 488585000, "lngE7": 23545000, "timestamp": "2019-01-01T08:20:00Z", "accuracyMeters": 8},
        {"lngE7": 23545000, "timestamp": "2019-01-01T08:25:00Z"}
      ]}
    }
  }, {
    "somethingNew": {}
  }]
}
"""

#: The Android on-device export: times with offsets, an activity segment, an activity-only raw signal.
ANDROID_JSON = """{
  "semanticSegments": [
    {
      "startTime": "2024-01-01T08:00:00.000+01:00",
      "endTime": "2024-01-01T08:40:00.000+01:00",
      "startTimeTimezoneUtcOffsetMinutes": 60,
      "endTimeTimezoneUtcOffsetMinutes": 60,
      "activity": {
        "start": {"latLng": "48.8566°, 2.3522°"},
        "end": {"latLng": "48.8606°, 2.3376°"},
        "distanceMeters": 1234.5,
        "topCandidate": {"type": "IN_PASSENGER_VEHICLE", "probability": 0.9}
      }
    },
    {
      "startTime": "2024-01-01T08:40:00.000+01:00",
      "endTime": "2024-01-01T10:00:00.000+01:00",
      "timelinePath": [
        {"point": "48.8606°, 2.3376°", "time": "2024-01-01T08:41:00.000+01:00"},
        {"point": "nowhere", "time": "2024-01-01T08:42:00.000+01:00"}
      ]
    }
  ],
  "rawSignals": [
    {"position": {"LatLng": "-33.8688°, 151.2093°", "accuracyMeters": 13, "altitudeMeters": 58.3,
                  "source": "WIFI", "timestamp": "2024-01-01T08:00:05.123+01:00", "speedMetersPerSecond": 0.5}},
    {"activityRecord": {"probableActivities": [{"type": "STILL", "confidence": 1.0}],
                        "timestamp": "2024-01-01T08:00:00.000+01:00"}},
    {"wifiScan": {"deliveryTime": "2024-01-01T08:00:00.000+01:00", "devicesRecords": []}}
  ],
  "userLocationProfile": {
    "frequentPlaces": [
      {"placeId": "ChIJ-home", "placeLocation": "48.8566°, 2.3522°", "label": "HOME"},
      {"placeId": "ChIJ-work", "placeLocation": {"latLng": "48.8606°, 2.3376°"}, "label": "WORK"}
    ],
    "persona": {"travelModeAffinities": [{"mode": "WALKING", "affinity": 0.5}]}
  }
}"""

#: The iOS on-device export: a top-level array, geo: strings, numbers as text, minute offsets.
IOS_JSON = """[
  {
    "endTime" : "2024-06-01T10:30:00.000+02:00",
    "startTime" : "2024-06-01T09:55:00.000+02:00",
    "visit" : {
      "hierarchyLevel" : "0",
      "topCandidate" : {"probability" : "0.99", "semanticType" : "Work", "placeID" : "ChIJ-w",
                        "placeLocation" : "geo:48.858370,2.294481"},
      "probability" : "0.95"
    }
  },
  {
    "endTime" : "2024-06-01T11:00:00.000+02:00",
    "startTime" : "2024-06-01T10:30:00.000+02:00",
    "activity" : {"probability" : "0.99", "end" : "geo:48.860600,2.337600",
                  "topCandidate" : {"type" : "walking", "probability" : "0.80"},
                  "distanceMeters" : "3504.5", "start" : "geo:48.858370,2.294481"}
  },
  {
    "endTime" : "2024-06-01T12:00:00.000+02:00",
    "startTime" : "2024-06-01T10:00:00.000+02:00",
    "timelinePath" : [
      {"point" : "geo:48.858370,2.294481", "durationMinutesOffsetFromStartTime" : "12"},
      {"point" : "geo:48.859000,2.300000", "durationMinutesOffsetFromStartTime" : "47"}
    ]
  },
  {
    "endTime" : "2024-06-01T23:59:59.000+02:00",
    "startTime" : "2024-06-01T00:00:00.000+02:00",
    "timelineMemory" : {"destinations" : [{"identifier" : "ChIJ-w"}], "distanceFromOriginKms" : "3"}
  }
]
"""

GEOJSON = '{"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": {"type": "Point", ' \
          '"coordinates": [2.35, 48.85]}, "properties": {"time": "2024-01-01T08:00:00Z"}}]}'
GPX = '<?xml version="1.0"?><gpx version="1.1"><trk><trkseg><trkpt lat="48.8" lon="2.3"/></trkseg></trk></gpx>'
CSV = "Date;Heure;Agent;Latitude;Longitude\n01/01/2024;08:00;dupont;48,85;2,35\n"
OTHER_ARRAY = '[{"CreationDate": "2024-01-01T08:00:00", "Operation": "FileAccessed", "UserId": "a@b.fr"}]'


# --- sniffing ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "name", "expected"),
    [
        (LOCATION_HISTORY, "Location History.json", "google-records"),
        (RECORDS_JSON, "Records.json", "google-records"),
        (RECORDS_JSON, "export.json", "google-records"),
        (SEMANTIC_JSON, "2019_JANUARY.json", "google-semantic"),
        (SEMANTIC_JSON, "data.json", "google-semantic"),
        (ANDROID_JSON, "Timeline.json", "google-timeline-device"),
        (IOS_JSON, "location-history.json", "google-timeline-device"),
    ],
)
def test_detection_picks_the_right_generation(text: str, name: str, expected: str) -> None:
    found = registry.detect(Source.from_bytes(text.encode("utf-8"), name))
    assert found.parser == expected
    assert not found.ambiguous


@pytest.mark.parametrize("text", [GEOJSON, GPX, CSV, OTHER_ARRAY, "{}", "[]", '{"locations": "nowhere"}'])
def test_sniff_refuses_other_formats(text: str) -> None:
    for parser in (RECORDS, SEMANTIC, DEVICE):
        assert parser.sniff(_head(text, "Records.json")) == 0.0


def test_each_generation_refuses_the_others() -> None:
    assert RECORDS.sniff(_head(SEMANTIC_JSON, "x.json")) == 0.0
    assert RECORDS.sniff(_head(ANDROID_JSON, "x.json")) == 0.0
    assert SEMANTIC.sniff(_head(RECORDS_JSON, "x.json")) == 0.0
    assert SEMANTIC.sniff(_head(IOS_JSON, "x.json")) == 0.0
    assert DEVICE.sniff(_head(RECORDS_JSON, "x.json")) == 0.0
    assert DEVICE.sniff(_head(SEMANTIC_JSON, "x.json")) == 0.0


def test_a_geojson_that_mentions_google_keys_is_not_google() -> None:
    text = '{"type": "FeatureCollection", "locations": [{"latitudeE7": 1}], "semanticSegments": []}'
    for parser in (RECORDS, SEMANTIC, DEVICE):
        assert parser.sniff(_head(text, "Records.json")) == 0.0


def test_file_name_patterns() -> None:
    assert "records.json" in RECORDS.patterns and "location history.json" in RECORDS.patterns
    assert {"*_january.json", "*_december.json", "*/20??_*.json"} <= set(SEMANTIC.patterns)
    assert registry.detect(Source.from_bytes(SEMANTIC_JSON.encode(), "2019_MAY.json")).confidence == 1.0


# --- Records.json / Location History.json --------------------------------------------------------


def test_location_history_epoch_ms_overflow_and_missing_latitude() -> None:
    dataset = _load(LOCATION_HISTORY, "Location History.json")
    rows = _rows(dataset)
    assert _pick(rows, "source_row", "time", "lat", "lon", "accuracy_m", "speed_mps", "altitude_m", "activity") == [
        (1, _utc(2017, 10, 6, 22, 59, 32), 48.8566, 2.3522, 17.0, None, None, "STILL"),
        (2, _utc(2017, 10, 6, 23, 0, 32, 123000), -33.8688, -151.2093, 1200.0, 3.0, 45.0, None),
    ]
    assert {row["agent"] for row in rows} == {"marie.curie"}
    assert {row["tool"] for row in rows} == {"google-location-history"}
    assert {row["provider"] for row in rows} == {None}
    assert rejects_of(dataset) == [(3, "row-required-missing", {"field": "latitudeE7"})]
    provenance = dataset.provenance[0]
    assert (provenance.rows_in, provenance.rows_parsed, provenance.rows_rejected) == (3, 2, 1)
    assert provenance.notes["e7_overflow_repaired"] == 1


def test_records_iso_timestamps_source_device_andrejects_of() -> None:
    dataset = _load(RECORDS_JSON, "Records.json")
    rows = _rows(dataset)
    assert _pick(rows, "source_row", "time", "lat", "lon", "accuracy_m", "speed_mps", "altitude_m", "provider",
                 "device") == [
        (1, _utc(2022, 1, 12, 17, 18, 24, 190000), 48.8566123, 2.3522456, 22.0, None, None, "WIFI", "-577680260"),
        (2, _utc(2022, 1, 12, 17, 19), 48.857, 2.353, 5.0, 12.0, 61.0, "GPS", "1234"),
    ]
    assert rejects_of(dataset) == [
        (3, "row-time-invalid", {"field": "timestamp", "value": "hier soir"}),
        (4, "row-coordinates-invalid", {"value": "950000000, 23530000"}),
        (5, "row-number-invalid", {"field": "accuracy", "value": "large"}),
    ]
    raw = dataset.rejects.to_pylist()[0]["raw"]
    assert json.loads(raw)["timestamp"] == "hier soir"
    notes = dataset.provenance[0].notes
    assert notes["devices"] == 2
    assert notes["platform_types"] == ["ANDROID", "IOS"]
    assert notes["device_timestamp_differs"] == 1
    assert dataset.provenance[0].warnings == {}


def test_records_old_activitys_key_and_numbers_as_text() -> None:
    text = json.dumps({"locations": [{
        "timestampMs": 1507330772000, "latitudeE7": "488566000", "longitudeE7": 23522000, "accuracy": "17",
        "activitys": [{"timestampMs": "1", "activities": [{"type": "tilting", "confidence": 100}]}],
    }]})
    rows = _rows(_load(text, "LocationHistory.json", parser="google-records"))
    assert _pick(rows, "time", "lat", "accuracy_m", "activity") == [
        (_utc(2017, 10, 6, 22, 59, 32), 48.8566, 17.0, "tilting"),
    ]


@pytest.mark.parametrize("cut", [1, 40, 200, len(RECORDS_JSON) // 2, len(RECORDS_JSON) - 3])
def test_truncated_records_are_json_malformed(cut: int) -> None:
    with pytest.raises(InputError) as error:
        _load(RECORDS_JSON[:cut], "Records.json", parser="google-records")
    assert error.value.code == "json-malformed"
    assert error.value.file == "Records.json"
    assert error.value.params["detail"]


def test_garbage_after_the_document_is_json_malformed() -> None:
    with pytest.raises(InputError) as error:
        _load('{"locations": []} {"locations": []}', "Records.json", parser="google-records")
    assert error.value.code == "json-malformed"


def test_deep_nesting_is_refused_without_exhausting_memory() -> None:
    depth = 200_000
    text = '{"locations": [' + "[" * depth + "]" * depth + "]}"
    for parser in ("google-records", "google-timeline-device"):
        with pytest.raises(InputError) as error:
            _load(text, "Records.json", parser=parser)
        assert error.value.code == "json-malformed"
        assert "nested" in error.value.params["detail"]


def test_empty_locations_and_non_object_elements() -> None:
    assert _rows(_load('{"locations": []}', "Records.json")) == []
    dataset = _load('{"locations": [1, "x", null]}', "Records.json", parser="google-records")
    assert [r[1] for r in rejects_of(dataset)] == ["row-malformed"] * 3


def test_bom_and_utf16_files_are_read() -> None:
    bom = _load("\ufeff" + RECORDS_JSON, "Records.json")
    utf16 = _load(RECORDS_JSON.encode("utf-16"), "Records.json", parser="google-records")
    assert len(_rows(bom)) == len(_rows(utf16)) == 2


# --- Semantic Location History -------------------------------------------------------------------


def test_semantic_visits_segments_raw_paths_and_untimed_waypoints() -> None:
    dataset = _load(SEMANTIC_JSON, "2019_JANUARY.json")
    rows = _rows(dataset)
    assert _pick(rows, "source_row", "time", "lat", "lon", "provider", "activity", "device", "accuracy_m") == [
        (1, _utc(2019, 1, 1, 7), 48.8566, 2.3522, "google-place-visit", None, "42", None),
        (2, _utc(2019, 1, 1, 15), 48.8566, 2.3522, "google-place-visit", None, "42", None),
        (3, _utc(2019, 1, 1, 8), 48.8566, 2.3522, "google-activity-segment", "WALKING", "42", None),
        (4, _utc(2019, 1, 1, 8, 5), 48.8575, 2.3535, "google-raw-path", "WALKING", "42", 10.0),
        (5, _utc(2019, 1, 1, 8, 20), 48.8585, 2.3545, "google-raw-path", "WALKING", "42", 8.0),
        (7, _utc(2019, 1, 1, 8, 30, 0, 500000), 48.86, 2.36, "google-activity-segment", "WALKING", "42", None),
    ]
    assert rejects_of(dataset) == [(6, "row-required-missing", {"field": "latE7"})]
    notes = dataset.provenance[0].notes
    assert notes["untimed_waypoints"] == 3  # positions without a time: counted, never rows
    assert notes["child_visits"] == 1
    assert notes["unknown_objects"] == 1
    assert notes["inferred_places"] == [{"label": "TYPE_HOME", "lat": 48.8566, "lon": 2.3522}]
    assert dataset.provenance[0].rows_in == 7


def test_semantic_truncated_is_json_malformed() -> None:
    with pytest.raises(InputError) as error:
        _load(SEMANTIC_JSON[:700], "2019_JANUARY.json", parser="google-semantic")
    assert error.value.code == "json-malformed"


def test_semantic_visit_without_coordinates_is_rejected_twice() -> None:
    text = json.dumps({"timelineObjects": [{"placeVisit": {
        "location": {"placeId": "x"}, "duration": {"startTimestamp": "2020-05-01T10:00:00Z",
                                                   "endTimestamp": "2020-05-01T11:00:00Z"}}}]})
    dataset = _load(text, "2020_MAY.json")
    assert _rows(dataset) == []
    assert [r[:2] for r in rejects_of(dataset)] == [(1, "row-required-missing"), (2, "row-required-missing")]


# --- on-device Timeline --------------------------------------------------------------------------


def test_android_timeline_offsets_activity_raw_signals_and_profile() -> None:
    dataset = _load(ANDROID_JSON, "Timeline.json")
    rows = _rows(dataset)
    assert _pick(rows, "source_row", "time", "lat", "lon", "provider", "activity") == [
        (1, _utc(2024, 1, 1, 7), 48.8566, 2.3522, "google-activity", "IN_PASSENGER_VEHICLE"),
        (2, _utc(2024, 1, 1, 7, 40), 48.8606, 2.3376, "google-activity", "IN_PASSENGER_VEHICLE"),
        (3, _utc(2024, 1, 1, 7, 41), 48.8606, 2.3376, "google-timeline-path", None),
        (5, _utc(2024, 1, 1, 7, 0, 5, 123000), -33.8688, 151.2093, "WIFI", None),
    ]
    assert _pick(rows[-1:], "accuracy_m", "altitude_m", "speed_mps") == [(13.0, 58.3, 0.5)]
    assert rejects_of(dataset) == [(4, "row-coordinates-invalid", {"value": "nowhere"})]
    notes = dataset.provenance[0].notes
    assert notes["frequent_places"] == [
        {"label": "HOME", "lat": 48.8566, "lon": 2.3522},
        {"label": "WORK", "lat": 48.8606, "lon": 2.3376},
    ]
    assert notes["raw_signals_not_positions"] == {"activityRecord": 1, "wifiScan": 1}


def test_ios_timeline_geo_strings_and_minute_offsets() -> None:
    dataset = _load(IOS_JSON, "location-history.json")
    rows = _rows(dataset)
    assert _pick(rows, "source_row", "time", "lat", "lon", "provider", "activity") == [
        (1, _utc(2024, 6, 1, 7, 55), 48.85837, 2.294481, "google-visit", None),
        (2, _utc(2024, 6, 1, 8, 30), 48.85837, 2.294481, "google-visit", None),
        (3, _utc(2024, 6, 1, 8, 30), 48.85837, 2.294481, "google-activity", "walking"),
        (4, _utc(2024, 6, 1, 9), 48.8606, 2.3376, "google-activity", "walking"),
        (5, _utc(2024, 6, 1, 8, 12), 48.85837, 2.294481, "google-timeline-path", None),
        (6, _utc(2024, 6, 1, 8, 47), 48.859, 2.3, "google-timeline-path", None),
    ]
    notes = dataset.provenance[0].notes
    assert notes["segments_without_position"] == 1
    assert notes["inferred_places"] == [{"label": "Work", "lat": 48.85837, "lon": 2.294481}]
    assert dataset.rejects.num_rows == 0


def test_device_truncated_is_json_malformed() -> None:
    for text, name in ((ANDROID_JSON, "Timeline.json"), (IOS_JSON, "location-history.json")):
        with pytest.raises(InputError) as error:
            _load(text[: len(text) * 2 // 3], name, parser="google-timeline-device")
        assert error.value.code == "json-malformed"


def test_real_on_device_sample() -> None:
    files = [p for p in real_exports("google") if p.name == "timeline-device-test-data.json"]
    if not files:
        pytest.skip("timeline-device-test-data.json is absent")
    path = files[0]
    assert not path.read_bytes().endswith(b"\n")  # no final newline: must not matter
    found = registry.detect(Source.from_path(path))
    assert (found.parser, found.ambiguous) == ("google-timeline-device", False)
    dataset = load([path], ReadOptions(agent="agent"))
    rows = _rows(dataset)
    # 2 segments × (5 path points + visit start + visit end) + 2 raw signals
    assert len(rows) == 16
    assert dataset.rejects.num_rows == 0
    assert dataset.provenance[0].rows_in == 16
    providers = [row["provider"] for row in rows]
    assert providers.count("google-timeline-path") == 10
    assert providers.count("google-visit") == 4
    assert providers.count("GPS") == 2
    # A path time after its segment's end (09:15 > 09:00) is kept as it is.
    assert _utc(2023, 10, 1, 9, 15) in [row["time"] for row in rows if row["provider"] == "google-timeline-path"]
    signals = [row for row in rows if row["provider"] == "GPS"]  # 'LatLng' with a capital L
    assert _pick(signals, "time", "lat", "lon", "accuracy_m", "altitude_m", "speed_mps", "activity") == [
        (_utc(2023, 10, 1, 8), 40.712776, -74.005974, 5.0, 10.0, 1.5, "WALKING"),
        (_utc(2023, 10, 2, 8), 40.713776, -74.006974, 6.0, 11.0, 2.0, "RUNNING"),
    ]
    notes = dataset.provenance[0].notes
    assert [p["label"] for p in notes["frequent_places"]] == ["WORK", "HOME", "GYM", "PARK", "CAFE"]
    assert notes["frequent_places"][1] == {"label": "HOME", "lat": 40.713776, "lon": -74.006974}
    assert notes["inferred_places"] == [{"label": "INFERRED_WORK", "lat": 40.712776, "lon": -74.005974}]


# --- writers, and hostile bytes ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("parser", "name"),
    [(RECORDS, "Records.json"), (SEMANTIC, "2024_MARCH.json"), (DEVICE, "Timeline.json")],
)
def test_rendered_exports_are_detected_and_read_back(parser: Any, name: str) -> None:
    row = {"agent": "agent", "device": "77", "time": _utc(2025, 3, 30, 1, 0, 0, 123000), "lat": 48.8566123,
           "lon": -2.3522456, "accuracy_m": 12.0, "altitude_m": 35.0, "speed_mps": 1.0, "provider": "GPS",
           "activity": "WALKING"}
    raw = parser.render([row, {**row, "lat": -45.0, "activity": None}])
    assert registry.detect(Source.from_bytes(raw, name)).parser == parser.name
    rows = _rows(load([Source.from_bytes(raw, name)], ReadOptions(agent="agent")))
    assert _pick(rows, "time", "lat", "lon") == [(row["time"], 48.8566123, -2.3522456),
                                                (row["time"], -45.0, -2.3522456)]


def test_device_render_writes_local_offsets_and_degree_strings() -> None:
    row = {"agent": "agent", "time": _utc(2025, 7, 1, 6, 30), "lat": 48.85, "lon": 2.35}
    text = DEVICE.render([row]).decode("utf-8")
    assert '"2025-07-01T08:30:00.000+02:00"' in text
    assert '"LatLng": "48.8500000°, 2.3500000°"' in text


def _samples() -> list[tuple[bytes, str, str]]:
    return [
        (RECORDS_JSON.encode(), "Records.json", "google-records"),
        (LOCATION_HISTORY.encode(), "Location History.json", "google-records"),
        (SEMANTIC_JSON.encode(), "2019_JANUARY.json", "google-semantic"),
        (ANDROID_JSON.encode(), "Timeline.json", "google-timeline-device"),
        (IOS_JSON.encode(), "location-history.json", "google-timeline-device"),
    ]


@given(data=st.data())
def test_mutated_inputs_only_raise_input_errors(data: st.DataObject) -> None:
    raw, name, parser = data.draw(st.sampled_from(_samples()))
    out = bytearray(raw)
    for _ in range(data.draw(st.integers(1, 6))):
        if not out:
            break
        at = data.draw(st.integers(0, len(out) - 1))
        action = data.draw(st.sampled_from(["flip", "delete", "insert"]))
        if action == "flip":
            out[at] = data.draw(st.integers(0, 255))
        elif action == "delete":
            del out[at : at + data.draw(st.integers(1, 30))]
        else:
            out[at:at] = data.draw(st.sampled_from([b"[", b"{", b'"', b"-1", b"null", b"\xc2\xb0", b"geo:",
                                                    b"9e999", b"\xff", b"[]", b"{}", b","]))
    with contextlib.suppress(InputError):
        _load(bytes(out), name, parser=parser)
