"""Microsoft 365 Unified Audit Log exported as CSV (Purview portal or ``Search-UnifiedAuditLog``).

Each record is one CSV row whose ``AuditData`` cell holds the whole event as a JSON object (quotes
doubled by CSV escaping, newlines allowed), so rows are read with the csv module over physical lines
and ``source_row`` is the line where the record starts. ``CreationDate`` is UTC: ISO with seven
fractional digits and a trailing space inside the quotes (Purview), or the exporting machine's
locale (``9/20/2023 4:05:03 AM``) — then ``AuditData.CreationTime`` (ISO, UTC) is preferred.
"""

from __future__ import annotations

import csv
import io
import ipaddress
import json
import re
import uuid
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar

import pyarrow as pa

from auditor.errors import InputError
from auditor.io.text import MAX_LINE
from auditor.io.times import parse_datetime
from auditor.sources.base import Head, ParseContext, Parser, Source
from auditor.sources.registry import register

POWERSHELL_HEADER = ("creationdate", "userids", "operations", "auditdata")
PURVIEW_HEADER = ("recordid", "creationdate", "recordtype", "operation", "userid", "auditdata",
                  "associatedadminunits", "associatedadminunitsnames")
PURVIEW_HEADER_ALT = (*PURVIEW_HEADER[:-1], "associatedadminunitnames")
EXACT_HEADERS = (POWERSHELL_HEADER, PURVIEW_HEADER, PURVIEW_HEADER_ALT)

#: Canonical column → the header names that carry it (lower case).
COLUMNS = {
    "time": ("creationdate",),
    "agent": ("userids", "userid"),
    "action": ("operations", "operation"),
    "audit": ("auditdata",),
    "record_type": ("recordtype",),
}
REQUIRED = ("time", "agent", "action", "audit")

OBJECT_KEYS = ("ObjectId", "SourceFileName", "ItemName", "MeetingDetailId")
IP_KEYS = ("ClientIP", "ClientIPAddress", "ActorIpAddress")
DEVICE_PROPERTIES = ("OS", "BrowserType", "DisplayName")
DEVICE_LIMIT = 120
FIELD_LIMIT = 64 * MAX_LINE  # characters in one CSV cell (AuditData can be large)
TEAMS_RECORD_TYPE = 25

_LOCALE = re.compile(r"^\s*(\d{1,2})[/.-](\d{1,2})[/.-]\d{2,4}\b")
_AMPM = re.compile(r"\b[AaPp]\.?[Mm]\.?\s*$")


def _names(cells: Sequence[str]) -> tuple[str, ...]:
    return tuple(c.strip().strip('"').strip().lower() for c in cells)


def _header_kind(names: tuple[str, ...]) -> float:
    """0.95 for the two documented headers, 0.9 for a full PowerShell object dump, else 0."""
    if names in EXACT_HEADERS:
        return 0.95
    present = set(names)
    if all(any(n in present for n in COLUMNS[c]) for c in REQUIRED) and "runspaceid" in present:
        return 0.9
    return 0.0


def _strip_port(value: str) -> str:
    """``[::1]:443`` → ``::1``, ``1.2.3.4:5678`` → ``1.2.3.4``; a bare IPv6 address is kept whole."""
    value = value.strip()
    if value.startswith("["):
        return value[1:].split("]", 1)[0]
    if value.count(":") == 1:
        return value.split(":", 1)[0]
    return value


def _text(value: Any) -> str | None:
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return str(value)
    return None


def _first(audit: Mapping[str, Any], keys: Sequence[str]) -> str | None:
    for key in keys:
        value = _text(audit.get(key))
        if value:
            return value
    return None


def _properties(value: Any) -> dict[str, str]:
    """``[{"Name": "OS", "Value": "Windows"}, …]`` → ``{"OS": "Windows"}``."""
    out: dict[str, str] = {}
    if isinstance(value, list):
        for item in value:
            if isinstance(item, dict):
                name, text = _text(item.get("Name")), _text(item.get("Value"))
                if name and text:
                    out.setdefault(name, text)
    return out


