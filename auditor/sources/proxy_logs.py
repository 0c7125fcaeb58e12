"""Web-proxy access logs: Squid (native, common, combined) and the W3C extended format (Blue Coat ProxySG).

Every line is one request a device sent through the employer's proxy. The three Squid layouts are
squid's built-in ``logformat``s (``cf.data.pre``); the W3C layout is whatever its ``#Fields:`` header
says, and that header may change in the middle of a file.

* **native** — ``%ts.%03tu %6tr %>a %Ss/%03>Hs %<st %rm %ru %[un %Sh/%<a %mt``: epoch seconds and
  milliseconds (UTC), fields separated by a *variable* number of spaces. Millions of lines: one
  ``str.split()`` per line, never a regex.
* **common / combined** — ``%>a %[ui %[un [%tl] "%rm %ru HTTP/%rv" %>Hs %<st [referer agent] %Ss:%Sh``:
  local time with its offset; the trailing ``%Ss:%Sh`` (``TCP_MISS:HIER_DIRECT``) is what tells them
  from Apache/nginx logs.
* **W3C** — ``#Fields:`` names the columns; values with spaces are double-quoted, ``-`` is empty.

The agent is the login when the proxy authenticated the user, otherwise the device's IP address (so a
per-agent analysis still works on logs without logins). ``CONNECT host:443`` (HTTPS without
decryption) shows only the site, counted as ``connect-no-path``.
"""

from __future__ import annotations

import itertools
import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, ClassVar
from urllib.parse import quote, unquote

import pyarrow as pa

from auditor.io.times import parse_datetime
from auditor.sources import proxy_fast
from auditor.sources.base import (
    BATCH_ROWS,
    BLOCKS_IN_FLIGHT,
    BatchBuilder,
    Head,
    ParseContext,
    Parser,
    Source,
    block_lines,
    bookkeeping,
    byte_blocks,
)
from auditor.sources.registry import register

