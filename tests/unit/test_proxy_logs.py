"""Web-proxy logs: Squid native, common, combined and W3C extended (Blue Coat)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auditor.api import ReadOptions, load
from auditor.model import Dataset
from auditor.sources import registry
from auditor.sources.base import Head, Source
from auditor.sources.proxy_logs import MONTHS, clf_stamp, clf_time, domain_of
from tests.conftest import SAMPLES, real_exports
from tests.helpers import both_paths, fast_blocks, rejects_of

NATIVE = (
    "1740826800.123    150 192.0.2.10 TCP_MISS/200 5120 GET http://www.service-public.fr/particuliers/vosdroits"
    " jdupont HIER_DIRECT/203.0.113.5 text/html\n"
    "1740826801.004      0 192.0.2.10 TCP_DENIED/407 3912 GET http://intranet.local/ - HIER_NONE/- text/html\n"
    "1740826801.010      0 192.0.2.10 TCP_DENIED/407 4100 GET http://intranet.local/ - HIER_NONE/- text/html\n"
    "1740826801.020     12 192.0.2.10 TCP_MISS/200 812 GET http://intranet.local/ CORP%5Cmmartin HIER_DIRECT/10.1.1.1"
    " text/html\n"
    "1740826802.500  60012 2001:db8::7 TCP_TUNNEL/200 88231 CONNECT [2001:db8::1]:443 \"\" HIER_DIRECT/2001:db8::1 -\n"
    "1740826803.000      3 198.51.100.4 TAG_NONE/400 3813 NONE error:invalid-request - HIER_NONE/- text/html\n"
    "\n"
    "1740826804.750     25 198.51.100.4 TCP_MISS/000 0 GET http://Example.COM:8080/a?b=c Jean%20Dupont"
    " HIER_DIRECT/203.0.113.9 -\n"
)
COMMON = (
    '192.0.2.10 - jdupont [01/Mar/2025:12:00:00 +0100] "GET http://www.impots.gouv.fr/portail/ HTTP/1.1" 200 5120'
    " TCP_MISS:HIER_DIRECT\n"
    '2001:db8::7 - - [01/mar/2025:12:00:01 +0100] "CONNECT mail.example.org:443 HTTP/1.1" 200 88231'
    " TCP_TUNNEL:HIER_DIRECT\n"
    '192.0.2.11 - - [01/Mar/2025:12:00:02 +0100] "GET http://x.fr/a"b HTTP/1.1" - - TCP_DENIED:HIER_NONE\n'
)
COMBINED = (
    '192.0.2.10 - jdupont [30/Mar/2025:03:00:00 +0200] "GET http://www.doctolib.fr/ HTTP/1.1" 200 5120'
    ' "https://www.qwant.com/?q=m%C3%A9decin" "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Firefox/128.0"'
    " TCP_MISS:HIER_DIRECT\n"
    '192.0.2.10 - - [30/Mar/2025:03:00:01 +0200] "GET http://www.doctolib.fr/x.png HTTP/1.1" 304 0 "-" "-"'
    " TCP_REFRESH_UNMODIFIED:HIER_DIRECT\n"
)
APACHE_COMBINED = (
    '192.0.2.10 - - [01/Mar/2025:12:00:00 +0100] "GET /index.html HTTP/1.1" 200 5120 "-" "Mozilla/5.0"\n' * 3
)
BLUECOAT = (
    "#Software: SGOS 6.7.5.3\r\n"
    "#Version: 1.0\r\n"
    "#Start-Date: 2025-03-01 11:00:00\r\n"
    "#Date: 2025-03-01 11:00:00\r\n"
    "#Fields: date time time-taken c-ip cs-username cs-auth-group x-exception-id sc-filter-result cs-categories"
    " cs(Referer) sc-status s-action cs-method rs(Content-Type) cs-uri-scheme cs-host cs-uri-port cs-uri-path"
    " cs-uri-query cs-uri-extension cs(User-Agent) s-ip sc-bytes cs-bytes x-virus-id\r\n"
    '2025-03-01 11:00:00 1532 192.0.2.10 jdupont "CN=Agents,DC=cg,DC=fr" - OBSERVED "Health" -'
    " 200 TCP_NC_MISS GET text/html http www.ameli.fr 80 /assure/remboursements ?id=4 - "
    '"Mozilla/5.0 (Windows NT 10.0; Win64; x64)" 192.0.2.250 10240 512 -\r\n'
    '2025-03-01 11:00:05 3 192.0.2.11 - - policy_denied DENIED "Social Networking;Entertainment"'
    " https://www.qwant.com/ 403 TCP_DENIED GET text/html https www.facebook.com 443 / - - - 192.0.2.250 880 300 -\r\n"
    "#Remark: a new layout after a configuration change\r\n"
    "#Fields: x-bluecoat-date x-bluecoat-time time-taken c-ip cs-username cs-method cs-uri sc-status sc-bytes"
    " s-action cs-host cs-uri-port\r\n"
    "2025-03-01 11:01:00 0.250 192.0.2.12 \"Marie Curie\" CONNECT tcp://mail.example.org:443/ 200 4000"
    " TCP_TUNNELED mail.example.org 443\r\n"
    "2025-03-01 11:01:01 7 192.0.2.12 mcurie GET http://INTRA.local:8080/a - 0 TCP_MISS - -\r\n"
)


def _load(text: str | bytes, name: str = "access.log", parser: str | None = None, **options: Any) -> Dataset:
    raw = text.encode("utf-8") if isinstance(text, str) else text
    return load([Source.from_bytes(raw, name)], ReadOptions(parser=parser, **options))


def _rows(dataset: Dataset) -> list[dict[str, Any]]:
    table = dataset.tables.get("web_requests")
    return table.to_pylist() if table is not None else []


def _sniff(name: str, text: str, file: str = "access.log") -> float:
    raw = text.encode("utf-8")
    return registry.get(name).sniff(Head.of(raw, file, complete=True))


def _best(text: str, file: str = "access.log") -> str:
    return registry.detect(Source.from_bytes(text.encode("utf-8"), file)).parser


# --- detection --------------------------------------------------------------------------------------------


def test_each_format_is_detected_as_itself() -> None:
    assert _best(NATIVE) == "squid-native"
    assert _best(COMMON) == "squid-common"
    assert _best(COMBINED) == "squid-combined"
    assert _best(BLUECOAT, "SG_main__420170101000000.log") == "w3c-proxy"


@pytest.mark.parametrize("name", ["squid-native", "squid-common", "squid-combined", "w3c-proxy"])
@pytest.mark.parametrize("other", ["native", "common", "combined", "apache", "bluecoat", "iis", "csv", "gpx",
                                   "attlog", "empty_lines"])
def test_sniff_refuses_the_other_formats(name: str, other: str) -> None:
    heads = {
        "native": NATIVE, "common": COMMON, "combined": COMBINED, "apache": APACHE_COMBINED, "bluecoat": BLUECOAT,
        "iis": "#Software: Microsoft Internet Information Services 10.0\n#Version: 1.0\n"
               "#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip sc-status\n"
               "2025-03-01 11:00:00 10.0.0.1 GET /index.htm - 80 - 192.0.2.1 200\n",
        "csv": "agent;date;heure\njdupont;01/03/2025;08:00\n",
        "gpx": '<?xml version="1.0"?><gpx version="1.1"><trk><trkseg></trkseg></trk></gpx>\n',
        "attlog": "        1\t2025-03-01 08:00:00\t1\t0\t1\t0\n",
        "empty_lines": "\n\n\n",
    }
    own = {"squid-native": "native", "squid-common": "common", "squid-combined": "combined",
           "w3c-proxy": "bluecoat"}[name]
    score = _sniff(name, heads[other])
    if other == own:
        assert score >= 0.9
    else:
        assert score == 0.0, (name, other, score)


def test_native_sniff_tolerates_one_junk_line_among_many() -> None:
    junk = "1740826803.000      0 198.51.100.4 TAG_NONE/400 3813 \x16\x03\x01\n"
    assert _sniff("squid-native", NATIVE + junk + NATIVE) > 0.8
    assert _sniff("squid-native", junk * 5) == 0.0


def test_native_sniff_ignores_a_cut_last_line() -> None:
    line = NATIVE.splitlines()[0] + "\n"
    raw = (line * 2000).encode()[:65536]
    head = Head.of(raw, "access.log", complete=False)
    assert registry.get("squid-native").sniff(head) >= 0.9


# --- squid native -----------------------------------------------------------------------------------------


def test_native_rows_exact() -> None:
    dataset = _load(NATIVE)
    rows = _rows(dataset)
    assert dataset.rejects.num_rows == 0
    assert [r["source_row"] for r in rows] == [1, 2, 3, 4, 5, 6, 8]
    first = {k: v for k, v in rows[0].items() if k != "source_file"}
    assert first == {
        "agent": "jdupont", "client_ip": "192.0.2.10",
        "time": datetime(2025, 3, 1, 11, 0, 0, 123000, tzinfo=UTC), "duration_ms": 150, "method": "GET",
        "url": "http://www.service-public.fr/particuliers/vosdroits", "domain": "www.service-public.fr",
        "status": 200, "bytes": 5120, "category": None, "action": "TCP_MISS", "user_agent": None,
        "referer": None, "tool": "squid", "source_row": 1,
    }
    # NTLM: two 407 round trips before the authenticated request, kept as they are
    assert [(r["action"], r["status"], r["agent"]) for r in rows[1:4]] == [
        ("TCP_DENIED", 407, "192.0.2.10"), ("TCP_DENIED", 407, "192.0.2.10"), ("TCP_MISS", 200, "CORP\\mmartin")]
    connect = rows[4]
    assert (connect["agent"], connect["client_ip"], connect["url"], connect["domain"]) == (
        "2001:db8::7", "2001:db8::7", "[2001:db8::1]:443", "2001:db8::1")  # "" user means none
    assert (rows[5]["method"], rows[5]["url"], rows[5]["domain"], rows[5]["status"]) == (
        "NONE", "error:invalid-request", None, 400)
    last = rows[6]
    assert (last["agent"], last["status"], last["domain"], last["time"]) == (
        "Jean Dupont", None, "example.com", datetime(2025, 3, 1, 11, 0, 4, 750000, tzinfo=UTC))
    assert dataset.provenance[0].warnings == {"connect-no-path": 1}


def test_native_junk_lines_are_rejected_with_a_reason() -> None:
    good = NATIVE.splitlines()[0]
    text = "\n".join([
        good,
        "1740826803.000      0 198.51.100.4 TAG_NONE/400 3813 \x16\x03\x01",  # binary junk, too few fields
        "1740826803.000      0 198.51.100.4 TAG_NONE/400 3813 \x16\x03\x01\x00 error:x - HIER_NONE/- text/html",
        "abc.def 1 192.0.2.1 TCP_MISS/200 1 GET http://a.fr/ - HIER_DIRECT/1.2.3.4 text/html",
        "1740826803.0x1 1 192.0.2.1 TCP_MISS/200 1 GET http://a.fr/ - HIER_DIRECT/1.2.3.4 text/html",
        "1740826803.000 1 192.0.2.1 TCP_MISS-200 1 GET http://a.fr/ - HIER_DIRECT/1.2.3.4 text/html",
        "1740826803.000 x 192.0.2.1 TCP_MISS/200 1 GET http://a.fr/ - HIER_DIRECT/1.2.3.4 text/html",
        "1740826803.000 1 192.0.2.1 TCP_MISS/200 1k GET http://a.fr/ - HIER_DIRECT/1.2.3.4 text/html",
        "1740826803.000 1 192.0.2.1 TCP_MISS/2x0 1 GET http://a.fr/ - HIER_DIRECT/1.2.3.4 text/html",
        "1740826803.000 1 192.0.2.1 TCP_MISS/200 1 GET http://a.fr/ Jean Dupont HIER_DIRECT/1.2.3.4 text/html",
        "99999999999999999999.000 1 192.0.2.1 TCP_MISS/200 1 GET http://a.fr/ - HIER_DIRECT/1.2.3.4 text/html",
        "1740826803.-12 1 192.0.2.1 TCP_MISS/200 1 GET http://a.fr/ - HIER_DIRECT/1.2.3.4 text/html",
        "   ",
        good,
    ])
    dataset = _load(text, parser="squid-native")
    assert [r["source_row"] for r in _rows(dataset)] == [1, 14]
    assert rejects_of(dataset) == [
        (2, "row-malformed", {"detail": "fields: 6/10"}),
        (3, "row-malformed", {"detail": "method: '\\x16\\x03\\x01\\x00'"}),
        (4, "row-malformed", {"detail": "timestamp: 'abc.def'"}),
        (5, "row-malformed", {"detail": "timestamp: '1740826803.0x1'"}),
        (6, "row-malformed", {"detail": "result: 'TCP_MISS-200'"}),
        (7, "row-number-invalid", {"field": "duration_ms", "value": "x"}),
        (8, "row-number-invalid", {"field": "bytes", "value": "1k"}),
        (9, "row-number-invalid", {"field": "status", "value": "2x0"}),
        (10, "row-field-count", {"found": 11, "expected": 10}),
        (11, "row-malformed", {"detail": "timestamp: '99999999999999999999.000'"}),
        (12, "row-malformed", {"detail": "timestamp: '1740826803.-12'"}),
    ]
    provenance = dataset.provenance[0]
    assert (provenance.rows_in, provenance.rows_parsed, provenance.rows_rejected) == (13, 2, 11)


def test_native_columns_appended_by_a_custom_logformat_are_ignored() -> None:
    line = NATIVE.splitlines()[0] + ' "Mozilla/5.0" extra'
    rows = _rows(_load(line + "\n", parser="squid-native"))
    assert rows[0]["url"] == "http://www.service-public.fr/particuliers/vosdroits"


def test_native_crlf_and_tabs() -> None:
    line = NATIVE.splitlines()[0].replace(" ", "\t", 2)
    rows = _rows(_load(line + "\r\n" + line + "\r\n"))
    assert len(rows) == 2 and rows[1]["source_row"] == 2


def test_native_real_export() -> None:
    path = next(p for p in real_exports("web") if p.name == "squid_access.log")
    assert registry.detect(Source.from_path(path)).parser == "squid-native"
    dataset = load([path])
    rows = _rows(dataset)
    assert dataset.rejects.num_rows == 0 and len(rows) == 8
    assert [r["source_row"] for r in rows] == list(range(1, 9))
    assert rows[1]["url"] == "domain.xyz:443" and rows[1]["domain"] == "domain.xyz"  # the double-space line
    assert rows[1]["time"] == datetime(2023, 3, 4, 23, 15, 34, 80000, tzinfo=UTC)
    ipv6 = [r for r in rows if ":" in (r["client_ip"] or "")]
    assert [(r["client_ip"], r["agent"], r["status"]) for r in ipv6] == [("2001:db8::1", "admin", 404)]
    assert rows[7]["agent"] == "user@domain.com" and rows[7]["client_ip"] == "10.10.10.10"
    assert rows[3]["agent"] == "10.0.0.50"  # no login: the device address stands for the agent
    assert {r["method"] for r in rows} == {"CONNECT", "GET", "POST"}
    assert dataset.provenance[0].warnings == {"connect-no-path": 3}


def test_native_render_looks_like_squid() -> None:
    parser = registry.get("squid-native")
    row = {"agent": "jdupont", "client_ip": "192.0.2.1", "time": datetime(2025, 3, 1, 11, 0, 0, 7000, tzinfo=UTC),
           "duration_ms": 42, "method": "GET", "url": "http://a.fr/", "domain": "a.fr", "status": 200,
           "bytes": 10, "action": "TCP_MISS"}
    assert parser.render([row]) == (
        b"1740826800.007     42 192.0.2.1 TCP_MISS/200 10 GET http://a.fr/ jdupont HIER_DIRECT/203.0.113.10"
        b" text/html\n")
    assert parser.render([]) == b"\n"
    assert _rows(_load(parser.render([]), parser="squid-native")) == []


def test_native_speed_of_the_hot_loop() -> None:
    line = NATIVE.splitlines()[0] + "\n"
    start = time.perf_counter()
    dataset = _load(line * 20000, parser="squid-native")
    assert dataset.tables["web_requests"].num_rows == 20000
    assert time.perf_counter() - start < 5


# --- squid common / combined ------------------------------------------------------------------------------


def test_common_rows_exact() -> None:
    dataset = _load(COMMON)
    rows = _rows(dataset)
    assert dataset.rejects.num_rows == 0
    paris = timezone(timedelta(hours=1))
    assert [(r["agent"], r["client_ip"], r["time"], r["method"], r["url"], r["domain"], r["status"], r["bytes"],
             r["action"], r["duration_ms"], r["user_agent"], r["referer"]) for r in rows] == [
        ("jdupont", "192.0.2.10", datetime(2025, 3, 1, 12, 0, 0, tzinfo=paris), "GET",
         "http://www.impots.gouv.fr/portail/", "www.impots.gouv.fr", 200, 5120, "TCP_MISS", None, None, None),
        ("2001:db8::7", "2001:db8::7", datetime(2025, 3, 1, 12, 0, 1, tzinfo=paris), "CONNECT",
         "mail.example.org:443", "mail.example.org", 200, 88231, "TCP_TUNNEL", None, None, None),
        ("192.0.2.11", "192.0.2.11", datetime(2025, 3, 1, 12, 0, 2, tzinfo=paris), "GET", 'http://x.fr/a"b',
         "x.fr", None, None, "TCP_DENIED", None, None, None),
    ]
    assert dataset.provenance[0].warnings == {"connect-no-path": 1}


def test_combined_rows_exact() -> None:
    rows = _rows(_load(COMBINED))
    assert [(r["time"], r["referer"], r["user_agent"], r["action"]) for r in rows] == [
        (datetime(2025, 3, 30, 1, 0, 0, tzinfo=UTC), "https://www.qwant.com/?q=m%C3%A9decin",
         "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Firefox/128.0", "TCP_MISS"),
        (datetime(2025, 3, 30, 1, 0, 1, tzinfo=UTC), None, None, "TCP_REFRESH_UNMODIFIED"),
    ]


def test_common_overridden_local_time_and_bad_lines() -> None:
    text = (
        '192.0.2.10 - - [2025-03-01 12:00:00] "GET http://a.fr/ HTTP/1.1" 200 1 TCP_MISS:HIER_DIRECT\n'
        '192.0.2.10 - - [31/Feb/2025:12:00:00 +0100] "GET http://a.fr/ HTTP/1.1" 200 1 TCP_MISS:HIER_DIRECT\n'
        '192.0.2.10 - - [01/Mar/2025:12:00:00 +0100] "GET http://a.fr/ HTTP/1.1" 200 1 "-" "-"\n'
        '192.0.2.10 - - [01/Mar/2025:12:00:00 +0100] "\x16\x03 http://a.fr/ HTTP/1.1" 200 1 TCP_MISS:HIER_NONE\n'
    )
    dataset = _load(text, parser="squid-common")
    rows = _rows(dataset)
    assert [r["time"] for r in rows] == [datetime(2025, 3, 1, 11, 0, tzinfo=UTC)]  # naive: read in Paris time
    assert dataset.provenance[0].warnings == {"timezone-missing": 1}
    assert rejects_of(dataset) == [
        (2, "row-time-invalid", {"field": "time", "value": "31/Feb/2025:12:00:00 +0100"}),
        (3, "row-malformed", {"detail": "not a squid common/combined line"}),
        (4, "row-malformed", {"detail": "method: '\\x16\\x03'"}),
    ]


def test_combined_regex_stays_linear_on_hostile_lines() -> None:
    hostile = '1.2.3.4 - - [01/Mar/2025:12:00:00 +0100] "GET ' + '" 1 2 "a" "' * 20000 + "\n"
    hostile += '1.2.3.4 - - [01/Mar/2025:12:00:00 +0100] "GET http://a HTTP/1.1" 200 1 "r" "' + \
        '" A' * 30000 + '" TCP_MISS:HIER_DIRECT\n'
    start = time.perf_counter()
    dataset = _load(hostile, parser="squid-combined")
    assert time.perf_counter() - start < 2
    assert dataset.rejects.num_rows == 1 and len(_rows(dataset)) == 1


def test_clf_time_reads_english_months_without_locale() -> None:
    for number, month in enumerate(MONTHS, start=1):
        assert clf_time(f"[15/{month}/2025:08:30:00 -0500]") == datetime(2025, number, 15, 13, 30, tzinfo=UTC)
    assert clf_time("15/Mär/2025:08:30:00 +0100") is None
    assert clf_time("15/03/2025:08:30:00") == datetime(2025, 3, 15, 8, 30)  # Blue Coat day-first, naive
    assert clf_time("garbage") is None
    assert clf_stamp(datetime(2025, 10, 26, 0, 30, tzinfo=UTC), timezone(timedelta(hours=2))) == (
        "26/Oct/2025:02:30:00 +0200")


# --- W3C extended (Blue Coat) -----------------------------------------------------------------------------


def test_bluecoat_rows_exact() -> None:
    dataset = _load(BLUECOAT, "SG_main__420170101000000.log")
    rows = _rows(dataset)
    assert dataset.rejects.num_rows == 0
    assert rows[0] == {
        "agent": "jdupont", "client_ip": "192.0.2.10", "time": datetime(2025, 3, 1, 11, 0, tzinfo=UTC),
        "duration_ms": 1532, "method": "GET", "url": "http://www.ameli.fr/assure/remboursements?id=4",
        "domain": "www.ameli.fr", "status": 200, "bytes": 10240, "category": "Health", "action": "OBSERVED",
        "user_agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64)", "referer": None, "tool": "w3c-elff",
        "source_file": "SG_main__420170101000000.log", "source_row": 6,
    }
    assert [(r["agent"], r["url"], r["domain"], r["category"], r["action"], r["status"], r["referer"])
            for r in rows[1:]] == [
        ("192.0.2.11", "https://www.facebook.com/", "www.facebook.com", "Social Networking;Entertainment",
         "DENIED", 403, "https://www.qwant.com/"),
        ("Marie Curie", "mail.example.org:443", "mail.example.org", None, "TCP_TUNNELED", 200, None),
        ("mcurie", "http://INTRA.local:8080/a", "intra.local", None, "TCP_MISS", None, None),
    ]
    assert [r["duration_ms"] for r in rows] == [1532, 3, 250, 7]  # 0.250: seconds, the W3C draft's unit
    assert [r["source_row"] for r in rows] == [6, 7, 10, 11]
    assert dataset.provenance[0].warnings == {"connect-no-path": 1}


def test_w3c_local_time_bad_lines_and_time_only_layouts() -> None:
    text = (
        "2025-03-01 10:00:00 192.0.2.1 GET http://a.fr/\n"  # before any #Fields
        "#Fields: localtime c-ip cs-method cs-uri cs-categories\n"
        '[01/Mar/2025:12:00:00 +0100] 192.0.2.1 GET http://a.fr/ "News/Media"\n'
        "01/03/2025:12:00:00 192.0.2.1 GET http://a.fr/ -\n"
        "[01/Mar/2025:12:00:00 +0100] 192.0.2.1 GET\n"
        "[99/Mar/2025:12:00:00 +0100] 192.0.2.1 GET http://a.fr/ -\n"
        "#Date: 2025-03-02 00:00:00\n"
        "#Fields: time c-ip cs-method cs-host cs-uri-path sc-status time-taken sc-bytes cs-auth-group\n"
        "08:00:00 192.0.2.1 GET a.fr / 2xx 1 1 -\n"
        "08:00:01 192.0.2.1 GET a.fr / 200 1 1 -\n"
        '"08:00:02" 192.0.2.1 GET "" "" 200 - - -\n'
    )
    dataset = _load(text, "proxy.log", parser="w3c-proxy")
    rows = _rows(dataset)
    assert [(r["time"], r["category"], r["url"], r["source_row"]) for r in rows] == [
        (datetime(2025, 3, 1, 11, 0, tzinfo=UTC), "News/Media", "http://a.fr/", 3),
        (datetime(2025, 3, 1, 11, 0, tzinfo=UTC), None, "http://a.fr/", 4),  # local, read in Paris time
        (datetime(2025, 3, 2, 8, 0, 1, tzinfo=UTC), None, "http://a.fr/", 10),
        (datetime(2025, 3, 2, 8, 0, 2, tzinfo=UTC), None, None, 11),
    ]
    assert rejects_of(dataset) == [
        (1, "row-malformed", {"detail": "no #Fields line before this one"}),
        (5, "row-field-count", {"found": 3, "expected": 5}),
        (6, "row-time-invalid", {"field": "time", "value": "[99/Mar/2025:12:00:00 +0100]"}),
        (9, "row-number-invalid", {"field": "status", "value": "2xx"}),
    ]


def test_w3c_sniff_needs_proxy_fields() -> None:
    assert _sniff("w3c-proxy", "#Fields: date time c-ip cs-username cs-host cs-uri-path\n") >= 0.9
    assert _sniff("w3c-proxy", "#Fields: date time c-ip cs-uri-stem sc-status\n") == 0.0
    assert _sniff("w3c-proxy", "#Software: SGOS 6.7.5.3\n#Version: 1.0\n") > 0.3


def test_w3c_render_has_a_bluecoat_header() -> None:
    parser = registry.get("w3c-proxy")
    raw = parser.render([{
        "agent": "Jean Dupont", "client_ip": "192.0.2.1", "time": datetime(2025, 3, 1, 11, 0, tzinfo=UTC),
        "duration_ms": 5, "method": "GET", "url": "https://a.fr:8443/x.pdf?y=1", "domain": "a.fr", "status": 200,
        "bytes": 99, "category": "News/Media", "action": "OBSERVED", "user_agent": "Mozilla/5.0 (X11)",
        "referer": None}]).decode()
    lines = raw.split("\r\n")
    assert lines[0] == "#Software: SGOS 6.7.5.3" and lines[4].startswith("#Fields: date time time-taken c-ip")
    assert lines[6] == (
        '2025-03-01 11:00:00 5 192.0.2.1 "Jean Dupont" - - OBSERVED "News/Media" - 200 TCP_NC_MISS GET '
        'application/pdf https a.fr 8443 /x.pdf ?y=1 pdf "Mozilla/5.0 (X11)" 192.0.2.10 99 512 -')
    assert _rows(_load(raw, "sg_main.log"))[0]["url"] == "https://a.fr:8443/x.pdf?y=1"


# --- shared ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("url", "domain"), [
    ("http://www.Service-Public.fr/a/b?c=d", "www.service-public.fr"),
    ("https://user:pw@Example.com:8443/", "example.com"),
    ("http://[2001:DB8::1]:8080/x", "2001:db8::1"),
    ("[2001:db8::1]:443", "2001:db8::1"),
    ("secure.example.com:443", "secure.example.com"),
    ("http://a.fr?q=/x", "a.fr"),
    ("error:invalid-request", None),
    ("error:transaction-end-before-headers", None),
    ("/relative/path", None),
    ("-", None),
    ("", None),
    ("http://", None),
    ("http://[::1", None),
])
def test_domain_of(url: str, domain: str | None) -> None:
    assert domain_of(url) == domain


def test_parsers_describe_themselves_in_both_languages() -> None:
    for name in ("squid-native", "squid-common", "squid-combined", "w3c-proxy"):
        parser = registry.get(name)
        assert parser.kind == "web_requests"
        assert parser.title["fr"] and parser.title["en"]
        assert parser.blind_spots["fr"] and parser.blind_spots["en"]
    assert "407" in registry.get("squid-native").blind_spots["fr"]
    assert "CONNECT" in registry.get("squid-native").blind_spots["en"]


def test_values_arrow_cannot_hold_are_rejected_not_crashed() -> None:
    native = "1740826803.000 1 192.0.2.1 TCP_MISS/200 99999999999999999999 GET http://a.fr/ - HIER_DIRECT/- -\n"
    assert rejects_of(_load(native, parser="squid-native")) == [
        (1, "row-number-invalid", {"field": "bytes", "value": "99999999999999999999"})]
    common = (
        '1.2.3.4 - - [01/Jan/0001:00:00:00 +0100] "GET http://a.fr/ HTTP/1.1" 200 1 TCP_MISS:HIER_DIRECT\n'
        '1.2.3.4 - - [01/Jan/2025:00:00:00 +9999] "GET http://a.fr/ HTTP/1.1" 200 1 TCP_MISS:HIER_DIRECT\n'
        '1.2.3.4 - - [01/Jan/2025:00:00:00 +0100] "GET http://a.fr/ HTTP/1.1" 200 99999999999999999999'
        " TCP_MISS:HIER_DIRECT\n"
    )
    assert [(row, code) for row, code, _ in rejects_of(_load(common, parser="squid-common"))] == [
        (1, "row-time-invalid"), (2, "row-time-invalid"), (3, "row-number-invalid")]
    w3c = (
        "#Fields: date time c-ip cs-host time-taken cs-auth-group\n"
        "0001-01-01 00:00:00 1.2.3.4 a.fr 1 -\n"
        "2025-01-01 00:00:00 1.2.3.4 a.fr 1e300 -\n"
        "2025-01-01 00:00:00 1.2.3.4 a.fr nan -\n"
    )
    rejects = rejects_of(_load(w3c, "x.log", parser="w3c-proxy"))
    assert [(row, code) for row, code, _ in rejects] == [
        (2, "row-required-missing"), (3, "row-number-invalid"), (4, "row-number-invalid")]


def test_w3c_render_maps_squid_actions_to_a_verdict() -> None:
    parser = registry.get("w3c-proxy")
    base = {"agent": "192.0.2.1", "client_ip": "192.0.2.1", "time": datetime(2025, 3, 1, 11, 0, tzinfo=UTC),
            "method": "GET", "url": "http://a.fr/", "domain": "a.fr"}
    raw = parser.render([{**base, "action": "TCP_MISS"}, {**base, "action": "TCP_DENIED"}])
    rows = _rows(_load(raw, "sg_main.log"))
    assert [(r["action"], r["agent"]) for r in rows] == [("OBSERVED", "192.0.2.1"), ("DENIED", "192.0.2.1")]
    assert b" policy_denied DENIED - - 0 TCP_DENIED GET " in raw


# --- the vectorised path (proxy_fast.py) reads exactly what the row path reads -------------------------

def _both_paths(data: bytes, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    from auditor.sources.proxy_logs import SquidNative

    return both_paths(data, "access.log", "squid-native", SquidNative, 300, monkeypatch)


EDGY_NATIVE = [
    "1774422622.000   1234 10.12.4.23 TCP_HIT/200 189911 GET http://www.a.fr/x?q=%C3%A9 rlegrand HIER_DIRECT/1.2.3.4 -",
    "1774422705.5    178 - TCP_TUNNEL/000 151404 CONNECT www.cfdt.fr:443 - HIER_DIRECT/203.0.113.10 -",
    "1774422705.123    178 10.0.0.1 TCP_MISS/- 1 GET http://b.fr/ j%20doe HIER_NONE/- -",
    "1774422705.123  x 10.0.0.1 TCP_MISS/200 1 GET http://b.fr/ - HIER_NONE/- -",
    "1774422705.123 1 10.0.0.1 /200 1 GET http://b.fr/ - HIER_NONE/- -",
    "1774422705.123 1 10.0.0.1 TCP_MISS/200 1 M-SEARCH http://b.fr/ - HIER_NONE/- -",
    "1774422705.123 1 10.0.0.1 TCP_MISS/200 1 GET http://b.fr/ \"\" HIER_NONE/- - extra",
    "1774422705.123\t1 10.0.0.1 TCP_MISS/200 1 GET http://b.fr/é - HIER_NONE/- -",
    "-1774422705.12 1 10.0.0.1 TCP_MISS/200 1 GET http://b.fr/ - HIER_NONE/- -",
    "1774422705.123 1 10.0.0.1 TCP_MISS/200 99999999999999999999 GET http://b.fr/ - HIER_NONE/- -",
    "",
    "junk",
]


def test_fast_and_row_paths_agree_on_samples_and_edges(monkeypatch: pytest.MonkeyPatch) -> None:
    plain = [f"17744{i:05d}.{i % 1000:03d} {i:6d} 10.0.0.{i % 7} TCP_MISS/200 {i} GET http://s{i % 5}.fr/p "
             f"u{i % 4} HIER_DIRECT/1.2.3.4 text/html" for i in range(30)]
    for lines in ([*plain, *EDGY_NATIVE, *plain], plain):
        fast, rows = _both_paths(("\n".join(lines) + "\n").encode(), monkeypatch)
        assert fast == rows
        assert fast[2][0] == sum(1 for line in lines if line.strip())
    sample = (SAMPLES / "squid-native.log").read_bytes()
    fast, rows = _both_paths(sample, monkeypatch)
    assert fast == rows and fast[2][2] == 0


def test_the_fast_path_is_taken_on_plain_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    from auditor.sources import proxy_fast

    taken = fast_blocks(monkeypatch, proxy_fast)
    _both_paths(("\n".join(EDGY_NATIVE * 3) + "\n").encode() + (SAMPLES / "squid-native.log").read_bytes(),
                monkeypatch)
    assert any(taken) and not all(taken)


@settings(max_examples=60)
@given(data=st.data())
def test_fast_and_row_paths_agree_on_generated_exports(data: st.DataObject) -> None:
    from auditor.testing.strategies import export

    raw, _ = data.draw(export("squid-native", max_rows=30))
    with pytest.MonkeyPatch.context() as monkeypatch:
        fast, rows = _both_paths(raw, monkeypatch)
    assert fast == rows