def _device(audit: Mapping[str, Any]) -> str | None:
    props = _properties(audit.get("DeviceProperties"))
    summary = " / ".join(props[k] for k in DEVICE_PROPERTIES if k in props)
    value = (summary or _text(audit.get("UserAgent")) or _properties(audit.get("ExtendedProperties")).get("UserAgent")
             or _text(audit.get("DeviceInformation")))
    if value and len(value) > DEVICE_LIMIT:
        value = value[: DEVICE_LIMIT - 1] + "…"
    return value


def _utc(text: str | None, *, monthfirst: bool = False) -> datetime | None:
    """A UTC instant from an ISO or locale text; naive values are UTC in this log."""
    if not text:
        return None
    value = parse_datetime(text, monthfirst=monthfirst)
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _locale_monthfirst(text: str) -> bool:
    """US month-first when a 12-hour clock is used, unless the numbers say otherwise."""
    match = _LOCALE.match(text)
    if not match:
        return False
    first, second = int(match.group(1)), int(match.group(2))
    if first > 12:
        return False
    if second > 12:
        return True
    return bool(_AMPM.search(text))


def _record_type(cell: str | None, audit: Mapping[str, Any]) -> int | str | None:
    value: Any = cell.strip() if cell else audit.get("RecordType")
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return value if isinstance(value, int | str) and value != "" else None