KIND = "web_requests"
TOOL_SQUID = "squid"
TOOL_W3C = "w3c-elff"

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MILLIS = tuple(timedelta(milliseconds=n) for n in range(1000))
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTH_NUMBER = {name: number for number, name in enumerate(MONTHS, start=1)}
_NO_VALUE = frozenset(("-", '""', ""))
_NO_STATUS = frozenset(("-", "0", "00", "000"))
_TOKEN_CHARS = frozenset("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_DETAIL_LIMIT = 60
SNIFF_LINES = 20
SNIFF_CHARS = 16 * 1024

NATIVE_FIELDS = 10
#: A ``%Sh/%<a`` hierarchy field (``HIER_DIRECT/1.2.3.4``, ``NONE/-``): where native columns end.
_HIERARCHY = re.compile(r"^[A-Z][A-Z0-9_]*/")


# --- shared helpers ---------------------------------------------------------------------------------


def domain_of(url: str | None) -> str | None:
    """The host of ``url`` in lower case, without port, user info or IPv6 brackets; None if it has none.

    ``http://User@Example.com:8080/a`` → ``example.com``; ``secure.example.com:443`` (a CONNECT) →
    ``secure.example.com``; ``http://[2001:db8::1]/`` → ``2001:db8::1``; ``error:invalid-request`` → None.
    """
    if not url or url == "-":
        return None
    start = url.find("://")
    if start >= 0:
        start += 3
        end = url.find("/", start)
        authority = url[start:end] if end >= 0 else url[start:]
        bare = False
    else:
        if url[0] in "/?#":
            return None
        authority = url.partition("/")[0]
        bare = True  # host:port (CONNECT); anything else (error:..., a path) has no host
    key = ("" if not bare else "\0") + authority
    host = _HOSTS.get(key, _MISSING)
    if host is _MISSING:
        if len(_HOSTS) >= _HOSTS_LIMIT:
            _HOSTS.clear()
        host = _HOSTS[key] = _host_of(authority, bare)
    return host


def _host_of(authority: str, bare: bool) -> str | None:
    for stop in "?#":
        authority = authority.partition(stop)[0]
    if "@" in authority:
        authority = authority.rpartition("@")[2]
    if authority.startswith("["):
        close = authority.find("]")
        if close < 0:
            return None
        host, port = authority[1:close], authority[close + 1 :].lstrip(":")
    else:
        host, _, port = authority.partition(":")
    if bare and not (port.isascii() and port.isdigit()):
        return None
    return host.lower() or None


_MISSING = "\0missing"
_HOSTS: dict[str, str | None] = {}  # authority → host: a log has far fewer sites than lines
_HOSTS_LIMIT = 100_000


def _user(value: str) -> str | None:
    """A login as squid escapes it (``%[un``: spaces and controls as ``%XX``); ``-`` and ``""`` are none."""
    if value in _NO_VALUE:
        return None
    return unquote(value) if "%" in value else value


def _escape_user(user: str | None) -> str:
    return "-" if not user else quote(user, safe="@\\.-_!$&'()*+,;=:~")


def _status(text: str) -> int | None:
    """HTTP status; ``000``/``-`` (no reply was received) is None. Raises ValueError on non-numbers."""
    return None if text in _NO_STATUS else int64(text)


_INT64 = 2**63 - 1


def int64(text: str) -> int:
    """``int(text)`` that also refuses what an Arrow int64 column cannot hold (ValueError)."""
    value = int(text)
    if -_INT64 <= value <= _INT64:
        return value
    raise ValueError(text)


def _is_token(method: str) -> bool:
    return bool(method) and method.isascii() and all(c in _TOKEN_CHARS for c in method)


def _clip(value: str) -> str:
    return value if len(value) <= _DETAIL_LIMIT else value[:_DETAIL_LIMIT] + "…"


_OFFSETS: dict[str, timezone] = {}


def _offset(text: str) -> timezone | None:
    """``+0100`` → a fixed-offset zone (cached); None when not an offset."""
    zone = _OFFSETS.get(text)
    if zone is None:
        if len(text) != 5 or text[0] not in "+-" or not (text[1:].isascii() and text[1:].isdigit()):
            return None
        minutes = int(text[1:3]) * 60 + int(text[3:5])
        if minutes >= 24 * 60:
            return None
        zone = timezone(timedelta(minutes=-minutes if text[0] == "-" else minutes))
        _OFFSETS[text] = zone
    return zone


def clf_time(text: str) -> datetime | None:
    """``dd/Mon/yyyy:HH:MM:SS +zzzz`` (English months whatever the locale) → aware; naive without offset.

    Falls back to the general readers for overridden ``%tl`` (``%{%Y-%m-%d %H:%M:%S}tl``) and Blue Coat's
    ``DD/MM/YYYY:hh:mm:ss``. None if unreadable.
    """
    text = text.strip().strip("[]").strip()
    stamp, _, zone_text = text.partition(" ")
    month = _MONTH_NUMBER.get(stamp[3:6].capitalize()) if len(stamp) == 20 else None
    if month and stamp[2] == "/" and stamp[6] == "/" and stamp[11] == ":":
        try:
            value = datetime(int(stamp[7:11]), month, int(stamp[0:2]),
                             int(stamp[12:14]), int(stamp[15:17]), int(stamp[18:20]))
        except ValueError:
            return None
        if not zone_text:
            return value
        if zone_text.upper() in ("GMT", "UTC", "Z"):
            return value.replace(tzinfo=UTC)
        zone = _offset(zone_text)
        return value.replace(tzinfo=zone) if zone else None
    if len(stamp) > 11 and stamp[2] == "/" and stamp[5] == "/" and stamp[10] == ":":
        text = f"{stamp[:10]} {stamp[11:]} {zone_text}".strip()
    return _general_time(text)


def _general_time(text: str) -> datetime | None:
    """ISO 8601, ``dd/mm/yyyy HH:MM:SS`` or epoch, with an optional trailing ``+zzzz``/``GMT``."""
    head, _, tail = text.rpartition(" ")
    zone = _offset(tail) if head else None
    if zone is None and head and tail.upper() in ("GMT", "UTC"):
        zone = UTC
    value = parse_datetime(head if zone else text)
    if value is not None and zone is not None and value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    return value


def clf_stamp(value: datetime, zone: Any) -> str:
    """``value`` as squid's ``%tl`` in ``zone``: ``30/Mar/2025:03:00:00 +0200``."""
    local = value.astimezone(zone)
    offset = local.utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    minutes = abs(minutes)
    return (f"{local.day:02d}/{MONTHS[local.month - 1]}/{local.year:04d}:"
            f"{local.hour:02d}:{local.minute:02d}:{local.second:02d} {sign}{minutes // 60:02d}{minutes % 60:02d}")


def _agent(user: str | None, client_ip: str | None, ctx: ParseContext) -> str:
    return user or client_ip or ctx.agent_hint


def _head_lines(head: Head) -> list[str]:
    """The first complete non-blank lines of the head (the last one may be cut by the sample size)."""
    full = head.text
    lines = full[:SNIFF_CHARS].splitlines()
    if lines and not (head.complete and len(full) <= SNIFF_CHARS):
        lines = lines[:-1]
    return [line for line in lines if line.strip()][:SNIFF_LINES]


def _ratio_score(matched: int, checked: int) -> float:
    """All the first lines in shape → 0.95; most of them (junk happens) → less; few → 0."""
    if checked == 0 or matched == 0 or matched < 0.6 * checked:
        return 0.0
    return 0.95 * matched / checked


def _mime(url: str, method: str) -> str:
    if method == "CONNECT":
        return "-"
    path = url.partition("?")[0].lower()
    for suffix, mime in ((".png", "image/png"), (".jpg", "image/jpeg"), (".js", "application/javascript"),
                         (".css", "text/css"), (".json", "application/json"), (".pdf", "application/pdf")):
        if path.endswith(suffix):
            return mime
    return "text/html"


def _lines_bytes(lines: list[str]) -> bytes:
    # An empty log is written as one blank line: a zero-byte file is refused before any parser runs.
    return ("\n".join(lines) + "\n").encode("utf-8")


# --- hypothesis building blocks (imported lazily: hypothesis is only needed for tests and synth) -------


def _url_parts(draw: Any, *, ipv6: bool, method: str | None = None) -> tuple[str, str, str]:
    """(method, url, domain) as a proxy logs them: full URL, or ``host:port`` for CONNECT."""
    from hypothesis import strategies as st

    name = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,12}[a-z0-9])?(\.[a-z0-9]{1,10}){0,2}\.(fr|com|org|gouv\.fr)",
                         fullmatch=True)
    hosts = [name, st.ip_addresses(v=4).map(str)]
    if ipv6:
        hosts.append(st.ip_addresses(v=6).map(lambda a: f"[{a}]"))
    host = draw(st.one_of(*hosts))
    domain = host.strip("[]")
    method = method or draw(st.sampled_from(["GET", "GET", "POST", "HEAD", "PUT", "CONNECT"]))
    if method == "CONNECT":
        return method, f"{host}:{draw(st.sampled_from([443, 443, 8443]))}", domain
    scheme = draw(st.sampled_from(["http", "https"]))
    port = draw(st.sampled_from(["", "", ":8080"]))
    path = draw(st.from_regex(r"(/[A-Za-z0-9._~%-]{0,12}){1,4}", fullmatch=True))
    query = draw(st.none() | st.from_regex(r"\?[a-z]{1,6}=[A-Za-z0-9%]{0,10}(&[a-z]{1,6}=[A-Za-z0-9]{0,8}){0,2}",
                                           fullmatch=True))
    return method, f"{scheme}://{host}{port}{path}{query or ''}", domain


def _logins() -> Any:
    from hypothesis import strategies as st

    from auditor.testing.strategies import identifiers

    return st.one_of(
        identifiers(),
        st.from_regex(r"[a-z]{2,8}\.[a-z]{2,10}@[a-z]{3,10}\.(fr|org)", fullmatch=True),
        st.from_regex(r"[A-Z]{3,8}\\[a-z]{2,10}", fullmatch=True),
    ).filter(lambda u: u not in _NO_VALUE and '"' not in u)


