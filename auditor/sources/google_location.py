"""Google location history, three generations, as ``positions`` (tool ``google-location-history``).

* ``google-records``: Takeout ``Records.json`` (2022–2024) and ``Location History.json`` (≤ 2021),
  ``{"locations": [...]}`` with E7 integer coordinates and ``timestampMs`` (epoch ms) or ``timestamp``.
* ``google-semantic``: the monthly Semantic Location History ``YYYY/YYYY_MONTH.json``,
  ``{"timelineObjects": [placeVisit | activitySegment]}``.
* ``google-timeline-device``: the on-device Timeline export (2024+): the Android object
  ``{"semanticSegments", "rawSignals", "userLocationProfile"}`` with ``"48.85°, 2.35°"`` strings, or the
  iOS top-level array of segments with ``"geo:48.85,2.35"`` strings and minute offsets.

Files reach hundreds of MB, so they are streamed: ijson's C backend gives the low-level events and a
small builder here assembles only the array elements we want, one at a time, in document order. The
builder (not ``ijson.items``) because ijson's prefix strings cost memory quadratic in the nesting depth
(a 100 KB file of nested brackets took 6 GB); nesting is capped at ``MAX_DEPTH`` instead.

Every position emitted is one record (``ctx.rows_in``); a segment giving several points gives several
records. ``source_row`` is the 1-based ordinal of the record in the file, one running counter across
arrays, in document order of the elements (a segment's start, then its path points, then its end); for
``Records.json`` it is the index of the element in ``locations``. Rejected records use the same numbers
and keep the element's JSON as ``raw``. The export
belongs to one account, so ``agent`` is the file's agent hint. Positions without a time (the
``waypointPath`` of a semantic segment) cannot be rows: they are only counted in the notes, as are
Google's inferred home and work places (``frequent_places``, ``inferred_places``).
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, BinaryIO, ClassVar
from zoneinfo import ZoneInfo

import ijson
import pyarrow as pa

from auditor.errors import InputError
from auditor.io.text import open_text
from auditor.io.times import parse_datetime
from auditor.sources.base import BatchBuilder, Head, ParseContext, Parser, Source
from auditor.sources.registry import register

TOOL = "google-location-history"
MAX_DEPTH = 64
BUFFER = 1 << 16
MAX_LISTED = 100  # places kept in the notes
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ITEM = 0  # path component of an array element (keys are always strings)

ACTIVITIES = ("STILL", "ON_FOOT", "WALKING", "RUNNING", "ON_BICYCLE", "IN_VEHICLE", "IN_ROAD_VEHICLE",
              "IN_RAIL_VEHICLE", "IN_PASSENGER_VEHICLE", "TILTING", "EXITING_VEHICLE", "UNKNOWN")
SOURCES = ("WIFI", "GPS", "CELL", "UNKNOWN")

_NUMBER = r"[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?"
_POINT = re.compile(rf"^\s*(?:geo:)?\s*({_NUMBER})\s*°?\s*,\s*({_NUMBER})\s*°?\s*(?:;.*)?$", re.IGNORECASE)
_LEAD = "\ufeff \t\r\n"
_GEOJSON = '"FeatureCollection"'
_RECORDS_ROOT = re.compile(r'^\{\s*"locations"\s*:\s*\[')
_SEMANTIC_ROOT = re.compile(r'^\{\s*"timelineObjects"\s*:\s*\[')
_DEVICE_KEYS = re.compile(r'"(?:semanticSegments|rawSignals|userLocationProfile)"\s*:')
_IOS_KEYS = re.compile(r'"(?:visit|activity|timelinePath)"\s*:')
PARIS = ZoneInfo("Europe/Paris")


# --- streaming ------------------------------------------------------------------------------------


def _utf8(source: Source) -> BinaryIO | _Reencoded:
    """The file as UTF-8 bytes for ijson: as is when it is UTF-8 (BOM skipped), else re-encoded."""
    binary = source.open_binary()
    encoding = source.encoding
    if encoding.name.replace("_", "-").lower() == "utf-8":
        binary.seek(encoding.bom_length)
        return binary
    return _Reencoded(open_text(binary, encoding))


class _Reencoded:
    """A text stream read back as UTF-8 bytes (UTF-16 or cp1252 JSON is rare, but not refused)."""

    def __init__(self, text: io.TextIOWrapper) -> None:
        self.text = text
        self.pending = b""

    def __enter__(self) -> _Reencoded:
        return self

    def __exit__(self, *exc: object) -> None:
        self.text.close()

    def read(self, size: int | None = -1) -> bytes:
        want = BUFFER if size is None or size < 0 else size
        while len(self.pending) < want:
            chunk = self.text.read(BUFFER)
            if not chunk:
                break
            self.pending += chunk.encode("utf-8", errors="replace")
        out, self.pending = self.pending[:want], self.pending[want:]
        return out


def _detail(error: Exception) -> str:
    text = error.args[0] if error.args else str(error)
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    return str(text).strip().splitlines()[0][:120] if str(text).strip() else type(error).__name__


def select(source: Source, wanted: Mapping[tuple[Any, ...], str]) -> Iterator[tuple[str, Any]]:
    """``(label, value)`` for every JSON value whose path is in ``wanted``, in document order.

    A path is the tuple of keys and ``ITEM`` (array element) from the root. Only the selected values
    are built; everything else streams past. Malformed or truncated JSON raises ``json-malformed``.
    """
    with _utf8(source) as stream:
        yield from select_from(stream, source.name, wanted)


def select_from(stream: Any, file: str, wanted: Mapping[tuple[Any, ...], str]) -> Iterator[tuple[str, Any]]:
    """``select`` over a stream of UTF-8 bytes (``file`` names it in errors); nesting capped at MAX_DEPTH."""
    path: list[Any] = []
    stack: list[Any] = []
    key: Any = None
    label = ""
    try:
        for event, value in ijson.basic_parse(stream, use_float=True, buf_size=BUFFER):
            if stack:
                if event == "map_key":
                    key = value
                    continue
                top = stack[-1]
                if event == "start_map" or event == "start_array":
                    if len(stack) + len(path) >= MAX_DEPTH:
                        raise InputError("json-malformed", file, detail=f"nested over {MAX_DEPTH} levels")
                    new: Any = {} if event == "start_map" else []
                    if type(top) is dict:
                        top[key] = new
                    else:
                        top.append(new)
                    stack.append(new)
                elif event == "end_map" or event == "end_array":
                    done = stack.pop()
                    if not stack:
                        yield label, done
                elif type(top) is dict:
                    top[key] = value
                else:
                    top.append(value)
                continue
            if event == "map_key":
                path[-1] = value
                continue
            if event == "end_map" or event == "end_array":
                path.pop()
                continue
            found = wanted.get(tuple(path))
            if event == "start_map" or event == "start_array":
                if len(path) >= MAX_DEPTH:
                    raise InputError("json-malformed", file, detail=f"nested over {MAX_DEPTH} levels")
                if found is not None:
                    label = found
                    stack.append({} if event == "start_map" else [])
                else:
                    path.append(None if event == "start_map" else ITEM)
            elif found is not None:
                yield found, value
    except ijson.JSONError as error:
        raise InputError("json-malformed", file, detail=_detail(error)) from None


# --- values ---------------------------------------------------------------------------------------


class _Rejected(Exception):
    """One record cannot become a row: the reject code and its parameters."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


