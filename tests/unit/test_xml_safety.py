"""Safe XML: DTDs and entities refused before anything expands, truncation located, memory kept flat."""

from __future__ import annotations

import io
import tracemalloc
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from auditor.api import ReadOptions, load
from auditor.errors import InputError
from auditor.io.encoding import detect
from auditor.io.text import open_text
from auditor.io.xml import MAX_DEPTH, XmlElement, iter_elements
from auditor.sources.base import Source

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE gpx [
  <!ENTITY lol "lol">
  <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
  <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
  <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
  <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
  <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
  <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<gpx version="1.1" creator="&lol9;"><wpt lat="1" lon="2"><name>&lol9;</name></wpt></gpx>
"""

EXTERNAL_ENTITY = b"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE kml [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<kml xmlns="http://www.opengis.net/kml/2.2"><Placemark><name>&secret;</name></Placemark></kml>
"""

EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE gpx SYSTEM "http://example.invalid/gpx.dtd">
<gpx version="1.1" creator="x"/>
"""

PARAMETER_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE gpx [<!ENTITY % remote SYSTEM "http://example.invalid/evil.dtd"> %remote;]>
<gpx version="1.1" creator="x"/>
"""

PLAIN_DOCTYPE = b"""<?xml version="1.0"?>
<!DOCTYPE gpx>
<gpx version="1.1" creator="x"/>
"""

TRUNCATED = b"""<?xml version="1.0" encoding="UTF-8"?>
<gpx version="1.1" creator="x" xmlns="http://www.topografix.com/GPX/1/1">
  <trk><trkseg>
    <trkpt lat="48.85" lon="2.35"><time>2025-03-12T08:00:00Z</time></trkpt>
    <trkpt lat="48.86" lon="2.3"""


def _iterate(data: bytes, **options: object) -> Iterator[XmlElement]:
    stream = open_text(io.BytesIO(data), detect(data, complete=True))
    return iter_elements(stream, "test.xml", **options)  # type: ignore[arg-type]


def _elements(data: bytes, **options: object) -> list[dict[str, Any]]:
    """What the consumer sees of each element while it holds it (elements are cleared afterwards)."""
    return [
        {"name": i.name, "line": i.line, "parent": i.parent, "attrib": dict(i.element.attrib), "text": i.text,
         "children": [c.tag for c in i.element], "root": dict(i.ancestors[0].attrib) if i.ancestors else None}
        for i in _iterate(data, **options)
    ]


def _error(data: bytes, name: str) -> InputError:
    with pytest.raises(InputError) as caught:
        load([Source.from_bytes(data, name)])
    return caught.value


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (BILLION_LAUGHS, "laughs.gpx"),
        (EXTERNAL_ENTITY, "passwd.kml"),
        (EXTERNAL_DTD, "dtd.gpx"),
        (PARAMETER_ENTITY, "param.gpx"),
        (PLAIN_DOCTYPE, "plain.gpx"),
    ],
)
def test_any_doctype_is_refused_through_detection(data: bytes, name: str) -> None:
    error = _error(data, name)
    assert error.code == "xml-forbidden"
    assert error.file == name
    assert error.line == 2  # the line of the DOCTYPE
    assert "DOCTYPE" in error.params["detail"]
    assert "root:" not in str(error) and "lollol" not in str(error)  # nothing was read, nothing expanded


def test_billion_laughs_is_refused_before_any_expansion() -> None:
    tracemalloc.start()
    try:
        with pytest.raises(InputError) as caught:
            _elements(BILLION_LAUGHS)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert caught.value.code == "xml-forbidden"
    assert peak < 5_000_000  # a billion "lol"s would be gigabytes


def test_external_entity_is_never_resolved_even_without_doctype_check() -> None:
    # The entity is declared, so the DOCTYPE is refused first; /etc/passwd is never opened.
    error = _error(EXTERNAL_ENTITY, "passwd.kml")
    assert error.code == "xml-forbidden"


def test_undeclared_entity_is_malformed_not_expanded() -> None:
    with pytest.raises(InputError) as caught:
        _elements(b'<gpx creator="x">\n<wpt lat="1" lon="2"><name>&secret;</name></wpt></gpx>')
    assert (caught.value.code, caught.value.line) == ("xml-malformed", 2)


def test_truncated_mid_tag_is_malformed_with_its_line() -> None:
    error = _error(TRUNCATED, "cut.gpx")
    assert error.code == "xml-malformed"
    assert error.line == 5
    assert error.params["detail"]


@pytest.mark.parametrize("data", [b"", b"   \n", b"not xml at all", b"<gpx><trk></gpx>", b"\x00\x01\x02"])
def test_garbage_is_malformed(data: bytes) -> None:
    with pytest.raises(InputError) as caught:
        _elements(data)
    assert caught.value.code == "xml-malformed"


def test_nesting_is_bounded() -> None:
    deep = b"<a>" * (MAX_DEPTH + 5) + b"</a>" * (MAX_DEPTH + 5)
    with pytest.raises(InputError) as caught:
        _elements(deep)
    assert caught.value.code == "xml-malformed"
    assert "nesting" in caught.value.params["detail"]