def _client_ips() -> Any:
    from hypothesis import strategies as st

    return st.one_of(st.ip_addresses(v=4), st.ip_addresses(v=6)).map(str)


class _Numbered:
    """Physical lines of a block, numbered after ``base``, ends stripped; ``last`` is the last number."""

    def __init__(self, lines: Iterator[str], base: int) -> None:
        self._lines = lines
        self.last = base

    def __iter__(self) -> Iterator[tuple[int, str]]:
        for line in self._lines:
            self.last += 1
            yield self.last, line.rstrip("\r\n")


# --- Squid native ----------------------------------------------------------------------------------------

_NATIVE_SHAPE = re.compile(
    r"^\d{9,11}\.\d{3}[ \t]+-?\d+[ \t]+[0-9A-Fa-f:.]+[ \t]+[A-Z][A-Z0-9_]*/\d{3}[ \t]+\d+[ \t]+\S+[ \t]+\S+"
    r"[ \t]+\S+[ \t]+[A-Z][A-Z0-9_]*/\S+"
)


@register
class SquidNative(Parser):
    """Squid's default ``squid`` logformat (``access.log``)."""

    name = "squid-native"
    kind = KIND
    tool = TOOL_SQUID
    patterns = ("*.log", "access.log*")
    title: ClassVar[dict[str, str]] = {"fr": "Journal d’accès du proxy Squid (format natif)",
             "en": "Squid proxy access log (native format)"}
    blind_spots: ClassVar[dict[str, str]] = {
        "fr": "Ne montre pas le contenu des pages, seulement leur adresse ; en HTTPS (CONNECT) seulement le "
              "domaine. Pas de catégorie de site, ni de navigateur, ni de page d’origine. La durée est celle du "
              "traitement par le proxy, pas le temps passé à lire. Sans identifiant de connexion, seule "
              "l’adresse du poste relie la ligne à une personne (un poste partagé mélange plusieurs agents). "
              "Avec l’authentification NTLM, chaque page donne deux lignes TCP_DENIED/407 : ce sont des "
              "échanges d’authentification, pas des sites bloqués.",
        "en": "Does not show page contents, only their address; for HTTPS (CONNECT) only the domain. No site "
              "category, browser or referring page. The duration is the proxy's processing time, not reading "
              "time. Without a login, only the device address links a line to a person (a shared computer "
              "mixes several agents). With NTLM authentication every page gives two TCP_DENIED/407 lines: "
              "these are authentication round trips, not blocked sites.",
    }
    roundtrip_fields = ("agent", "client_ip", "time", "duration_ms", "method", "url", "domain", "status",
                        "bytes", "category", "action", "user_agent", "referer")
    #: Read blocks of plain lines with pyarrow (proxy_fast.py); tests turn it off to compare both paths.
    vectorised: ClassVar[bool] = True

    def sniff(self, head: Head) -> float:
        lines = _head_lines(head)
        return _ratio_score(sum(1 for line in lines if _NATIVE_SHAPE.match(line)), len(lines))

    def parse(self, source: Source, ctx: ParseContext) -> Iterator[pa.RecordBatch]:
        """Blocks of lines through the vectorised path (proxy_fast.py) when they fit it, else row by row."""
        builder = ctx.builder(KIND)
        if not self.vectorised or source.encoding.name.replace("_", "-").lower() not in ("utf-8", "ascii"):
            yield from self._rows(source.lines(ctx), ctx, builder)
            yield from builder.finish()
            return
        base = 0
        with source.open_binary() as binary, ThreadPoolExecutor(max_workers=2) as pool:
            binary.seek(source.encoding.bom_length)
            blocks = byte_blocks(binary)
            queue: deque[tuple[bytes, Future[proxy_fast.Block | None]]] = deque()
            while True:
                for block in itertools.islice(blocks, BLOCKS_IN_FLIGHT - len(queue)):
                    queue.append((block, pool.submit(proxy_fast.read_block, block, ctx.agent_hint, domain_of, _user)))
                if not queue:
                    break
                block, future = queue.popleft()
                fast = future.result()
                if fast is None:
                    numbered = _Numbered(block_lines(block, source.encoding, source.name, ctx), base)
                    yield from self._rows(numbered, ctx, builder)
                    base = numbered.last
                    continue
                yield from builder.finish()  # rows of earlier blocks first: the order of the file
                table = bookkeeping(KIND, fast.columns, self.tool, ctx.file, base + 1)
                ctx.rows_in += table.num_rows
                ctx.rows_parsed += table.num_rows
                if fast.connects:
                    ctx.warn("connect-no-path", fast.connects)
                base += table.num_rows
                yield from table.to_batches(BATCH_ROWS)
        yield from builder.finish()

    def _rows(self, lines: Iterable[tuple[int, str]], ctx: ParseContext,
              builder: BatchBuilder) -> Iterator[pa.RecordBatch]:
        """The row path: one ``str.split()`` per numbered line."""
        reject = ctx.reject
        add = builder.add
        epoch = _EPOCH
        millis = _MILLIS
        last_seconds, last_second = "", epoch
        connects = 0
        for number, line in lines:
            parts = line.split()
            if not parts:
                continue  # blank lines are not records
            ctx.rows_in += 1
            count = len(parts)
            if count != NATIVE_FIELDS:
                if count < NATIVE_FIELDS:
                    reject(number, "row-malformed", line, detail=f"fields: {count}/{NATIVE_FIELDS}")
                    continue
                if not _HIERARCHY.match(parts[8]):  # a space inside a field shifted the columns
                    reject(number, "row-field-count", line, found=count, expected=NATIVE_FIELDS)
                    continue
                # extra columns appended by a custom logformat after %mt: the ten first are squid's
            stamp, elapsed, client, result, size, method, url, login = parts[:8]
            seconds, _, fraction = stamp.partition(".")
            if seconds != last_seconds:  # lines come in time order: one datetime per second, not per line
                try:
                    if not (seconds.isascii() and seconds.isdigit()):
                        raise ValueError(seconds)
                    last_second = epoch + timedelta(seconds=int(seconds))
                except (ValueError, OverflowError):
                    reject(number, "row-malformed", line, detail=f"timestamp: {_clip(stamp)!r}")
                    continue
                last_seconds = seconds
            try:
                if len(fraction) == 3 and fraction.isdigit():
                    when = last_second + millis[int(fraction)]
                elif not (fraction.isascii() and (fraction.isdigit() or not fraction)):
                    raise ValueError(fraction)
                else:
                    when = last_second + timedelta(microseconds=int(fraction[:6].ljust(6, "0")))
            except ValueError:
                reject(number, "row-malformed", line, detail=f"timestamp: {_clip(stamp)!r}")
                continue
            if not method.isalpha() and not _is_token(method):
                reject(number, "row-malformed", line, detail=f"method: {_clip(method)!r}")
                continue
            action, slash, code = result.partition("/")
            if not slash or not action:
                reject(number, "row-malformed", line, detail=f"result: {_clip(result)!r}")
                continue
            try:
                duration = int64(elapsed)
            except ValueError:
                reject(number, "row-number-invalid", line, field="duration_ms", value=_clip(elapsed))
                continue
            try:
                size_value = int64(size)
            except ValueError:
                reject(number, "row-number-invalid", line, field="bytes", value=_clip(size))
                continue
            try:
                status = _status(code)
            except ValueError:
                reject(number, "row-number-invalid", line, field="status", value=_clip(code))
                continue
            user = _user(login)
            client_ip = None if client == "-" else client
            if method == "CONNECT":
                connects += 1
            batch = add(number, {
                "agent": user or client_ip or ctx.agent_hint,
                "client_ip": client_ip,
                "time": when,
                "duration_ms": duration,
                "method": method,
                "url": url,
                "domain": domain_of(url),
                "status": status,
                "bytes": size_value,
                "action": action,
            }, line)
            if batch is not None:
                yield batch
        if connects:
            ctx.warn("connect-no-path", connects)

    def render(self, rows: Sequence[Mapping[str, Any]]) -> bytes:
        """Lines as squid writes them: ``%9d.%03d %6d`` then single spaces."""
        out = []
        for row in rows:
            delta = row["time"] - _EPOCH
            seconds = delta.days * 86400 + delta.seconds
            method = row.get("method") or "GET"
            url = row.get("url") or "-"
            action = row.get("action") or "TCP_MISS"
            status = row.get("status") or 0
            hierarchy = "HIER_NONE/-" if "DENIED" in action else "HIER_DIRECT/203.0.113.10"
            out.append(
                f"{seconds:9d}.{delta.microseconds // 1000:03d} {row.get('duration_ms') or 0:6d} "
                f"{row.get('client_ip') or '-'} {action}/{status:03d} {row.get('bytes') or 0} {method} {url} "
                f"{_escape_user(_login_of(row))} {hierarchy} {_mime(url, method)}"
            )
        return _lines_bytes(out)

    def row_strategy(self) -> Any:
        from hypothesis import strategies as st

        from auditor.testing.strategies import instants

        @st.composite
        def rows(draw: Any) -> dict[str, Any]:
            method, url, domain = _url_parts(draw, ipv6=True)
            client_ip = draw(_client_ips())
            user = draw(st.none() | _logins())
            return {
                "agent": user or client_ip,
                "client_ip": client_ip,
                "time": draw(instants("ms")),
                "duration_ms": draw(st.integers(0, 10**7)),
                "method": method,
                "url": url,
                "domain": domain,
                "status": draw(st.none() | st.integers(100, 599)),
                "bytes": draw(st.integers(0, 2**40)),
                "category": None,
                "action": draw(st.sampled_from(["TCP_MISS", "TCP_HIT", "TCP_TUNNEL", "TCP_DENIED",
                                                "TCP_REFRESH_UNMODIFIED", "TAG_NONE", "NONE_NONE"])),
                "user_agent": None,
                "referer": None,
            }

        return rows()