@register
class M365UnifiedAuditCsv(Parser):
    name = "m365-unified-audit-csv"
    kind = "activity_events"
    tool = "microsoft-365"
    patterns = ("*audit*.csv", "*.csv")
    title: ClassVar[dict[str, str]] = {
        "fr": "Microsoft 365 : journal d’audit unifié (export CSV de Purview ou PowerShell)",
        "en": "Microsoft 365: Unified Audit Log (CSV export from Purview or PowerShell)",
    }
    blind_spots: ClassVar[dict[str, str]] = {
        "fr": "Le journal ne garde que les opérations auditées, pendant une durée limitée (souvent 180 "
              "jours), et un export est plafonné (50 000 lignes) : l’absence d’un événement ne prouve pas "
              "qu’il n’a pas eu lieu. Il ne contient pas le contenu des messages ou des fichiers, seulement "
              "leurs noms. L’adresse réseau peut être celle d’un proxy ou d’un service Microsoft, et "
              "l’appareil n’est souvent décrit que par le navigateur.",
        "en": "The log keeps only audited operations, for a limited time (often 180 days), and an export is "
              "capped (50,000 rows): a missing event does not prove it did not happen. It holds no content "
              "of messages or files, only their names. The network address may be a proxy’s or a Microsoft "
              "service’s, and the device is often described by the browser alone.",
    }
    roundtrip_fields = ("agent", "time", "application", "action", "object", "client_ip", "device", "duration_s")

    def sniff(self, head: Head) -> float:
        for line in head.text.splitlines()[:2]:
            if line.startswith("#TYPE"):
                continue
            try:
                cells = next(csv.reader([line]))
            except (csv.Error, StopIteration):
                return 0.0
            return _header_kind(_names(cells))
        return 0.0

    def parse(self, source: Source, ctx: ParseContext) -> Iterator[pa.RecordBatch]:
        csv.field_size_limit(max(csv.field_size_limit(), FIELD_LIMIT))
        builder = ctx.builder(self.kind)
        reader = csv.reader(source.physical_lines(ctx))
        index: dict[str, int] | None = None
        width = 0
        previous = 0
        ctx.notes["creation_date_zone"] = "UTC"
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                break
            except csv.Error as error:
                if "field limit" in str(error):
                    raise InputError("line-too-long", source.name, previous + 1, limit=FIELD_LIMIT) from None
                start, previous = previous + 1, reader.line_num
                ctx.rows_in += 1
                ctx.reject(start, "row-malformed", "", detail=str(error)[:80])
                continue
            start, previous = previous + 1, reader.line_num
            if not any(c.strip() for c in cells):
                continue
            if index is None:
                if cells[0].startswith("#TYPE"):
                    continue
                index, width = self._header(cells, source.name, start)
                continue
            ctx.rows_in += 1
            raw = _raw(cells)
            values = self._row(start, cells, index, width, ctx, raw)
            if values is None:
                continue
            batch = builder.add(start, values, raw=raw)
            if batch is not None:
                yield batch
        if index is None:
            raise InputError("csv-header-missing", source.name)
        yield from builder.finish()

    @staticmethod
    def _header(cells: Sequence[str], file: str, line: int) -> tuple[dict[str, int], int]:
        names = _names(cells)
        index: dict[str, int] = {}
        for canonical, synonyms in COLUMNS.items():
            for position, name in enumerate(names):
                if name in synonyms:
                    index[canonical] = position
                    break
        missing = [c for c in REQUIRED if c not in index]
        if missing:
            wanted = ", ".join(COLUMNS[c][0] for c in missing)
            raise InputError("csv-header-unmapped", file, line, fields=wanted, header=",".join(cells)[:200])
        return index, len(names)

    def _row(
        self, start: int, cells: Sequence[str], index: Mapping[str, int], width: int, ctx: ParseContext, raw: str
    ) -> dict[str, Any] | None:
        if (len(cells) < width and max(index.values()) >= len(cells)) or any(c.strip() for c in cells[width:]):
            ctx.reject(start, "row-field-count", raw, found=len(cells), expected=width)
            return None
        try:
            audit = json.loads(cells[index["audit"]])
        except (ValueError, RecursionError):
            audit = None
        if not isinstance(audit, dict):
            ctx.reject(start, "row-malformed", raw, detail="AuditData")
            return None
        when = self._time(cells[index["time"]], audit)
        try:
            when = ctx.time(when)
        except (OverflowError, ValueError):
            when = None
        if when is None:
            ctx.reject(start, "row-time-invalid", raw, field="CreationDate", value=cells[index["time"]][:40])
            return None
        record_type = _record_type(cells[index["record_type"]] if "record_type" in index else None, audit)
        agent = (cells[index["agent"]].strip() or _text(audit.get("UserId")) or "").lower()
        ip = _first(audit, IP_KEYS)
        return {
            "agent": agent,
            "time": when,
            "application": _text(audit.get("Workload")),
            "action": cells[index["action"]].strip() or _text(audit.get("Operation")),
            "object": _first(audit, OBJECT_KEYS),
            "client_ip": _strip_port(ip) if ip else None,
            "device": _device(audit),
            "duration_s": _duration(audit),
            "detail": _detail(record_type, audit),
        }

    @staticmethod
    def _time(cell: str, audit: Mapping[str, Any]) -> datetime | None:
        text = cell.strip()
        if re.match(r"^\d{4}-\d{2}-\d{2}", text):
            return _utc(text)
        exact = _utc(_text(audit.get("CreationTime")))
        return exact or _utc(text, monthfirst=_locale_monthfirst(text))

    # --- writer ----------------------------------------------------------------------------------
    def render(self, rows: Sequence[Mapping[str, Any]]) -> bytes:
        """A Purview export: UTF-8 with BOM, CRLF, the trailing-space CreationDate, AuditData as JSON."""
        out = io.StringIO()
        out.write(",".join(_PURVIEW_TITLES) + "\r\n")
        for number, row in enumerate(rows, start=1):
            when: datetime = row["time"].astimezone(UTC)
            record_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{number}/{when.isoformat()}/{row['agent']}"))
            teams = row.get("duration_s") is not None
            record_type = TEAMS_RECORD_TYPE if teams else 15
            audit: dict[str, Any] = {
                "CreationTime": when.strftime("%Y-%m-%dT%H:%M:%S"),
                "Id": record_id,
                "Operation": row["action"],
                "RecordType": record_type,
                "ResultStatus": "Succeeded",
                "UserId": row["agent"],
                "Workload": row.get("application"),
            }
            if row.get("object") is not None:
                audit["ObjectId"] = row["object"]
            if row.get("client_ip") is not None:
                audit["ClientIP"] = row["client_ip"]
            if row.get("device") is not None:
                audit["UserAgent"] = row["device"]
            if teams:
                leave = datetime.fromtimestamp(when.timestamp() + float(row["duration_s"]), UTC)
                audit["JoinTime"] = when.strftime("%Y-%m-%dT%H:%M:%SZ")
                audit["LeaveTime"] = leave.strftime("%Y-%m-%dT%H:%M:%SZ")
            audit = {k: v for k, v in audit.items() if v is not None}
            cells = [record_id, when.strftime("%Y-%m-%dT%H:%M:%S.0000000Z "), str(record_type), row["action"],
                     row["agent"], json.dumps(audit, ensure_ascii=False, separators=(",", ":")), "", ""]
            out.write(",".join(_quote(c) for c in cells) + "\r\n")
        return b"\xef\xbb\xbf" + out.getvalue().encode("utf-8")

    def row_strategy(self) -> Any:
        from hypothesis import strategies as st

        from auditor.testing.strategies import french_text, instants

        upn = st.from_regex(r"[a-z]{1,8}\.[a-z]{2,10}@[a-z]{3,8}\.(fr|gouv\.fr)", fullmatch=True)
        ip = st.one_of(
            st.ip_addresses(v=4).map(str), st.ip_addresses(v=6).map(lambda a: str(ipaddress.ip_address(a))),
        )
        plain = st.fixed_dictionaries({
            "agent": upn,
            "time": instants("s"),
            "application": st.sampled_from(["Exchange", "SharePoint", "OneDrive", "AzureActiveDirectory", None]),
            "action": st.one_of(st.sampled_from(["FileAccessed", "MailItemsAccessed", "UserLoggedIn"]),
                                french_text(1, 30)),
            "object": st.none() | french_text(1, 60),
            "client_ip": st.none() | ip,
            "device": st.none() | french_text(1, 60),
            "duration_s": st.none(),
        })
        meeting = st.fixed_dictionaries({
            "agent": upn,
            "time": instants("s"),
            "application": st.just("MicrosoftTeams"),
            "action": st.just("MeetingParticipantDetail"),
            "object": st.none() | french_text(1, 60),
            "client_ip": st.none() | ip,
            "device": st.none() | french_text(1, 60),
            "duration_s": st.integers(min_value=0, max_value=12 * 3600).map(float),
        })
        return st.one_of(plain, meeting)


