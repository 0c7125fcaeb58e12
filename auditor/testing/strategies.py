"""Hypothesis strategies for canonical rows and export formats: public API for parser authors.

``kind_rows(kind)`` draws rows that satisfy ``schemas/<kind>.json`` with awkward but valid values
(accents, typographic apostrophes, DST edges, midnight, empty optional fields). ``export(name)`` draws
the bytes of a valid file of one registered format together with the canonical rows it must parse to.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import strategies as st

from auditor import schemas
from auditor.io.times import localize

PARIS = ZoneInfo("Europe/Paris")

#: Letters a French export really holds, including the ones cp1252 and latin-1 disagree on.
FRENCH_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZéèêëàâäîïôöùûüçÉÈÊÀÇÔŒœ’"

#: Instants on and around the 2025–2027 clock changes in Paris, and midnight.
DST_EDGES = tuple(
    edge + timedelta(minutes=delta)
    for edge in (
        datetime(2025, 3, 30, 1, 0, tzinfo=UTC), datetime(2025, 10, 26, 1, 0, tzinfo=UTC),
        datetime(2026, 3, 29, 1, 0, tzinfo=UTC), datetime(2026, 10, 25, 1, 0, tzinfo=UTC),
        datetime(2026, 6, 30, 22, 0, tzinfo=UTC),  # midnight in Paris
    )
    for delta in (-61, -60, -30, -1, 0, 1, 30, 59, 60)
)


def french_text(min_size: int = 1, max_size: int = 24, extra: str = " -'") -> st.SearchStrategy[str]:
    """Words with accents and apostrophes; never blank, never padded with spaces."""
    return (
        st.text(alphabet=FRENCH_LETTERS + extra, min_size=min_size, max_size=max_size)
        .map(lambda s: " ".join(s.split()))
        .filter(lambda s: len(s) >= min_size and s == s.strip())
    )


def identifiers() -> st.SearchStrategy[str]:
    """Agent identifiers as tools write them: logins, padded staff numbers, names."""
    return st.one_of(
        st.from_regex(r"[a-z]{1,8}\.?[a-z]{2,10}", fullmatch=True),
        st.from_regex(r"0{0,3}[1-9][0-9]{2,5}", fullmatch=True),
        french_text(3, 20, extra=" -"),
    )


def instants(resolution: str = "s", *, start: int = 2024, end: int = 2027) -> st.SearchStrategy[datetime]:
    """Aware UTC instants truncated to ``resolution`` (``s``, ``ms``, ``us`` or ``min``), DST edges likely."""
    free = st.datetimes(
        min_value=datetime(start, 1, 1), max_value=datetime(end, 12, 31), timezones=st.just(UTC)
    )
    return st.one_of(free, st.sampled_from(DST_EDGES)).map(lambda dt: truncate(dt, resolution))


def truncate(value: datetime, resolution: str) -> datetime:
    if resolution == "min":
        return value.replace(second=0, microsecond=0)
    if resolution == "s":
        return value.replace(microsecond=0)
    if resolution == "ms":
        return value.replace(microsecond=value.microsecond // 1000 * 1000)
    return value


def through_wall_clock(value: datetime, tz: ZoneInfo = PARIS) -> datetime:
    """What a format that writes naive local time gives back for ``value``: the canonical DST rule."""
    return localize(value.astimezone(tz).replace(tzinfo=None), tz)


def _value(field: schemas.FieldDoc) -> st.SearchStrategy[Any]:
    import pyarrow as pa

    if field.arrow_type == schemas.TIME_TYPE:
        return instants("us")
    if field.arrow_type == pa.int64():
        return st.integers(min_value=0, max_value=2**40)
    if field.arrow_type == pa.float64():
        if field.name in ("lat",):
            return st.floats(min_value=-90, max_value=90, allow_nan=False)
        if field.name in ("lon",):
            return st.floats(min_value=-180, max_value=180, allow_nan=False)
        return st.floats(min_value=0, max_value=1e9, allow_nan=False)
    if field.arrow_type == pa.bool_():
        return st.booleans()
    if field.sensitivity == "identifier":
        return identifiers()
    return french_text(1, 40)


def kind_rows(kind: str) -> st.SearchStrategy[dict[str, Any]]:
    """One canonical row of ``kind``: required fields always set, optional ones sometimes None."""
    schema = schemas.get(kind)
    parts: dict[str, st.SearchStrategy[Any]] = {}
    for field in schema.fields:
        if field.name in ("tool", "source_file"):
            parts[field.name] = st.just("synthetic")
        elif field.name == "source_row":
            parts[field.name] = st.integers(min_value=1, max_value=10**6)
        elif field.required:
            parts[field.name] = _value(field)
        else:
            parts[field.name] = st.none() | _value(field)
    return st.fixed_dictionaries(parts)


def export(parser_name: str, max_rows: int = 20) -> st.SearchStrategy[tuple[bytes, list[dict[str, Any]]]]:
    """The bytes of a valid ``parser_name`` file and the canonical rows it must parse to."""
    from auditor.sources import registry

    parser = registry.get(parser_name)
    rows = st.lists(parser.row_strategy(), min_size=0, max_size=max_rows)
    return rows.map(lambda r: (parser.render(r), r))