def _login_of(row: Mapping[str, Any]) -> str | None:
    """The login a canonical row carries: its agent, unless the agent is only the device address."""
    agent = row.get("agent")
    return None if not agent or agent == row.get("client_ip") else str(agent)


# --- Squid common and combined ---------------------------------------------------------------------------

#: One line of squid's ``common`` or ``combined`` layout. Linear time even on hostile lines: the URL
#: cannot run past a ``"`` followed by a space (URLs hold no spaces), and the user-agent ends at the one
#: ``"`` followed by the final ``%Ss:%Sh`` (possessive, so no backtracking).
_ACCESS = re.compile(
    r'(?P<ip>\S+) (?P<ident>\S+) (?P<user>\S+) \[(?P<tl>[^\]]*)\] '
    r'"(?P<method>\S+) (?P<url>(?:[^"]|"(?! ))*?)(?: HTTP/(?P<version>[^"\s]*))?" '
    r'(?P<status>\d+|-) (?P<bytes>\d+|-) '
    r'(?:"(?P<referer>[^"]*)" "(?P<ua>(?:[^"]++|"(?! [A-Z][A-Z0-9_]*:[A-Z][A-Z0-9_]*$))*+)" )?'
    r'(?P<action>[A-Z][A-Z0-9_]*):(?P<hierarchy>[A-Z][A-Z0-9_]*)$'
)


