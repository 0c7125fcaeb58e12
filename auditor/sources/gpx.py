"""GPX 1.0 and 1.1 tracks, routes and waypoints (``*.gpx``) as ``positions``.

Every ``trkpt``, ``rtept`` and ``wpt`` is one record, with ``provider`` saying which ("gpx-trkpt",
"gpx-rtept", "gpx-wpt"): a waypoint is a place the device marked, a route point is usually planned
rather than visited and rarely has a time, so ``provider`` lets reports keep them apart from the trail.
Namespaces (1.0, 1.1 or none) are ignored, so attribute order, prefixes and versions do not matter.
``device`` is the ``creator`` attribute of ``<gpx>``; GPX names nobody, so ``agent`` is the file's
agent hint. A point with no usable time (none, empty, or the 1901 sentinel GPSBabel writes) is counted
as ``time-missing`` and rejected, never guessed. ``source_row`` is the line of the point's start tag.

The helpers at the bottom (numbers, coordinates, ISO times, one point → one row) are shared with the
KML and GeoJSON parsers.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from functools import partial
from typing import Any, ClassVar
from xml.etree.ElementTree import Element, tostring
from xml.sax.saxutils import escape, quoteattr

import pyarrow as pa

from auditor.io.text import open_text
from auditor.io.times import parse_datetime
from auditor.io.xml import iter_elements
from auditor.sources.base import BatchBuilder, Head, ParseContext, Parser, Source
from auditor.sources.registry import register

POINTS = {"trkpt": "gpx-trkpt", "rtept": "gpx-rtept", "wpt": "gpx-wpt"}
DEFAULT_CREATOR = "auditor synth"

# A prolog (BOM, declaration, comments, processing instructions, even a DOCTYPE, which parse refuses)
# then the root element, with or without a prefix.
XML_PROLOG = r"^\ufeff?\s*(?:<\?[^>]*\?>\s*|<!--.*?-->\s*|<!DOCTYPE[^\[>]*(?:\[.*?\])?\s*>\s*)*"
_GPX_ROOT = re.compile(XML_PROLOG + r"<(?:[\w.-]+:)?gpx[\s>/]", re.DOTALL)


@register
class Gpx(Parser):
    name = "gpx"
    kind = "positions"
    tool = "gpx"
    patterns = ("*.gpx",)
    title: ClassVar[dict[str, str]] = {"fr": "Trace GPS (GPX)", "en": "GPS track (GPX)"}
    blind_spots: ClassVar[dict[str, str]] = {
        "fr": "Ne dit pas qui portait l'appareil ; la précision en mètres n'est pas indiquée (le HDOP n'est "
        "pas une distance) ; les points sans heure ne peuvent pas être datés.",
        "en": "Does not say who carried the device; the accuracy in metres is not given (HDOP is not a "
        "distance); points without a time cannot be dated.",
    }
    roundtrip_fields = ("device", "time", "lat", "lon", "altitude_m", "provider")  # no agent: GPX names nobody

    def sniff(self, head: Head) -> float:
        return 0.95 if _GPX_ROOT.match(head.text) else 0.0

    def parse(self, source: Source, ctx: ParseContext) -> Iterator[pa.RecordBatch]:
        builder = ctx.builder(self.kind)
        with source.open_binary() as binary:
            stream = open_text(binary, source.encoding)
            for item in iter_elements(stream, source.name, keep=POINTS, only=POINTS, on_repair=ctx.count_repair):
                provider = POINTS.get(item.name)
                if provider is None:
                    continue
                point = item.element
                creator = item.ancestors[0].get("creator") if item.ancestors else None
                batch = add_point(
                    ctx, builder, item.line, partial(_raw, point),
                    lat=point.get("lat"), lon=point.get("lon"), when=item.child_text("time"),
                    numbers={"altitude_m": item.child_text("ele"), "speed_mps": _speed(item.element)},
                    # No accuracy_m: GPX only has hdop/vdop/pdop, dilution factors without a unit, not metres.
                    values={"device": (creator or "").strip() or None, "provider": provider},
                )
                if batch is not None:
                    yield batch
        yield from builder.finish()

    def render(self, rows: Sequence[Mapping[str, Any]]) -> bytes:
        creator = next((r["device"] for r in rows if r.get("device")), None) or DEFAULT_CREATOR
        out = [
            '<?xml version="1.0" encoding="UTF-8"?>',
            f'<gpx version="1.1" creator={quoteattr(creator)} xmlns="http://www.topografix.com/GPX/1/1"'
            ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
            ' xsi:schemaLocation="http://www.topografix.com/GPX/1/1 http://www.topografix.com/GPX/1/1/gpx.xsd">',
        ]
        if rows:
            out += ["  <metadata>", f"    <time>{iso_z(rows[0]['time'])}</time>", "  </metadata>"]
        out += ["  <trk>", "    <name>Track</name>", "    <trkseg>"]
        for row in rows:
            out.append(f'      <trkpt lat="{coordinate(row["lat"])}" lon="{coordinate(row["lon"])}">')
            if row.get("altitude_m") is not None:
                out.append(f"        <ele>{decimal(row['altitude_m'])}</ele>")
            out.append(f"        <time>{escape(iso_z(row['time']))}</time>")
            out.append("      </trkpt>")
        out += ["    </trkseg>", "  </trk>", "</gpx>", ""]
        return "\n".join(out).encode("utf-8")

    def row_strategy(self) -> Any:
        from hypothesis import strategies as st

        from auditor.testing.strategies import instants

        return st.fixed_dictionaries(
            {
                "agent": st.just("agent"),
                "device": st.just(DEFAULT_CREATOR),
                "time": instants("ms"),
                "lat": latitudes(),
                "lon": longitudes(),
                "altitude_m": st.none() | st.floats(-500, 9000).map(lambda v: round(v, 3)),
                "accuracy_m": st.none(),
                "speed_mps": st.none(),
                "provider": st.just("gpx-trkpt"),
                "activity": st.none(),
            }
        )


def _raw(point: Element) -> str:
    return tostring(point, encoding="unicode")


def _speed(point: Element) -> str | None:
    """GPX 1.0 ``<speed>`` (m/s), else a ``speed`` inside ``<extensions>`` (Garmin TrackPointExtension v2)."""
    speed = point.find("speed")
    if speed is not None:
        return (speed.text or "").strip()
    extensions = point.find("extensions")
    if extensions is not None:
        for element in extensions.iter("speed"):
            return (element.text or "").strip()
    return None


# --- shared by the geolocation parsers (gpx, kml, geojson) -----------------------------------------

class BadNumber(ValueError):
    """A value that should be a number and is not."""


def to_float(value: object) -> float | None:
    """A finite float from a number or decimal text; None when empty; ``BadNumber`` otherwise."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise BadNumber(value)
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value)  # fast path; float() also takes "1_0", "nan" and "inf", refused below
        except ValueError:
            if not value.strip():
                return None
            raise BadNumber(value) from None
        if "_" in value:
            raise BadNumber(value)
    else:
        raise BadNumber(value)
    if not math.isfinite(number):
        raise BadNumber(value)
    return number