def _short(value: Any) -> str:
    return (value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str))[:80]


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def number(value: Any, field: str) -> float | None:
    """An optional number (JSON number or numeric text, as iOS writes them); junk rejects the record."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise _Rejected("row-number-invalid", field=field, value=_short(value))
    try:
        out = float(value)
    except (ValueError, OverflowError):
        raise _Rejected("row-number-invalid", field=field, value=_short(value)) from None
    if not math.isfinite(out):
        raise _Rejected("row-number-invalid", field=field, value=_short(value))
    return out


def _checked(lat: float, lon: float, text: Any) -> tuple[float, float]:
    if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180):
        raise _Rejected("row-coordinates-invalid", value=_short(text))
    return lat, lon


class _E7:
    """E7 integer coordinates, repairing Google's 32-bit overflow (values above 1.8e9 lost 2**32)."""

    def __init__(self) -> None:
        self.repaired = 0

    def one(self, value: Any, field: str) -> float:
        if value is None:
            raise _Rejected("row-required-missing", field=field)
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise _Rejected("row-coordinates-invalid", value=_short(value))
        try:
            integer = int(value) if not isinstance(value, float) else int(value) if value.is_integer() else None
        except (ValueError, OverflowError):
            integer = None
        if integer is None:
            raise _Rejected("row-coordinates-invalid", value=_short(value))
        if 1_800_000_000 < integer < 2**32:
            integer -= 2**32
            self.repaired += 1
        return integer / 1e7

    def pair(self, lat: Any, lon: Any, names: tuple[str, str]) -> tuple[float, float]:
        return _checked(self.one(lat, names[0]), self.one(lon, names[1]), f"{lat}, {lon}")


def point(value: Any, field: str) -> tuple[float, float]:
    """``"48.85°, 2.35°"``, ``"geo:48.85,2.35"``, or an object holding one under ``latLng``/``LatLng``."""
    if isinstance(value, dict):
        value = value.get("latLng", value.get("LatLng", value.get("point")))
    if value is None or value == "":
        raise _Rejected("row-required-missing", field=field)
    match = _POINT.match(value) if isinstance(value, str) else None
    if match is None:
        raise _Rejected("row-coordinates-invalid", value=_short(value))
    return _checked(float(match.group(1)), float(match.group(2)), value)