class _SquidAccess(Parser):
    """Shared reader of squid's ``common`` and ``combined`` layouts (one regex per line)."""

    tool = TOOL_SQUID
    kind = KIND
    patterns = ("*.log", "access.log*")
    combined: bool = False

    def sniff(self, head: Head) -> float:
        lines = _head_lines(head)
        matches = [m for m in map(_ACCESS.match, lines) if m]
        mine = sum(1 for m in matches if (m.group("ua") is not None) == self.combined)
        if len(matches) < 0.6 * len(lines):
            return 0.0
        return _ratio_score(mine, len(lines))

    def parse(self, source: Source, ctx: ParseContext) -> Iterator[pa.RecordBatch]:
        builder = ctx.builder(KIND)
        connects = 0
        for number, line in source.lines(ctx):
            if not line.strip():
                continue
            ctx.rows_in += 1
            match = _ACCESS.match(line.strip())
            if match is None:
                reject_detail = "not a squid common/combined line"
                ctx.reject(number, "row-malformed", line, detail=reject_detail)
                continue
            method = match.group("method")
            if not _is_token(method):
                ctx.reject(number, "row-malformed", line, detail=f"method: {_clip(method)!r}")
                continue
            tl = match.group("tl")
            when = clf_time(tl)
            if when is None:
                ctx.reject(number, "row-time-invalid", line, field="time", value=_clip(tl))
                continue
            try:
                when = ctx.time(when)
            except (OverflowError, ValueError):
                ctx.reject(number, "row-time-invalid", line, field="time", value=_clip(tl))
                continue
            status_text, size_text = match.group("status", "bytes")
            try:
                status = _status(status_text)
            except ValueError:
                ctx.reject(number, "row-number-invalid", line, field="status", value=_clip(status_text))
                continue
            try:
                size = None if size_text == "-" else int64(size_text)
            except ValueError:
                ctx.reject(number, "row-number-invalid", line, field="bytes", value=_clip(size_text))
                continue
            client = match.group("ip")
            client_ip = None if client == "-" else client
            user = _user(match.group("user"))
            url = match.group("url") or None
            if method == "CONNECT":
                connects += 1
            batch = builder.add(number, {
                "agent": _agent(user, client_ip, ctx),
                "client_ip": client_ip,
                "time": when,
                "method": method,
                "url": url,
                "domain": domain_of(url),
                "status": status,
                "bytes": size,
                "action": match.group("action"),
                "referer": _none(match.group("referer")),
                "user_agent": _none(match.group("ua")),
            }, line)
            if batch is not None:
                yield batch
        if connects:
            ctx.warn("connect-no-path", connects)
        yield from builder.finish()

    def render(self, rows: Sequence[Mapping[str, Any]]) -> bytes:
        """Lines as squid writes them, local time of Paris with its offset, single spaces."""
        from auditor.testing.strategies import PARIS

        out = []
        for row in rows:
            method = row.get("method") or "GET"
            action = row.get("action") or "TCP_MISS"
            hierarchy = "HIER_NONE" if "DENIED" in action else "HIER_DIRECT"
            status = row.get("status")
            size = row.get("bytes")
            middle = ""
            if self.combined:
                middle = f'"{row.get("referer") or "-"}" "{row.get("user_agent") or "-"}" '
            out.append(
                f"{row.get('client_ip') or '-'} - {_escape_user(_login_of(row))} [{clf_stamp(row['time'], PARIS)}] "
                f'"{method} {row.get("url") or "-"} HTTP/1.1" {"-" if status is None else status} '
                f"{'-' if size is None else size} {middle}{action}:{hierarchy}"
            )
        return _lines_bytes(out)

    def row_strategy(self) -> Any:
        from hypothesis import strategies as st

        from auditor.testing.strategies import instants

        combined = self.combined
        user_agents = st.sampled_from([
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0",
            "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
            "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17531; Pro)",
            "curl/8.5.0",
        ])

        @st.composite
        def rows(draw: Any) -> dict[str, Any]:
            method, url, domain = _url_parts(draw, ipv6=True)
            client_ip = draw(_client_ips())
            user = draw(st.none() | _logins())
            referer = None
            if combined and draw(st.booleans()):
                referer = _url_parts(draw, ipv6=False, method="GET")[1]
            return {
                "agent": user or client_ip,
                "client_ip": client_ip,
                "time": draw(instants("s")),
                "duration_ms": None,
                "method": method,
                "url": url,
                "domain": domain,
                "status": draw(st.none() | st.integers(100, 599)),
                "bytes": draw(st.none() | st.integers(0, 2**40)),
                "category": None,
                "action": draw(st.sampled_from(["TCP_MISS", "TCP_HIT", "TCP_TUNNEL", "TCP_DENIED",
                                                "TCP_MEM_HIT", "TAG_NONE"])),
                "user_agent": draw(st.none() | user_agents) if combined else None,
                "referer": referer,
            }

        return rows()


def _none(value: str | None) -> str | None:
    return None if value is None or value in _NO_VALUE else value


@register
class SquidCommon(_SquidAccess):
    """Squid's ``common`` logformat: Apache-like, ending with ``%Ss:%Sh``."""

    name = "squid-common"
    combined = False
    title: ClassVar[dict[str, str]] = {"fr": "Journal d’accès du proxy Squid (format « common »)",
             "en": "Squid proxy access log (common format)"}
    blind_spots: ClassVar[dict[str, str]] = {
        "fr": "Ne montre pas le contenu des pages, seulement leur adresse ; en HTTPS (CONNECT) seulement le "
              "domaine. Heure à la seconde près, sans durée de traitement. Pas de catégorie de site, ni de "
              "navigateur, ni de page d’origine. Sans identifiant de connexion, seule l’adresse du poste relie "
              "la ligne à une personne. Avec l’authentification NTLM, les lignes 407 sont des échanges "
              "d’authentification, pas des sites bloqués.",
        "en": "Does not show page contents, only their address; for HTTPS (CONNECT) only the domain. Time to "
              "the second, no processing time. No site category, browser or referring page. Without a login, "
              "only the device address links a line to a person. With NTLM authentication, 407 lines are "
              "authentication round trips, not blocked sites.",
    }
    roundtrip_fields = ("agent", "client_ip", "time", "duration_ms", "method", "url", "domain", "status",
                        "bytes", "category", "action", "user_agent", "referer")