_PURVIEW_TITLES = ("RecordId", "CreationDate", "RecordType", "Operation", "UserId", "AuditData",
                   "AssociatedAdminUnits", "AssociatedAdminUnitsNames")


def _quote(cell: str) -> str:
    """Quote like the Purview export: when the cell holds a separator, a quote, a newline or edge spaces."""
    if cell and (any(ch in cell for ch in ',"\r\n') or cell != cell.strip()):
        return '"' + cell.replace('"', '""') + '"'
    return cell


def _raw(cells: Sequence[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(cells)
    return out.getvalue()


def _duration(audit: Mapping[str, Any]) -> float | None:
    """Teams MeetingParticipantDetail: seconds between JoinTime and LeaveTime."""
    join, leave = _utc(_text(audit.get("JoinTime"))), _utc(_text(audit.get("LeaveTime")))
    if join is None or leave is None or leave < join:
        return None
    return (leave - join).total_seconds()


def _detail(record_type: int | str | None, audit: Mapping[str, Any]) -> str | None:
    detail: dict[str, Any] = {}
    if record_type is not None:
        detail["RecordType"] = record_type
    for key in ("ResultStatus", "JoinTime", "LeaveTime", "DeviceInformation"):
        value = audit.get(key)
        if isinstance(value, str | int | float) and not isinstance(value, bool) and value != "":
            detail[key] = value
    return json.dumps(detail, ensure_ascii=False, separators=(",", ":")) if detail else None