def to_time(value: object) -> datetime | None:
    """A datetime from ISO/locale text or epoch seconds/milliseconds; None when empty; ``BadNumber`` if unreadable."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str):
        if len(value) in (20, 24) and value[10] == "T" and value[-1] == "Z":  # the usual 2025-03-12T08:00:00[.000]Z
            try:
                return datetime.fromisoformat(value)  # same result as parse_datetime, a quarter of the cost
            except ValueError:
                pass
        parsed = parse_datetime(value)
        if parsed is None:
            raise BadNumber(value)
        return parsed
    seconds = to_float(value)
    if seconds is None:
        return None
    if abs(seconds) >= 1e11:  # epoch milliseconds
        seconds /= 1000
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        raise BadNumber(value) from None


def add_point(
    ctx: ParseContext,
    builder: BatchBuilder,
    row: int,
    raw: Callable[[], str],
    *,
    lat: object,
    lon: object,
    when: object,
    numbers: Mapping[str, object] | None = None,
    values: Mapping[str, Any] | None = None,
    agent: str | None = None,
) -> pa.RecordBatch | None:
    """Count one location record and add it, or reject it with the first reason that applies.

    Order: coordinates (missing, unreadable, out of range), then time (unreadable, missing or sentinel:
    counted as ``time-missing``), then the optional numbers (``numbers``: field → raw value).
    """
    ctx.rows_in += 1
    try:
        lat_value, lon_value = to_float(lat), to_float(lon)
    except BadNumber:
        ctx.reject(row, "row-coordinates-invalid", raw(), value=f"{lat}, {lon}")
        return None
    if lat_value is None or lon_value is None:
        ctx.reject(row, "row-required-missing", raw(), field="lat" if lat_value is None else "lon")
        return None
    if not (-90 <= lat_value <= 90 and -180 <= lon_value <= 180):
        ctx.reject(row, "row-coordinates-invalid", raw(), value=f"{lat}, {lon}")
        return None
    try:
        moment = ctx.time(to_time(when))
    except BadNumber:
        ctx.reject(row, "row-time-invalid", raw(), field="time", value=str(when)[:80])
        return None
    if moment is None:
        ctx.warn("time-missing")
        ctx.reject(row, "row-required-missing", raw(), field="time")
        return None
    out: dict[str, Any] = dict(values or {})
    for field, text in (numbers or {}).items():
        try:
            out[field] = to_float(text)
        except BadNumber:
            ctx.reject(row, "row-number-invalid", raw(), field=field, value=str(text)[:80])
            return None
    out.update(agent=agent or ctx.agent_hint, time=moment, lat=lat_value, lon=lon_value)
    return builder.add(row, out)


def coordinate(value: float) -> str:
    """Degrees as exports print them: 7 decimals (about 1 cm)."""
    return f"{value:.7f}"


def decimal(value: float, places: int = 3) -> str:
    """A plain decimal (no exponent), trailing zeros dropped."""
    text = f"{value:.{places}f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def iso_z(value: datetime) -> str:
    """UTC ISO 8601 with ``Z``: whole seconds, or milliseconds when there are some."""
    utc = value.astimezone(UTC)
    spec = "milliseconds" if utc.microsecond // 1000 else "seconds"
    return utc.replace(tzinfo=None).isoformat(timespec=spec) + "Z"


def latitudes() -> Any:
    from hypothesis import strategies as st

    return st.floats(-90, 90).map(lambda v: round(v, 7))


def longitudes() -> Any:
    from hypothesis import strategies as st

    return st.floats(-180, 180).map(lambda v: round(v, 7))