@register
class SquidCombined(_SquidAccess):
    """Squid's ``combined`` logformat: ``common`` plus the referring page and the browser."""

    name = "squid-combined"
    combined = True
    title: ClassVar[dict[str, str]] = {"fr": "Journal d’accès du proxy Squid (format « combined »)",
             "en": "Squid proxy access log (combined format)"}
    blind_spots: ClassVar[dict[str, str]] = {
        "fr": "Ne montre pas le contenu des pages, seulement leur adresse ; en HTTPS (CONNECT) seulement le "
              "domaine. Heure à la seconde près, sans durée de traitement. Pas de catégorie de site. Sans "
              "identifiant de connexion, seule l’adresse du poste relie la ligne à une personne. Avec "
              "l’authentification NTLM, les lignes 407 sont des échanges d’authentification, pas des sites "
              "bloqués.",
        "en": "Does not show page contents, only their address; for HTTPS (CONNECT) only the domain. Time to "
              "the second, no processing time. No site category. Without a login, only the device address "
              "links a line to a person. With NTLM authentication, 407 lines are authentication round trips, "
              "not blocked sites.",
    }
    roundtrip_fields = SquidCommon.roundtrip_fields


# --- W3C extended log format (Blue Coat ProxySG and others) ------------------------------------------------

#: ``#Fields:`` names (lower case) → canonical role. ``x-bluecoat-<name>`` is read as ``<name>``.
_W3C_ROLES = {
    "date": "date", "time": "time", "gmttime": "gmttime", "localtime": "localtime", "x-localtime": "localtime",
    "local-date": "local_date", "x-local-date": "local_date", "localdate": "local_date",
    "local-time": "local_time", "x-local-time": "local_time",
    "timestamp": "epoch", "x-timestamp-unix": "epoch", "x-timestamp-unix-utc": "epoch",
    "time-taken": "time_taken",
    "c-ip": "client_ip",
    "cs-username": "user", "cs-user": "user", "x-cs-username": "user",
    "sc-filter-result": "filter_result", "s-action": "s_action",
    "cs-categories": "category", "cs-category": "category", "x-cs-categories": "category",
    "sc-status": "status", "sc-result-code": "status",
    "cs-method": "method", "s-operation": "method",
    "cs-uri-scheme": "scheme", "cs-host": "host", "r-host": "host", "cs-uri-port": "port", "r-port": "port",
    "cs-uri-path": "path", "cs-uri-stem": "path", "cs-uri-query": "query",
    "cs-uri": "uri", "cs-url": "uri",
    "cs(user-agent)": "user_agent", "c-agent": "user_agent",
    "cs(referer)": "referer", "cs-referred": "referer",
    "sc-bytes": "bytes",
}
_Reader = Callable[[str | None], int | None]
_FILTER_RESULTS = frozenset(("OBSERVED", "DENIED", "PROXIED"))
_DEFAULT_PORTS = {"http": "80", "https": "443"}
#: A double-quoted value, or a bracketed common-log time (``[01/Mar/2025:12:00:00 +0100]``), or a bare word.
_W3C_VALUE = re.compile(r'"([^"]*)"|(\[[^\]]*\]|\S+)')
#: Fields that only a proxy log has (an IIS web-server log has none of them).
_PROXY_FIELDS = frozenset(("cs-host", "cs-uri", "cs-uri-scheme", "sc-filter-result", "s-action", "cs-categories",
                           "x-exception-id", "r-host", "cs-auth-group", "s-supplier-name", "rs(content-type)"))

#: The Blue Coat ``bcreportermain_v1`` layout, written by ``render``.
BLUECOAT_FIELDS = (
    "date", "time", "time-taken", "c-ip", "cs-username", "cs-auth-group", "x-exception-id", "sc-filter-result",
    "cs-categories", "cs(Referer)", "sc-status", "s-action", "cs-method", "rs(Content-Type)", "cs-uri-scheme",
    "cs-host", "cs-uri-port", "cs-uri-path", "cs-uri-query", "cs-uri-extension", "cs(User-Agent)", "s-ip",
    "sc-bytes", "cs-bytes", "x-virus-id",
)


def _role(name: str) -> str | None:
    name = name.lower()
    role = _W3C_ROLES.get(name)
    if role is None and name.startswith("x-bluecoat-"):
        role = _W3C_ROLES.get(name[len("x-bluecoat-") :])
    return role


@dataclass
class _Layout:
    """The columns announced by one ``#Fields:`` line."""

    names: tuple[str, ...]
    index: dict[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, names: Sequence[str]) -> _Layout:
        layout = cls(tuple(names))
        for at, name in enumerate(names):
            role = _role(name)
            if role is not None and role not in layout.index:
                layout.index[role] = at
        return layout

    def get(self, values: Sequence[str], role: str) -> str | None:
        at = self.index.get(role)
        if at is None:
            return None
        value = values[at]
        return None if value == "-" or value == "" else value

    def time_text(self, values: Sequence[str], day: str | None) -> tuple[str, bool] | None:
        """The text of the request time and whether it is UTC; None when the layout has no time."""
        get = self.get
        if "date" in self.index and "time" in self.index:
            return f"{get(values, 'date') or ''} {get(values, 'time') or ''}".strip(), True
        if "local_date" in self.index and ("local_time" in self.index or "localtime" in self.index):
            clock = get(values, "local_time") or get(values, "localtime") or ""
            return f"{get(values, 'local_date') or ''} {clock}".strip(), False
        if "date" in self.index and "localtime" in self.index:
            return f"{get(values, 'date') or ''} {get(values, 'localtime') or ''}".strip(), False
        for role, utc in (("gmttime", True), ("localtime", False), ("epoch", True), ("local_time", False)):
            if role in self.index:
                return get(values, role) or "", utc
        if "time" in self.index:  # W3C: a time without date takes the date of the last #Date directive
            return f"{day or ''} {get(values, 'time') or ''}".strip(), True
        return None


def _w3c_values(line: str) -> list[str]:
    """Space-separated values, double-quoted when they hold spaces; tab-separated when tabs are used."""
    if "\t" in line:
        return [v.strip().strip('"') if v.strip() != '""' else "" for v in line.split("\t")]
    if '"' not in line and "[" not in line:
        return line.split()
    return [bare or quoted for quoted, bare in _W3C_VALUE.findall(line)]