def iso_time(ctx: ParseContext, value: Any, field: str) -> datetime:
    """ISO-8601 text (``Z`` or an offset, kept exact) as aware UTC; epoch text is accepted too."""
    if value is None or value == "":
        raise _Rejected("row-required-missing", field=field)
    parsed = None
    if isinstance(value, str):
        try:  # Google writes strict ISO-8601: the C parser first, the tolerant one for the rest
            parsed = datetime.fromisoformat(value)
        except ValueError:
            parsed = parse_datetime(value)
    return _aware(ctx, parsed, value, field)


def ms_time(ctx: ParseContext, value: Any, field: str) -> datetime:
    """Epoch milliseconds (text or number), exact to the millisecond."""
    if value is None or value == "":
        raise _Rejected("row-required-missing", field=field)
    parsed = None
    if isinstance(value, (int, str)) and not isinstance(value, bool):
        try:
            parsed = EPOCH + timedelta(milliseconds=int(value))
        except (ValueError, OverflowError):
            parsed = None
    return _aware(ctx, parsed, value, field)


def _aware(ctx: ParseContext, parsed: datetime | None, value: Any, field: str) -> datetime:
    if parsed is None:
        raise _Rejected("row-time-invalid", field=field, value=_short(value))
    try:
        out = ctx.time(parsed)
    except (OverflowError, ValueError):
        raise _Rejected("row-time-invalid", field=field, value=_short(value)) from None
    if out is None:  # a sentinel date, counted by ctx.time
        raise _Rejected("row-required-missing", field=field)
    return out


def either_time(ctx: ParseContext, obj: Mapping[str, Any], iso_key: str, ms_key: str) -> datetime:
    if obj.get(iso_key) not in (None, ""):
        return iso_time(ctx, obj[iso_key], iso_key)
    return ms_time(ctx, obj.get(ms_key), ms_key if ms_key in obj else iso_key)


def most_confident(guesses: Any, type_key: str, score_key: str) -> str | None:
    """The type of the highest-scored guess of a list (the first one on a tie)."""
    best: tuple[float, str] | None = None
    for guess in guesses if isinstance(guesses, list) else []:
        kind = _obj(guess).get(type_key)
        if not isinstance(kind, str) or not kind:
            continue
        try:
            score = float(guess.get(score_key) or 0)
        except (TypeError, ValueError):
            score = 0.0
        if best is None or score > best[0]:
            best = (score, kind)
    return best[1] if best else None


def _text(value: Any) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value) if isinstance(value, (str, int, float)) and str(value) else None


class _Places:
    """Places Google labelled (home, work…), kept once each, for the notes."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []
        self._seen: set[tuple[str, float, float]] = set()

    def add(self, label: Any, lat: float, lon: float) -> None:
        entry = (str(label), lat, lon)
        if entry not in self._seen and len(self.items) < MAX_LISTED:
            self._seen.add(entry)
            self.items.append({"label": str(label), "lat": lat, "lon": lon})


def _home_or_work(label: Any) -> bool:
    return isinstance(label, str) and ("HOME" in label.upper() or "WORK" in label.upper())


# --- rows -----------------------------------------------------------------------------------------

Make = Callable[[], dict[str, Any]]


def emit(ctx: ParseContext, builder: BatchBuilder, raw: Any, make: Make) -> pa.RecordBatch | None:
    """Count one record; add the row ``make`` builds, or reject it with the reason it gives."""
    ctx.rows_in += 1
    row = ctx.rows_in
    try:
        values = make()
    except _Rejected as rejected:
        ctx.reject(row, rejected.code, _dump(raw), **rejected.params)
        return None
    return builder.add(row, values)


def _row(ctx: ParseContext, at: datetime, lat_lon: tuple[float, float], **values: Any) -> dict[str, Any]:
    return {"agent": ctx.agent_hint, "time": at, "lat": lat_lon[0], "lon": lat_lon[1], **values}


def _place_row(
    ctx: ParseContext, stamp: Any, key: str, where: Any, field: str, provider: str = "google-visit",
    activity: str | None = None,
) -> dict[str, Any]:
    """A visit or an activity end: a place (degree or geo: text) at the segment's start or end time."""
    return _row(ctx, iso_time(ctx, stamp, key), point(where, field), provider=provider, activity=activity)


def google_source(provider: str) -> str:
    """A canonical provider in Google's words (``gps`` → ``GPS``, ``network`` → ``WIFI``)."""
    return {"network": "WIFI", "wifi": "WIFI", "cell": "CELL", "gps": "GPS"}.get(provider.lower(), provider)


def _iso_ms(value: datetime, tz: Any = UTC) -> str:
    local = value.astimezone(tz)
    text = local.isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z") if tz is UTC else text


def _e7(value: float) -> int:
    return round(value * 1e7)


