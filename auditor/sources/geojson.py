"""GeoJSON (``*.geojson``, ``*.json``) as ``positions``, streamed with ijson (files reach hundreds of MB).

A ``Point`` feature is one record, dated by the first of its properties ``time``, ``timestamp``,
``datetime``, ``date`` or ``when`` (ISO text, or epoch seconds / milliseconds). A ``LineString``,
``MultiPoint`` or ``MultiLineString`` feature is one record per coordinate, dated by the matching entry
of ``coordTimes`` (written by togeojson and most GPX converters; nested for MultiLineString) or
``times``. Coordinates are ``[lon, lat, alt?]``. ``agent`` is the ``agent`` or ``user`` property, else
the file's agent hint; ``accuracy`` (metres) → ``accuracy_m``, ``device`` → ``device``.

``source_row`` is the 1-based ordinal of the feature in ``features`` (ijson gives no line numbers), so
every point of one line feature shares it; the rejects' ``raw`` names the coordinate. Features of
another geometry (polygons, none) are counted as one record each and rejected.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from functools import partial
from typing import IO, Any, ClassVar

import ijson
import pyarrow as pa

from auditor.errors import InputError
from auditor.io.text import open_text, repair
from auditor.sources.base import BatchBuilder, Head, ParseContext, Parser, Source
from auditor.sources.google_location import ITEM, MAX_DEPTH, select_from
from auditor.sources.gpx import add_point, iso_z, latitudes, longitudes
from auditor.sources.registry import register

TIME_KEYS = ("time", "timestamp", "datetime", "date", "when")
TIMES_KEYS = ("coordTimes", "times")
LINES = frozenset({"LineString", "MultiPoint", "MultiLineString"})

_TYPE = re.compile(r'"type"\s*:\s*"(FeatureCollection|Feature)"')
_GOOGLE = re.compile(r'"(?:locations|timelineObjects|semanticSegments)"\s*:')
_SURROGATES = re.compile("[\udc80-\udcff]")


class _Utf8Reader:
    """The decoded text (encoding cascade, BOM skipped, stray bytes repaired) as UTF-8 bytes for ijson."""

    def __init__(self, text: IO[str], on_repair: Any) -> None:
        self.text = text
        self.on_repair = on_repair
        self.pending = b""

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self.pending) < size:
            chunk = self.text.read(1 << 16)
            if not chunk:
                break
            if _SURROGATES.search(chunk):
                chunk = "".join(repair(p, self.on_repair) for p in chunk.splitlines(keepends=True))
            self.pending += chunk.encode("utf-8", errors="replace")
        if size < 0:
            size = len(self.pending)
        out, self.pending = self.pending[:size], self.pending[size:]
        return out


@register
class GeoJson(Parser):
    name = "geojson"
    kind = "positions"
    tool = "geojson"
    patterns = ("*.geojson", "*.json")
    title: ClassVar[dict[str, str]] = {"fr": "Positions GeoJSON", "en": "GeoJSON positions"}
    blind_spots: ClassVar[dict[str, str]] = {
        "fr": "Le format n'impose ni l'heure, ni la personne, ni la précision : seules les propriétés que "
        "l'outil a choisi d'écrire sont lues ; les tracés sans heures par point ne peuvent pas être datés.",
        "en": "The format requires neither the time, nor the person, nor the accuracy: only the properties "
        "the tool chose to write are read; lines without per-point times cannot be dated.",
    }
    roundtrip_fields = ("agent", "device", "time", "lat", "lon", "accuracy_m", "altitude_m")

    def sniff(self, head: Head) -> float:
        text = head.text.lstrip("\ufeff \t\r\n")
        if not text.startswith("{") or _GOOGLE.search(text):
            return 0.0
        match = _TYPE.search(text)
        if match is None:
            return 0.0
        return 0.95 if match.group(1) == "FeatureCollection" or '"features"' in text else 0.9

    def parse(self, source: Source, ctx: ParseContext) -> Iterator[pa.RecordBatch]:
        builder = ctx.builder(self.kind)
        root = self._root(source, ctx)
        wanted = {("features", ITEM): "feature"} if root == "collection" else {(): "feature"}
        with source.open_binary() as binary:
            reader = _Utf8Reader(open_text(binary, source.encoding), ctx.count_repair)
            for ordinal, (_, feature) in enumerate(select_from(reader, source.name, wanted), start=1):
                yield from self._feature(ctx, builder, ordinal, feature)
        yield from builder.finish()

    def _root(self, source: Source, ctx: ParseContext) -> str:
        """``collection`` or ``feature``, from the first decisive top-level key (one cheap partial pass).

        Low-level events and a depth count, not ``ijson.parse``: its prefix strings grow with the nesting,
        and a file of nested brackets would fill memory before any answer.
        """
        depth, key = 0, None
        with source.open_binary() as binary:
            reader = _Utf8Reader(open_text(binary, source.encoding), None)
            try:
                for event, value in ijson.basic_parse(reader, use_float=True):
                    if event in ("start_map", "start_array"):
                        if depth == 0 and event == "start_array":
                            break
                        depth += 1
                        if depth > MAX_DEPTH:
                            raise InputError("json-malformed", source.name, detail=f"nested over {MAX_DEPTH} levels")
                    elif event in ("end_map", "end_array"):
                        depth -= 1
                    elif depth == 0:
                        break  # a bare number or string
                    elif depth == 1 and event == "map_key":
                        if value == "features":
                            return "collection"
                        if value in ("geometry", "properties"):
                            return "feature"
                        key = value
                    elif depth == 1 and key == "type" and event == "string":
                        # a Feature, or a bare geometry read as one feature
                        return "collection" if value == "FeatureCollection" else "feature"
            except ijson.JSONError as error:
                raise InputError("json-malformed", source.name, detail=_detail(error)) from None
        raise InputError("json-malformed", source.name, detail="not a GeoJSON FeatureCollection or Feature")

    def _feature(
        self, ctx: ParseContext, builder: BatchBuilder, ordinal: int, feature: Any
    ) -> Iterator[pa.RecordBatch]:
        if not isinstance(feature, dict):
            ctx.rows_in += 1
            ctx.reject(ordinal, "row-malformed", _dump(feature), detail="feature is not an object")
            return
        properties = feature.get("properties")
        props: Mapping[str, Any] = properties if isinstance(properties, dict) else {}
        geometry = feature.get("geometry")
        if geometry is None and "coordinates" in feature:
            geometry = feature  # a bare geometry at the root
        kind = geometry.get("type") if isinstance(geometry, dict) else None
        coordinates = geometry.get("coordinates") if isinstance(geometry, dict) else None
        agent = next((str(props[k]).strip() for k in ("agent", "user") if _scalar(props.get(k))), None) or None
        values = {"device": str(props["device"]).strip() or None if _scalar(props.get("device")) else None}
        if kind == "Point":
            when = next((props[k] for k in TIME_KEYS if props.get(k) not in (None, "")), None)
            batch = self._point(ctx, builder, ordinal, coordinates, when, props.get("accuracy"), agent, values,
                                raw=partial(_dump, feature))
            if batch is not None:
                yield batch
        elif kind in LINES and isinstance(coordinates, list):
            points = coordinates
            times: list[Any] = next((props[k] for k in TIMES_KEYS if isinstance(props.get(k), list)), [])
            if kind == "MultiLineString":
                points = [p for line in coordinates if isinstance(line, list) for p in line]
                if any(isinstance(t, list) for t in times):
                    times = [t for part in times if isinstance(part, list) for t in part]
            accuracy = props.get("accuracy")
            for index, point in enumerate(points):
                when = times[index] if index < len(times) else None
                acc = accuracy[index] if isinstance(accuracy, list) and index < len(accuracy) else accuracy
                if isinstance(acc, list):
                    acc = None
                raw = partial(_dump, {"feature": ordinal, "coordinate": index + 1, "coordinates": point,
                                      "time": when})
                batch = self._point(ctx, builder, ordinal, point, when, acc, agent, values, raw=raw)
                if batch is not None:
                    yield batch
        else:
            ctx.rows_in += 1
            if kind is None or coordinates is None:
                ctx.reject(ordinal, "row-required-missing", _dump(feature), field="lat")
            else:
                ctx.warn("time-missing")  # a polygon or other shape: a place, never a dated position
                ctx.reject(ordinal, "row-required-missing", _dump(feature), field="time", geometry=str(kind))

    def _point(
        self, ctx: ParseContext, builder: BatchBuilder, ordinal: int, coordinates: Any, when: Any,
        accuracy: Any, agent: str | None, values: Mapping[str, Any], *, raw: Any,
    ) -> pa.RecordBatch | None:
        if not isinstance(coordinates, list) or len(coordinates) < 2:
            ctx.rows_in += 1
            ctx.reject(ordinal, "row-coordinates-invalid", raw(), value=_dump(coordinates)[:80])
            return None
        lon, lat = coordinates[0], coordinates[1]
        alt = coordinates[2] if len(coordinates) > 2 else None
        return add_point(
            ctx, builder, ordinal, raw, lat=lat, lon=lon, when=when, agent=agent,
            numbers={"altitude_m": alt, "accuracy_m": accuracy}, values=values,
        )

    def render(self, rows: Sequence[Mapping[str, Any]]) -> bytes:
        features = []
        for row in rows:
            point = [round(row["lon"], 7), round(row["lat"], 7)]
            if row.get("altitude_m") is not None:
                point.append(row["altitude_m"])
            properties: dict[str, Any] = {"time": _iso_ms(row["time"]), "agent": row["agent"]}
            if row.get("device"):
                properties["device"] = row["device"]
            if row.get("accuracy_m") is not None:
                properties["accuracy"] = row["accuracy_m"]
            features.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": point},
                             "properties": properties})
        body = json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False, indent=1)
        return (body + "\n").encode("utf-8")

    def row_strategy(self) -> Any:
        from hypothesis import strategies as st

        from auditor.testing.strategies import identifiers, instants

        return st.fixed_dictionaries(
            {
                "agent": identifiers(),
                "device": st.none() | identifiers(),
                "time": instants("ms"),
                "lat": latitudes(),
                "lon": longitudes(),
                "altitude_m": st.none() | st.floats(-500, 9000),
                "accuracy_m": st.none() | st.floats(0, 5000),
                "speed_mps": st.none(),
                "provider": st.none(),
                "activity": st.none(),
            }
        )


def _scalar(value: Any) -> bool:
    return isinstance(value, str | int | float) and not isinstance(value, bool) and str(value).strip() != ""


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)[:1000]


def _detail(error: Exception) -> str:
    return " ".join(str(error).split())[:200]


def _iso_ms(value: Any) -> str:
    """Milliseconds always, as browsers' ``toISOString`` writes them."""
    text = iso_z(value)
    return text if "." in text else text[:-1] + ".000Z"