def _w3c_time(text: str, utc: bool) -> datetime | None:
    if not text:
        return None
    if text.startswith("[") or (len(text) > 6 and text[2] == "/" and text[3:6].isalpha()):
        value = clf_time(text)
    else:
        if len(text) > 11 and text[2] == "/" and text[5] == "/" and text[10] == ":":
            text = f"{text[:10]} {text[11:]}"
        value = _general_time(text)
    if value is not None and value.tzinfo is None and utc:
        value = value.replace(tzinfo=UTC)
    return value


def _duration(text: str | None) -> int | None:
    """``time-taken`` in milliseconds (Blue Coat, IIS); a decimal value is seconds (the W3C draft's unit)."""
    if text is None:
        return None
    if "." in text:
        return int64(str(round(float(text) * 1000)))
    return int64(text)


def _w3c_url(layout: _Layout, values: Sequence[str], method: str | None) -> tuple[str | None, str | None]:
    """(url, domain): the full ``cs-uri`` when logged, else rebuilt from scheme, host, port, path, query."""
    get = layout.get
    host = get(values, "host")
    port = get(values, "port")
    domain = domain_of("http://" + host) if host else None
    if method == "CONNECT" and host:
        return f"{host}:{port or 443}", domain
    uri = get(values, "uri")
    if uri is not None:
        return uri, domain or domain_of(uri)
    if host is None:
        return get(values, "path"), None
    scheme = (get(values, "scheme") or "http").lower()
    authority = host if port is None or _DEFAULT_PORTS.get(scheme) == port else f"{host}:{port}"
    query = get(values, "query") or ""
    if query and not query.startswith("?"):
        query = "?" + query
    return f"{scheme}://{authority}{get(values, 'path') or ''}{query}", domain


@register
class W3CProxy(Parser):
    """W3C extended log format as proxies write it (Blue Coat ProxySG ``bcreportermain_v1`` and others)."""

    name = "w3c-proxy"
    kind = KIND
    tool = TOOL_W3C
    patterns = ("*.log", "*.w3c", "sg_main*", "*elff*")
    title: ClassVar[dict[str, str]] = {"fr": "Journal de proxy au format W3C étendu (Blue Coat ProxySG…)",
             "en": "Proxy log in W3C extended format (Blue Coat ProxySG…)"}
    blind_spots: ClassVar[dict[str, str]] = {
        "fr": "Ne montre pas le contenu des pages, seulement leur adresse ; en HTTPS non déchiffré (CONNECT) "
              "seulement le domaine. Les colonnes dépendent de la configuration du proxy (ligne #Fields) : un "
              "champ absent de l’export n’est pas la preuve qu’il n’est pas collecté. La catégorie est celle "
              "du fournisseur du proxy, souvent approximative. Heure à la seconde près ; la durée est celle du "
              "traitement, pas le temps passé à lire. Sans identifiant de connexion, seule l’adresse du poste "
              "relie la ligne à une personne.",
        "en": "Does not show page contents, only their address; for undecrypted HTTPS (CONNECT) only the "
              "domain. The columns depend on the proxy's configuration (#Fields line): a field missing from the "
              "export is no proof it is not collected. The category is the proxy vendor's, often approximate. "
              "Time to the second; the duration is processing time, not reading time. Without a login, only "
              "the device address links a line to a person.",
    }
    roundtrip_fields = ("agent", "client_ip", "time", "duration_ms", "method", "url", "domain", "status",
                        "bytes", "category", "action", "user_agent", "referer")

    def sniff(self, head: Head) -> float:
        lines = _head_lines(head)
        directives = [line for line in lines if line.startswith("#")]
        software = any(line.startswith(("#Software:", "#Version:")) for line in directives)
        for line in directives:
            if line.lower().startswith("#fields:"):
                names = {name.lower() for name in line.split(":", 1)[1].split()}
                if names & _PROXY_FIELDS and ("c-ip" in names or "cs-username" in names):
                    return 0.95 if software else 0.9
                return 0.0
        if any("sgos" in line.lower() or "blue coat" in line.lower() for line in directives):
            return 0.6
        return 0.0

    def parse(self, source: Source, ctx: ParseContext) -> Iterator[pa.RecordBatch]:
        builder = ctx.builder(KIND)
        layout: _Layout | None = None
        day: str | None = None
        connects = 0
        for number, line in source.lines(ctx):
            if not line.strip():
                continue
            if line.startswith("#"):
                directive, _, rest = line.partition(":")
                directive = directive.lower()
                if directive == "#fields":
                    layout = _Layout.of(rest.split())
                elif directive == "#date":
                    day = rest.strip().partition(" ")[0] or None
                continue
            ctx.rows_in += 1
            if layout is None:
                ctx.reject(number, "row-malformed", line, detail="no #Fields line before this one")
                continue
            values = _w3c_values(line)
            if len(values) != len(layout.names):
                ctx.reject(number, "row-field-count", line, found=len(values), expected=len(layout.names))
                continue
            row = self._row(layout, values, day, number, line, ctx)
            if row is None:
                continue
            if row["method"] == "CONNECT":
                connects += 1
            batch = builder.add(number, row, line)
            if batch is not None:
                yield batch
        if connects:
            ctx.warn("connect-no-path", connects)
        yield from builder.finish()

    @staticmethod
    def _row(layout: _Layout, values: Sequence[str], day: str | None, number: int, line: str,
             ctx: ParseContext) -> dict[str, Any] | None:
        get = layout.get
        when = None
        timing = layout.time_text(values, day)
        if timing is not None and timing[0]:
            try:
                parsed = _w3c_time(*timing)
                when = None if parsed is None else ctx.time(parsed)
            except (OverflowError, ValueError):
                parsed = None
            if parsed is None:
                ctx.reject(number, "row-time-invalid", line, field="time", value=_clip(timing[0]))
                return None
        numbers: dict[str, int | None] = {}
        readers: tuple[tuple[str, str, _Reader], ...] = (
            ("duration_ms", "time_taken", _duration), ("status", "status", _w3c_status), ("bytes", "bytes", _int))
        for name, role, read in readers:
            text = get(values, role)
            try:
                numbers[name] = read(text)
            except (ValueError, OverflowError):
                ctx.reject(number, "row-number-invalid", line, field=name, value=_clip(text or ""))
                return None
        method = get(values, "method")
        if method is not None and not _is_token(method):
            ctx.reject(number, "row-malformed", line, detail=f"method: {_clip(method)!r}")
            return None
        url, domain = _w3c_url(layout, values, method)
        user = get(values, "user")
        client_ip = get(values, "client_ip")
        return {
            "agent": _agent(user, client_ip, ctx),
            "client_ip": client_ip,
            "time": when,
            "method": method,
            "url": url,
            "domain": domain,
            "category": get(values, "category"),
            "action": get(values, "filter_result") or get(values, "s_action"),
            "user_agent": get(values, "user_agent"),
            "referer": get(values, "referer"),
            **numbers,
        }

    def render(self, rows: Sequence[Mapping[str, Any]]) -> bytes:
        """A Blue Coat ProxySG main log: W3C header, then ``bcreportermain_v1`` lines in UTC."""
        first = rows[0]["time"].astimezone(UTC) if rows else datetime(2025, 1, 6, tzinfo=UTC)
        stamp = first.strftime("%Y-%m-%d %H:%M:%S")
        out = [
            "#Software: SGOS 6.7.5.3",
            "#Version: 1.0",
            f"#Start-Date: {stamp}",
            f"#Date: {stamp}",
            "#Fields: " + " ".join(BLUECOAT_FIELDS),
            "#Remark: 4008227011 \"PROXYSG-01\" \"192.0.2.10\" \"main\"",
        ]
        out.extend(" ".join(_w3c_quote(v) for v in _bluecoat_values(row)) for row in rows)
        return ("\r\n".join(out) + "\r\n").encode("utf-8")

    def row_strategy(self) -> Any:
        from hypothesis import strategies as st

        from auditor.testing.strategies import instants

        categories = st.sampled_from(["Technology/Internet", "News/Media", "Social Networking", "Health",
                                      "Web Ads/Analytics;Technology/Internet", "Job Search/Careers", "Games",
                                      "unavailable", "none"])
        user_agents = st.sampled_from([
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0",
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0",
            "Microsoft-CryptoAPI/10.0",
        ])

        @st.composite
        def rows(draw: Any) -> dict[str, Any]:
            method, url, domain = _url_parts(draw, ipv6=False)
            client_ip = str(draw(st.ip_addresses(v=4)))
            user = draw(st.none() | _logins())
            return {
                "agent": user or client_ip,
                "client_ip": client_ip,
                "time": draw(instants("s")),
                "duration_ms": draw(st.none() | st.integers(0, 10**7)),
                "method": method,
                "url": url,
                "domain": domain,
                "status": draw(st.none() | st.integers(100, 599)),
                "bytes": draw(st.none() | st.integers(0, 2**40)),
                "category": draw(st.none() | categories),
                "action": draw(st.sampled_from(["OBSERVED", "DENIED", "PROXIED"])),
                "user_agent": draw(st.none() | user_agents),
                "referer": _url_parts(draw, ipv6=False, method="GET")[1] if draw(st.booleans()) else None,
            }

        return rows()