def test_elements_have_local_names_lines_and_ancestors() -> None:
    data = (
        b'\xef\xbb\xbf<?xml version="1.0" encoding="utf-8"?>\n'
        b'<g:gpx xmlns:g="http://www.topografix.com/GPX/1/1" xmlns:x="urn:x" g:creator="c">\n'
        b'  <g:trk>\n    <g:trkpt x:lat="1" lon="2">\n      <g:ele> 5 </g:ele>\n    </g:trkpt>\n  </g:trk>\n</g:gpx>\n'
    )
    items = _elements(data, keep={"trkpt"})
    assert [(i["name"], i["line"], i["parent"]) for i in items] == [
        ("ele", 5, "trkpt"), ("trkpt", 4, "trk"), ("trk", 3, "gpx"), ("gpx", 2, ""),
    ]
    point = items[1]
    assert point["attrib"] == {"lat": "1", "lon": "2"}
    assert point["children"] == ["ele"]
    assert items[0]["text"] == "5"
    assert point["root"] == {"creator": "c"}


def test_child_text_of_a_kept_element() -> None:
    data = b'<gpx><wpt lat="1" lon="2">\n <ele> 7.5 </ele><time/></wpt></gpx>'
    seen = [(i.child_text("ele"), i.child_text("time"), i.child_text("name")) for i in _iterate(data, keep={"wpt"},
                                                                                             only={"wpt"})]
    assert seen == [("7.5", "", None)]


def test_only_filters_and_elements_outside_kept_ones_are_not_retained() -> None:
    body = "".join(f'<trkpt lat="{i}" lon="0"><ele>{i}</ele></trkpt>' for i in range(50))
    data = f"<gpx><trk><trkseg>{body}</trkseg></trk></gpx>".encode()
    seen = _elements(data, keep={"trkpt"}, only={"trkpt", "trkseg"})
    assert [i["name"] for i in seen].count("trkpt") == 50
    assert seen[0]["children"] == ["ele"]  # a kept element has its subtree while it is handed out
    assert seen[-1]["name"] == "trkseg" and seen[-1]["children"] == []  # points were never attached to it
    items = list(_iterate(data, keep={"trkpt"}, only={"trkpt"}))
    assert all(len(i.element) == 0 and not i.element.attrib for i in items)  # each cleared once seen


def test_memory_stays_flat_on_a_long_track() -> None:
    point = b'<trkpt lat="48.8566000" lon="2.3522000"><ele>35.2</ele><time>2025-03-12T08:00:00Z</time></trkpt>\n'
    head = b'<?xml version="1.0"?>\n<gpx version="1.1" creator="x"><trk><trkseg>\n'
    tail = b"</trkseg></trk></gpx>\n"

    def peak(count: int) -> int:
        data = head + point * count + tail
        stream = open_text(io.BytesIO(data), detect(data[:65536]))
        tracemalloc.start()
        try:
            seen = sum(1 for _ in iter_elements(stream, "big.gpx", keep={"trkpt"}, only={"trkpt"}))
            _, top = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert seen == count
        return top

    small, large = peak(2_000), peak(40_000)  # 200 KB and 4 MB of track
    assert large < small * 2 + 500_000


def test_bytes_that_are_not_utf8_are_read_as_cp1252() -> None:
    data = '<gpx creator="Préfecture"><wpt lat="1" lon="2"><name>Été</name></wpt></gpx>'.encode("cp1252")
    items = _elements(data)
    assert items[-1]["attrib"]["creator"] == "Préfecture"
    assert items[0]["text"] == "Été"


def test_declared_latin1_and_utf16_with_bom() -> None:
    latin = '<?xml version="1.0" encoding="ISO-8859-15"?><gpx creator="Hôpital"/>'.encode("iso-8859-15")
    assert _elements(latin)[0]["attrib"]["creator"] == "Hôpital"
    utf16 = '<?xml version="1.0" encoding="UTF-16"?><gpx creator="Hôpital"/>'.encode("utf-16")
    assert _elements(utf16)[0]["attrib"]["creator"] == "Hôpital"


def test_forced_parser_on_hostile_xml_only_raises_input_error() -> None:
    for name in ("gpx", "kml"):
        with pytest.raises(InputError) as caught:
            load([Source.from_bytes(BILLION_LAUGHS, "x.xml")], ReadOptions(parser=name))
        assert caught.value.code == "xml-forbidden"


@given(data=st.data())
def test_mutated_gpx_and_kml_only_raise_input_error(data: st.DataObject) -> None:
    from tests.unit.test_gpx import SAMPLE
    from tests.unit.test_kml import GOOGLE, REFERENCE

    seeds = [("trace.gpx", SAMPLE.encode()), ("history.kml", GOOGLE.encode()), ("places.kml", REFERENCE.encode()),
             ("laughs.gpx", BILLION_LAUGHS)]
    name, raw = data.draw(st.sampled_from(seeds))
    mutated = bytearray(raw)
    for _ in range(data.draw(st.integers(1, 6))):
        if not mutated:
            break
        at = data.draw(st.integers(0, len(mutated) - 1))
        action = data.draw(st.sampled_from(["flip", "delete", "insert", "truncate"]))
        if action == "flip":
            mutated[at] = data.draw(st.integers(0, 255))
        elif action == "delete":
            del mutated[at : at + data.draw(st.integers(1, 40))]
        elif action == "insert":
            pieces = [b"<", b">", b"&", b"<!DOCTYPE x>", b"\xff\xfe", b"</a>", b"\x00"]
            mutated[at:at] = data.draw(st.sampled_from(pieces))
        else:
            del mutated[at:]
    try:
        dataset = load([Source.from_bytes(bytes(mutated), name)], ReadOptions(parser=name.rsplit(".", 1)[1]))
    except InputError:
        return
    provenance = dataset.provenance[0]
    assert provenance.rows_in == provenance.rows_parsed + provenance.rows_rejected
