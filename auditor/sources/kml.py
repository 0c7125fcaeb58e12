"""KML 2.2 placemarks and ``gx:Track`` (``*.kml``) as ``positions``; KMZ archives are not read here.

Google's location-history KML is one ``gx:Track`` per day: ``<when>`` and ``<gx:coord>lon lat alt``
pairs, interleaved, or (as in the KML reference) all ``when`` first then all ``coord``. Both are paired
in order as they stream by, so only unmatched times wait in memory. Each pair is one record
(``provider`` "kml-track", ``source_row`` the line of its ``gx:coord``).

A ``Placemark`` with a ``Point`` is one record (``provider`` "kml-point", ``source_row`` the line of
the placemark) dated by its ``TimeStamp/when``, or else by the start of its ``TimeSpan`` (a visit:
the agent was there from then on). A placemark with another geometry (line, polygon) and no track has
no time per point: it is counted as one record and rejected as time missing. Coordinates are
``lon,lat[,alt]``. KML names nobody: ``agent`` is the file's agent hint.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from functools import partial
from typing import Any, ClassVar
from xml.sax.saxutils import escape

import pyarrow as pa

from auditor.io.text import open_text
from auditor.io.xml import iter_elements
from auditor.sources.base import BatchBuilder, Head, ParseContext, Parser, Source
from auditor.sources.gpx import XML_PROLOG, add_point, coordinate, decimal, iso_z, latitudes, longitudes
from auditor.sources.registry import register

_KML_ROOT = re.compile(XML_PROLOG + r"<(?:[\w.-]+:)?kml[\s>/]", re.DOTALL)
_COMMA = re.compile(r"\s*,\s*")
_GEOMETRIES = frozenset({"LineString", "LinearRing", "Polygon", "Model", "MultiGeometry", "MultiTrack"})
_WANTED = _GEOMETRIES | {"when", "coord", "Track", "begin", "coordinates", "Placemark"}


def _raw(**parts: str | None) -> str:
    return " ".join(f"<{name}>{text}</{name}>" for name, text in parts.items() if text is not None)


def _triple(parts: list[str]) -> tuple[str | None, str | None, str | None]:
    """``lon, lat[, alt]`` texts (anything after a third value is ignored)."""
    padded: list[str | None] = [*parts[:3], None, None, None]
    return padded[0], padded[1], padded[2]


class _Placemark:
    """What the current placemark has shown so far (only end tags are seen, so it fills bottom-up)."""

    def __init__(self) -> None:
        self.when: str | None = None
        self.begin: str | None = None
        self.points: list[str] = []
        self.tracks = 0
        self.other: str | None = None  # another geometry, by name
        self.shape: str | None = None  # its first coordinates, for the rejects table


@register
class Kml(Parser):
    name = "kml"
    kind = "positions"
    tool = "kml"
    patterns = ("*.kml",)
    title: ClassVar[dict[str, str]] = {"fr": "Positions KML (Google Earth)", "en": "KML positions (Google Earth)"}
    blind_spots: ClassVar[dict[str, str]] = {
        "fr": "Ne dit pas qui portait l'appareil ni quel appareil ; la précision en mètres et la vitesse ne "
        "sont pas indiquées ; un lieu daté par une période ne dit pas quand on en est parti.",
        "en": "Does not say who carried the device nor which device; the accuracy in metres and the speed "
        "are not given; a place dated by a period does not say when it was left.",
    }
    roundtrip_fields = ("time", "lat", "lon", "altitude_m", "provider")  # no agent: KML names nobody

    def sniff(self, head: Head) -> float:
        return 0.95 if _KML_ROOT.match(head.text) else 0.0

    def parse(self, source: Source, ctx: ParseContext) -> Iterator[pa.RecordBatch]:
        builder = ctx.builder(self.kind)
        placemark = _Placemark()
        whens: deque[tuple[str, int]] = deque()
        coords: deque[tuple[str, int]] = deque()
        with source.open_binary() as binary:
            stream = open_text(binary, source.encoding)
            for item in iter_elements(stream, source.name, only=_WANTED, on_repair=ctx.count_repair):
                name, parent = item.name, item.parent
                text = item.text
                batch: pa.RecordBatch | None = None
                in_placemark = any(a.tag == "Placemark" for a in item.ancestors)
                if name == "when" and parent == "Track":
                    whens.append((text, item.line))
                elif name == "coord" and parent == "Track":
                    coords.append((text, item.line))
                elif name == "Track":
                    yield from self._unpaired(ctx, builder, whens, coords)
                    placemark.tracks += 1
                elif not in_placemark and name != "Placemark":
                    continue
                elif name == "when" and parent == "TimeStamp":
                    placemark.when = text
                elif name == "begin" and parent == "TimeSpan":
                    placemark.begin = text
                elif name == "coordinates" and parent == "Point":
                    placemark.points.append(text)
                elif name == "coordinates":
                    placemark.shape = placemark.shape or text
                elif name in _GEOMETRIES:
                    placemark.other = name  # the outermost one ends last
                elif name == "Placemark":
                    yield from self._placemark(ctx, builder, placemark, item.line)
                    placemark = _Placemark()
                while whens and coords:
                    (when, _), (coord, line) = whens.popleft(), coords.popleft()
                    batch = self._track_point(ctx, builder, when, coord, line)
                    if batch is not None:
                        yield batch
        yield from self._unpaired(ctx, builder, whens, coords)
        yield from builder.finish()

    def _track_point(
        self, ctx: ParseContext, builder: BatchBuilder, when: str | None, coord: str, line: int
    ) -> pa.RecordBatch | None:
        lon, lat, alt = _triple(coord.split())
        return add_point(
            ctx, builder, line, partial(_raw, when=when, coord=coord),
            lat=lat, lon=lon, when=when, numbers={"altitude_m": alt}, values={"provider": "kml-track"},
        )

    def _unpaired(
        self, ctx: ParseContext, builder: BatchBuilder, whens: deque[tuple[str, int]], coords: deque[tuple[str, int]]
    ) -> Iterator[pa.RecordBatch]:
        """A track with more coords than times (times missing) or more times than coords (no location)."""
        while coords:
            coord, line = coords.popleft()
            batch = self._track_point(ctx, builder, None, coord, line)
            if batch is not None:
                yield batch
        while whens:
            when, line = whens.popleft()
            ctx.rows_in += 1
            ctx.reject(line, "row-required-missing", _raw(when=when), field="lat")

    def _placemark(
        self, ctx: ParseContext, builder: BatchBuilder, placemark: _Placemark, line: int
    ) -> Iterator[pa.RecordBatch]:
        when = placemark.when or placemark.begin
        for text in placemark.points:
            first = _COMMA.sub(",", text).split()
            lon, lat, alt = _triple(first[0].split(",") if first else [])
            batch = add_point(
                ctx, builder, line, partial(_raw, when=when, coordinates=text),
                lat=lat, lon=lon, when=when, numbers={"altitude_m": alt}, values={"provider": "kml-point"},
            )
            if batch is not None:
                yield batch
        if not placemark.points and not placemark.tracks and placemark.other:
            ctx.rows_in += 1
            ctx.warn("time-missing")
            raw = f"<{placemark.other}>" + _raw(coordinates=placemark.shape)
            ctx.reject(line, "row-required-missing", raw, field="time", geometry=placemark.other)

    def render(self, rows: Sequence[Mapping[str, Any]]) -> bytes:
        out = [
            '<?xml version="1.0" encoding="UTF-8"?>',
            '<kml xmlns="http://www.opengis.net/kml/2.2" xmlns:gx="http://www.google.com/kml/ext/2.2"'
            ' xmlns:kml="http://www.opengis.net/kml/2.2" xmlns:atom="http://www.w3.org/2005/Atom">',
            "<Document>",
            "\t<name>Location history</name>",
            "\t<open>1</open>",
            "\t<Placemark>",
            "\t\t<name>Track</name>",
            "\t\t<gx:Track>",
            "\t\t\t<altitudeMode>clampToGround</altitudeMode>",
        ]
        for row in rows:
            coord = f"{coordinate(row['lon'])} {coordinate(row['lat'])}"
            if row.get("altitude_m") is not None:
                coord += f" {decimal(row['altitude_m'])}"
            out.append(f"\t\t\t<when>{escape(iso_z(row['time']))}</when>")
            out.append(f"\t\t\t<gx:coord>{coord}</gx:coord>")
        out += ["\t\t</gx:Track>", "\t</Placemark>", "</Document>", "</kml>", ""]
        return "\n".join(out).encode("utf-8")

    def row_strategy(self) -> Any:
        from hypothesis import strategies as st

        from auditor.testing.strategies import instants

        return st.fixed_dictionaries(
            {
                "agent": st.just("agent"),
                "device": st.none(),
                "time": instants("ms"),
                "lat": latitudes(),
                "lon": longitudes(),
                "altitude_m": st.none() | st.floats(-500, 9000).map(lambda v: round(v, 3)),
                "accuracy_m": st.none(),
                "speed_mps": st.none(),
                "provider": st.just("kml-track"),
                "activity": st.none(),
            }
        )