def _int(text: str | None) -> int | None:
    return None if text is None else int64(text)


def _w3c_status(text: str | None) -> int | None:
    return None if text is None else _status(text)


def _w3c_quote(value: str) -> str:
    if not value:
        return "-"
    if len(value) > 1 and value[0] == value[-1] == '"':
        return value
    return f'"{value}"' if (" " in value or "\t" in value) else value


def _bluecoat_values(row: Mapping[str, Any]) -> list[str]:
    """One canonical row as the columns of :data:`BLUECOAT_FIELDS`."""
    when = row["time"].astimezone(UTC)
    method = row.get("method") or "GET"
    url = row.get("url") or ""
    action = row.get("action") or "OBSERVED"
    status = row.get("status")
    size = row.get("bytes")
    duration = row.get("duration_ms")
    scheme, host, port, path, query = _split_url(url, method)
    extension = path.rpartition("/")[2].rpartition(".")[2] if "." in path.rpartition("/")[2] else "-"
    if action.upper() in _FILTER_RESULTS:  # a Blue Coat verdict: the cache action follows from it
        verdict = action
        denied = action.upper() == "DENIED"
        cache = "TCP_DENIED" if denied else ("TCP_TUNNELED" if method == "CONNECT" else "TCP_NC_MISS")
    else:  # a squid-like cache action (TCP_MISS…): the verdict follows from it
        denied = "DENIED" in action.upper()
        verdict, cache = ("DENIED" if denied else "OBSERVED"), action
    return [
        when.strftime("%Y-%m-%d"), when.strftime("%H:%M:%S"), "-" if duration is None else str(duration),
        row.get("client_ip") or "-", _login_of(row) or "-", "-", "policy_denied" if denied else "-", verdict,
        f'"{row["category"]}"' if row.get("category") else "-", row.get("referer") or "-",
        "0" if status is None else str(status), cache, method,
        "-" if method == "CONNECT" else _mime(url, method), scheme, host or "-", port or "-", path or "-",
        query or "-", extension, row.get("user_agent") or "-", "192.0.2.10", "-" if size is None else str(size),
        "512", "-",
    ]


def _split_url(url: str, method: str) -> tuple[str, str, str, str, str]:
    """(scheme, host, port, path, query) of a logged URL, as Blue Coat splits it."""
    if method == "CONNECT" or "://" not in url:
        host, _, port = url.rpartition(":")
        if not host or not port.isdigit():
            host, port = url, "443"
        return "tcp", host, port, "/", ""
    scheme, _, rest = url.partition("://")
    cut = min((at for at in (rest.find("/"), rest.find("?")) if at >= 0), default=len(rest))
    authority, tail = rest[:cut], rest[cut:]
    path, mark, query = tail.partition("?")
    if authority.startswith("["):
        host, _, port = authority.partition("]")
        host, port = host + "]", port.lstrip(":")
    else:
        host, _, port = authority.partition(":")
    return scheme, host, port or _DEFAULT_PORTS.get(scheme.lower(), ""), path, (mark + query) if query else ""