def _e7_floats(low: int, high: int) -> Any:
    from hypothesis import strategies as st

    return st.integers(min_value=low * 10**7, max_value=high * 10**7).map(lambda k: k / 1e7)


def _ints(low: int, high: int) -> Any:
    from hypothesis import strategies as st

    return st.none() | st.integers(min_value=low, max_value=high).map(float)


def _base_row(**overrides: Any) -> Any:
    """Rows as the formats give them back: E7-rounded degrees, times at the millisecond, agent "agent"."""
    from hypothesis import strategies as st

    from auditor.testing.strategies import instants

    parts: dict[str, Any] = {
        "agent": st.just("agent"),
        "device": st.none(),
        "time": instants("ms"),
        "lat": _e7_floats(-90, 90),
        "lon": _e7_floats(-180, 180),
        "accuracy_m": st.none(),
        "altitude_m": st.none(),
        "speed_mps": st.none(),
        "provider": st.none(),
        "activity": st.none(),
        "tool": st.just(TOOL),
        "source_file": st.just("synthetic"),
        "source_row": st.integers(min_value=1, max_value=10**6),
    }
    parts.update(overrides)
    return st.fixed_dictionaries(parts)


def _head(head: Head) -> str:
    text = head.text.lstrip(_LEAD)
    return "" if _GEOJSON in text else text


# --- Records.json / Location History.json --------------------------------------------------------


@register
class GoogleRecords(Parser):
    name = "google-records"
    kind = "positions"
    tool = TOOL
    # "*.json" comes first among the globs: synth names each account's file after its agent.
    patterns = ("records.json", "location history.json", "*.json", "*records*.json")
    title: ClassVar[dict[str, str]] = {
        "fr": "Historique des positions Google (Records.json, Location History.json)",
        "en": "Google Location History (Records.json, Location History.json)",
    }
    blind_spots: ClassVar[dict[str, str]] = {
        "fr": "L'export ne dit pas qui, chez Google ou chez l'employeur, a consulté ces positions ni à quoi "
        "elles ont servi. Plusieurs appareils peuvent y être mêlés (deviceTag), la précision va du mètre "
        "à plusieurs kilomètres, et l'activité (à pied, en véhicule) est une déduction de Google.",
        "en": "The export does not say who, at Google or at the employer, looked at these positions or what "
        "for. Several devices may be mixed in (deviceTag), the accuracy ranges from a metre to several "
        "kilometres, and the activity (on foot, in a vehicle) is Google's inference.",
    }
    #: No "agent": the export names nobody (the agent is the file's), so synth writes one file per agent.
    roundtrip_fields = ("device", "time", "lat", "lon", "accuracy_m", "altitude_m", "speed_mps", "provider",
                        "activity")

    def sniff(self, head: Head) -> float:
        text = _head(head)
        if _RECORDS_ROOT.match(text):
            return 0.95 if re.search(r'"(?:latitudeE7|timestampMs|timestamp)"', text) else 0.6
        if '"locations"' in text and '"latitudeE7"' in text and '"timelineObjects"' not in text:
            return 0.6
        return 0.0

    def parse(self, source: Source, ctx: ParseContext) -> Iterator[pa.RecordBatch]:
        builder = ctx.builder(self.kind)
        e7 = _E7()
        devices: set[Any] = set()
        platforms: set[Any] = set()
        device_clock = 0
        for _, item in select(source, {("locations", ITEM): "location"}):
            batch = emit(ctx, builder, item, partial(self._row, ctx, e7, item))
            if batch is not None:
                yield batch
            if type(item) is dict:
                tag, platform = item.get("deviceTag"), item.get("platformType")
                if tag is not None and len(devices) < MAX_LISTED and not isinstance(tag, (dict, list)):
                    devices.add(tag)
                if isinstance(platform, str) and len(platforms) < MAX_LISTED:
                    platforms.add(platform)
                stamp = item.get("deviceTimestamp")
                if stamp is not None and stamp != item.get("timestamp"):
                    device_clock += 1
        yield from builder.finish()
        if devices:
            ctx.notes["devices"] = len(devices)  # several: positions of more than one phone are mixed
        if platforms:
            ctx.notes["platform_types"] = sorted(platforms)
        if device_clock:
            ctx.notes["device_timestamp_differs"] = device_clock
        if e7.repaired:
            ctx.notes["e7_overflow_repaired"] = e7.repaired

    @staticmethod
    def _row(ctx: ParseContext, e7: _E7, item: Any) -> dict[str, Any]:
        if not isinstance(item, dict):
            raise _Rejected("row-malformed", detail="location is not an object")
        lat_lon = e7.pair(item.get("latitudeE7"), item.get("longitudeE7"), ("latitudeE7", "longitudeE7"))
        at = either_time(ctx, item, "timestamp", "timestampMs")
        entries = item.get("activity")
        if entries is None:
            entries = item.get("activitys")  # the oldest exports
        first = _obj(entries[0]) if isinstance(entries, list) and entries else {}
        source = item.get("source")
        return _row(
            ctx, at, lat_lon,
            device=_text(item.get("deviceTag")),
            accuracy_m=number(item.get("accuracy"), "accuracy"),
            altitude_m=number(item.get("altitude"), "altitude"),
            speed_mps=number(item.get("velocity"), "velocity"),
            provider=source if isinstance(source, str) and source else None,
            activity=most_confident(first.get("activity", first.get("activities")), "type", "confidence"),
        )

    def render(self, rows: Sequence[Mapping[str, Any]]) -> bytes:
        locations = []
        for row in rows:
            location: dict[str, Any] = {"latitudeE7": _e7(row["lat"]), "longitudeE7": _e7(row["lon"])}
            for field, key in (("accuracy_m", "accuracy"), ("altitude_m", "altitude"), ("speed_mps", "velocity")):
                if row.get(field) is not None:
                    location[key] = round(row[field])
            if row.get("activity"):
                location["activity"] = [{
                    "activity": [{"type": row["activity"], "confidence": 100}],
                    "timestamp": _iso_ms(row["time"]),
                }]
            if row.get("provider"):
                location["source"] = google_source(row["provider"])
            if row.get("device") is not None:
                device = str(row["device"])
                location["deviceTag"] = int(device) if re.fullmatch(r"-?[1-9]\d{0,17}|0", device) else device
            location["platformType"] = "ANDROID"
            location["timestamp"] = _iso_ms(row["time"])
            locations.append(location)
        return (json.dumps({"locations": locations}, ensure_ascii=False, indent=2) + "\n").encode("utf-8")

    def row_strategy(self) -> Any:
        from hypothesis import strategies as st

        return _base_row(
            device=st.none() | st.integers(min_value=-(2**31), max_value=2**31 - 1).map(str),
            accuracy_m=_ints(0, 20_000),
            altitude_m=_ints(-400, 9_000),
            speed_mps=_ints(0, 300),
            provider=st.none() | st.sampled_from(SOURCES),
            activity=st.none() | st.sampled_from(ACTIVITIES),
        )


# --- Semantic Location History -------------------------------------------------------------------

MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september",
          "october", "november", "december")


@register
class GoogleSemantic(Parser):
    name = "google-semantic"
    kind = "positions"
    tool = TOOL
    patterns = ("*.json", *(f"*_{month}.json" for month in MONTHS), "*/20??_*.json", "20??_*.json")
    title: ClassVar[dict[str, str]] = {
        "fr": "Historique sémantique des positions Google (lieux visités et trajets, par mois)",
        "en": "Google Semantic Location History (places visited and trips, by month)",
    }
    blind_spots: ClassVar[dict[str, str]] = {
        "fr": "Les lieux, les trajets et les moyens de transport sont des déductions de Google, pas des "
        "mesures ; les points de trajet sans heure (waypointPath) ne deviennent pas des positions. Google "
        "déduit votre domicile et votre lieu de travail ; l'export ne dit pas qui d'autre y a accès.",
        "en": "Places, trips and means of transport are Google's inferences, not measurements; trip points "
        "without a time (waypointPath) do not become positions. Google infers your home and workplace; the "
        "export does not say who else has access to it.",
    }
    roundtrip_fields = ("device", "time", "lat", "lon", "accuracy_m", "provider", "activity")

    def sniff(self, head: Head) -> float:
        text = _head(head)
        if _SEMANTIC_ROOT.match(text):
            return 0.95
        if '"timelineObjects"' in text:
            return 0.8 if re.search(r'"(?:placeVisit|activitySegment)"', text) else 0.5
        return 0.0

    def parse(self, source: Source, ctx: ParseContext) -> Iterator[pa.RecordBatch]:
        reader = _SemanticReader(ctx, ctx.builder(self.kind))
        for _, item in select(source, {("timelineObjects", ITEM): "object"}):
            yield from reader.read(item)
        yield from reader.builder.finish()
        reader.note()

    def render(self, rows: Sequence[Mapping[str, Any]]) -> bytes:
        objects: list[dict[str, Any]] = []
        group: list[Mapping[str, Any]] = []
        for row in [*rows, None]:
            if group and (row is None or row.get("activity") != group[0].get("activity")
                          or _trip_ends(group[-1]["time"], row["time"])):
                objects.append({"activitySegment": self._rendered_segment(group)})
                group = []
            if row is not None:
                group.append(row)
        return (json.dumps({"timelineObjects": objects}, ensure_ascii=False, indent=2) + "\n").encode("utf-8")

    @staticmethod
    def _rendered_segment(group: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        points = []
        for row in group:
            fix: dict[str, Any] = {"latE7": _e7(row["lat"]), "lngE7": _e7(row["lon"])}
            if row.get("accuracy_m") is not None:
                fix["accuracyMeters"] = round(row["accuracy_m"])
            fix["timestamp"] = _iso_ms(row["time"])
            points.append(fix)
        segment: dict[str, Any] = {
            "duration": {"startTimestamp": _iso_ms(group[0]["time"]), "endTimestamp": _iso_ms(group[-1]["time"])},
        }
        if group[0].get("activity"):
            segment["activityType"] = group[0]["activity"]
            segment["confidence"] = "HIGH"
        segment["simplifiedRawPath"] = {"points": points}
        return segment

    def row_strategy(self) -> Any:
        from hypothesis import strategies as st

        return _base_row(
            accuracy_m=_ints(0, 5_000),
            provider=st.just("google-raw-path"),
            activity=st.none() | st.sampled_from(ACTIVITIES),
        )


def _trip_ends(last: datetime, now: datetime) -> bool:
    """Where the writer starts a new segment: a new local day, or a quarter of an hour without a fix."""
    return last.astimezone(PARIS).date() != now.astimezone(PARIS).date() or abs(now - last) > timedelta(minutes=15)


class _SemanticReader:
    """One semantic file being read: its rows, and the counts kept in the notes."""

    def __init__(self, ctx: ParseContext, builder: BatchBuilder) -> None:
        self.ctx = ctx
        self.builder = builder
        self.e7 = _E7()
        self.places = _Places()
        self.counts = {"untimed_waypoints": 0, "child_visits": 0, "unknown_objects": 0}

    def read(self, item: Any) -> Iterator[pa.RecordBatch]:
        entry = _obj(item)
        if isinstance(entry.get("placeVisit"), dict):
            yield from self._visit(entry["placeVisit"])
        elif isinstance(entry.get("activitySegment"), dict):
            yield from self._segment(entry["activitySegment"])
        else:
            self.counts["unknown_objects"] += 1

    def note(self) -> None:
        self.ctx.notes.update({k: v for k, v in self.counts.items() if v})
        if self.places.items:
            self.ctx.notes["inferred_places"] = self.places.items
        if self.e7.repaired:
            self.ctx.notes["e7_overflow_repaired"] = self.e7.repaired

    def _emit(self, raw: Any, make: Make) -> Iterator[pa.RecordBatch]:
        batch = emit(self.ctx, self.builder, raw, make)
        if batch is not None:
            yield batch

    def _location(self, location: Any) -> tuple[float, float]:
        place = _obj(location)
        return self.e7.pair(place.get("latitudeE7"), place.get("longitudeE7"), ("latitudeE7", "longitudeE7"))

    def _visit(self, visit: dict[str, Any]) -> Iterator[pa.RecordBatch]:
        ctx = self.ctx
        location = _obj(visit.get("location"))
        if "latitudeE7" not in location and "centerLatE7" in visit:
            location = {**location, "latitudeE7": visit["centerLatE7"], "longitudeE7": visit.get("centerLngE7")}
        duration = _obj(visit.get("duration"))
        device = _text(_obj(location.get("sourceInfo")).get("deviceTag"))
        if _home_or_work(location.get("semanticType")):
            with contextlib.suppress(_Rejected):
                self.places.add(location["semanticType"], *self._location(location))
        children = visit.get("childVisits")
        self.counts["child_visits"] += len(children) if isinstance(children, list) else 0

        def at(iso_key: str, ms_key: str) -> Make:
            return lambda: _row(ctx, either_time(ctx, duration, iso_key, ms_key), self._location(location),
                                device=device, provider="google-place-visit")

        yield from self._emit(visit, at("startTimestamp", "startTimestampMs"))
        yield from self._raw_path(visit, device, None)
        yield from self._emit(visit, at("endTimestamp", "endTimestampMs"))

    def _segment(self, segment: dict[str, Any]) -> Iterator[pa.RecordBatch]:
        ctx = self.ctx
        duration = _obj(segment.get("duration"))
        start, end = segment.get("startLocation"), segment.get("endLocation")
        device = _text(_obj(_obj(start).get("sourceInfo")).get("deviceTag"))
        kind = segment.get("activityType")
        activity = kind if isinstance(kind, str) and kind else most_confident(
            segment.get("activities"), "activityType", "probability")
        for untimed in (_obj(segment.get("waypointPath")).get("waypoints"),
                        _obj(segment.get("transitPath")).get("transitStops")):
            self.counts["untimed_waypoints"] += len(untimed) if isinstance(untimed, list) else 0

        def at(location: Any, iso_key: str, ms_key: str) -> Make:
            return lambda: _row(ctx, either_time(ctx, duration, iso_key, ms_key), self._location(location),
                                device=device, provider="google-activity-segment", activity=activity)

        if start is not None:
            yield from self._emit({"startLocation": start, "duration": duration},
                                  at(start, "startTimestamp", "startTimestampMs"))
        yield from self._raw_path(segment, device, activity)
        parking = segment.get("parkingEvent")
        if isinstance(parking, dict):
            place = _obj(parking.get("location"))
            yield from self._emit(parking, lambda: _row(
                ctx, either_time(ctx, parking, "timestamp", "timestampMs"), self._location(place), device=device,
                accuracy_m=number(place.get("accuracyMetres", place.get("accuracyMeters")), "accuracyMetres"),
                provider="google-parking-event"))
        if end is not None:
            yield from self._emit({"endLocation": end, "duration": duration},
                                  at(end, "endTimestamp", "endTimestampMs"))

    def _raw_path(self, owner: dict[str, Any], device: str | None, activity: str | None) -> Iterator[pa.RecordBatch]:
        points = _obj(owner.get("simplifiedRawPath")).get("points")
        for raw in points if isinstance(points, list) else []:
            yield from self._emit(raw, partial(self._raw_point, raw, device, activity))

    def _raw_point(self, raw: Any, device: str | None, activity: str | None) -> dict[str, Any]:
        fix = _obj(raw)
        lat_lon = self.e7.pair(fix.get("latE7"), fix.get("lngE7"), ("latE7", "lngE7"))
        return _row(self.ctx, either_time(self.ctx, fix, "timestamp", "timestampMs"), lat_lon, device=device,
                    accuracy_m=number(fix.get("accuracyMeters"), "accuracyMeters"),
                    provider="google-raw-path", activity=activity)


# --- on-device Timeline (2024+) -----------------------------------------------------------------

_DEVICE_PATHS: dict[tuple[str | int, ...], str] = {
    ("semanticSegments", ITEM): "segment",
    ("rawSignals", ITEM): "signal",
    ("userLocationProfile", "frequentPlaces", ITEM): "place",
    (ITEM,): "segment",  # iOS: the file is the array of segments
}


@register
class GoogleTimelineDevice(Parser):
    name = "google-timeline-device"
    kind = "positions"
    tool = TOOL
    patterns = ("timeline.json", "location-history.json", "*.json", "*timeline*.json")
    title: ClassVar[dict[str, str]] = {
        "fr": "Chronologie Google Maps exportée du téléphone (Timeline.json, 2024 et après)",
        "en": "Google Maps Timeline exported from the phone (Timeline.json, 2024 onwards)",
    }
    blind_spots: ClassVar[dict[str, str]] = {
        "fr": "Google déduit votre domicile et votre lieu de travail ; l'export ne dit pas qui d'autre y a "
        "accès. Les visites et les activités sont des déductions, pas des mesures ; les relevés Wi-Fi "
        "(wifiScan) et d'activité sans position ne sont que comptés.",
        "en": "Google infers your home and workplace; the export does not say who else has access to it. "
        "Visits and activities are inferences, not measurements; Wi-Fi scans (wifiScan) and activity "
        "records without a position are only counted.",
    }
    roundtrip_fields = ("device", "time", "lat", "lon", "accuracy_m", "altitude_m", "speed_mps", "provider")

    def sniff(self, head: Head) -> float:
        text = _head(head)
        if text.startswith("{"):
            return 0.95 if _DEVICE_KEYS.search(text) else 0.0
        first = text[:4096]
        if re.match(r"\[\s*\{", first) and '"startTime"' in first and _IOS_KEYS.search(first):
            return 0.9 if "geo:" in first or "°" in first else 0.6
        return 0.0

    def parse(self, source: Source, ctx: ParseContext) -> Iterator[pa.RecordBatch]:
        builder = ctx.builder(self.kind)
        frequent, inferred = _Places(), _Places()
        others: dict[str, int] = {}
        empty = 0
        for label, item in select(source, _DEVICE_PATHS):
            entry = _obj(item)
            if label == "segment":
                if not any(isinstance(entry.get(k), (dict, list)) for k in ("visit", "activity", "timelinePath")):
                    empty += 1  # e.g. an iOS timelineMemory: a summary, no position
                yield from self._segment(ctx, builder, entry, inferred)
            elif label == "signal":
                position = entry.get("position")
                if isinstance(position, dict):
                    batch = emit(ctx, builder, item, partial(self._signal, ctx, entry))
                    if batch is not None:
                        yield batch
                else:  # an activityRecord or wifiScan alone: no position, only counted
                    for key in entry:
                        others[key] = others.get(key, 0) + 1
            else:
                try:
                    frequent.add(entry.get("label"), *point(entry.get("placeLocation"), "placeLocation"))
                except _Rejected:
                    others["frequentPlaceWithoutLocation"] = others.get("frequentPlaceWithoutLocation", 0) + 1
        yield from builder.finish()
        if frequent.items:
            ctx.notes["frequent_places"] = frequent.items
        if inferred.items:
            ctx.notes["inferred_places"] = inferred.items
        if others:
            ctx.notes["raw_signals_not_positions"] = dict(sorted(others.items()))
        if empty:
            ctx.notes["segments_without_position"] = empty

    def _segment(
        self, ctx: ParseContext, builder: BatchBuilder, segment: dict[str, Any], inferred: _Places
    ) -> Iterator[pa.RecordBatch]:
        start, end = segment.get("startTime"), segment.get("endTime")
        visit, activity = segment.get("visit"), segment.get("activity")
        firsts: list[tuple[Any, Make]] = []
        lasts: list[tuple[Any, Make]] = []
        if isinstance(visit, dict):
            candidate = _obj(visit.get("topCandidate"))
            where = candidate.get("placeLocation")
            if _home_or_work(candidate.get("semanticType")):
                with contextlib.suppress(_Rejected):
                    inferred.add(candidate["semanticType"], *point(where, "placeLocation"))
            firsts.append((visit, partial(_place_row, ctx, start, "startTime", where, "placeLocation")))
            lasts.append((visit, partial(_place_row, ctx, end, "endTime", where, "placeLocation")))
        if isinstance(activity, dict):
            kind = _obj(activity.get("topCandidate")).get("type")
            kind = kind if isinstance(kind, str) and kind else None
            firsts.append((activity, partial(_place_row, ctx, start, "startTime", activity.get("start"), "start",
                                             provider="google-activity", activity=kind)))
            lasts.append((activity, partial(_place_row, ctx, end, "endTime", activity.get("end"), "end",
                                            provider="google-activity", activity=kind)))
        path = segment.get("timelinePath")
        middle: list[tuple[Any, Make]] = [(step, partial(self._path_point, ctx, step, start))
                  for step in (path if isinstance(path, list) else [])]
        for raw, make in (*firsts, *middle, *lasts):
            batch = emit(ctx, builder, raw, make)
            if batch is not None:
                yield batch

    @staticmethod
    def _path_point(ctx: ParseContext, step: Any, start: Any) -> dict[str, Any]:
        fix = _obj(step)
        lat_lon = point(fix.get("point"), "point")
        if fix.get("time") in (None, "") and fix.get("durationMinutesOffsetFromStartTime") not in (None, ""):
            minutes = number(fix["durationMinutesOffsetFromStartTime"], "durationMinutesOffsetFromStartTime")
            try:
                at = iso_time(ctx, start, "startTime") + timedelta(minutes=minutes or 0.0)
            except OverflowError:
                raise _Rejected("row-time-invalid", field="durationMinutesOffsetFromStartTime",
                                value=_short(fix["durationMinutesOffsetFromStartTime"])) from None
        else:
            at = iso_time(ctx, fix.get("time"), "time")
        return _row(ctx, at, lat_lon, provider="google-timeline-path")

    @staticmethod
    def _signal(ctx: ParseContext, entry: dict[str, Any]) -> dict[str, Any]:
        position = _obj(entry.get("position"))
        lat_lon = point(position.get("LatLng", position.get("latLng")), "LatLng")
        source = position.get("source")
        return _row(
            ctx, iso_time(ctx, position.get("timestamp"), "timestamp"), lat_lon,
            accuracy_m=number(position.get("accuracyMeters"), "accuracyMeters"),
            altitude_m=number(position.get("altitudeMeters"), "altitudeMeters"),
            speed_mps=number(position.get("speedMetersPerSecond"), "speedMetersPerSecond"),
            provider=source if isinstance(source, str) and source else None,
            activity=most_confident(_obj(entry.get("activityRecord")).get("probableActivities"),
                                    "type", "confidence"),
        )

    def render(self, rows: Sequence[Mapping[str, Any]]) -> bytes:
        signals = []
        for row in rows:
            position: dict[str, Any] = {"LatLng": f"{row['lat']:.7f}°, {row['lon']:.7f}°"}
            if row.get("accuracy_m") is not None:
                position["accuracyMeters"] = round(row["accuracy_m"])
            if row.get("altitude_m") is not None:
                position["altitudeMeters"] = float(row["altitude_m"])
            if row.get("provider"):
                position["source"] = google_source(row["provider"])
            position["timestamp"] = _iso_ms(row["time"], PARIS)
            if row.get("speed_mps") is not None:
                position["speedMetersPerSecond"] = float(row["speed_mps"])
            signals.append({"position": position})
        document = {"semanticSegments": [], "rawSignals": signals, "userLocationProfile": {"frequentPlaces": []}}
        return (json.dumps(document, ensure_ascii=False, indent=2)).encode("utf-8")

    def row_strategy(self) -> Any:
        from hypothesis import strategies as st

        tenths = st.integers(min_value=-4_000, max_value=90_000).map(lambda n: n / 10)
        speeds = st.integers(min_value=0, max_value=5_000).map(lambda n: n / 100)
        return _base_row(
            accuracy_m=_ints(0, 5_000),
            altitude_m=st.none() | tenths,
            speed_mps=st.none() | speeds,
            provider=st.none() | st.sampled_from(SOURCES),
        )
