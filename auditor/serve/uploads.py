"""Receive a multipart form straight into the session's private folder, within size limits.

python-multipart parses the stream; each file goes to its own sub-folder (two exports may share a name),
with mode 0600, and only once the form's CSRF field has been checked. A file or a form over its limit is
discarded while the rest of the body is still read, so the browser receives the explanation.
"""

from __future__ import annotations

import hmac
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

MIB = 1024 * 1024
_UNSAFE = re.compile(r"[^\w.\- ()+,@']+")


@dataclass(frozen=True)
class Limits:
    file_bytes: int = 200 * MIB
    total_bytes: int = 1024 * MIB
    files: int = 1000
    field_bytes: int = 4096


@dataclass
class Form:
    """The text fields, the files saved (path, name as the user knows it), and what was refused."""

    fields: dict[str, str] = field(default_factory=dict)
    files: list[tuple[Path, str]] = field(default_factory=list)
    too_large: list[str] = field(default_factory=list)
    total_exceeded: bool = False
    csrf_ok: bool = False


class NotMultipart(ValueError):
    """The request is not a multipart form."""


def safe_name(name: str) -> str:
    """The last component of a browser-given file name, reduced to harmless characters."""
    base = re.split(r"[\\/]", name)[-1]
    cleaned = _UNSAFE.sub("_", base).strip(" .")[:120]
    return cleaned or "upload"


class _Receiver:
    """python-multipart callbacks that fill a ``Form``."""

    def __init__(self, folder: Path, limits: Limits, csrf: str) -> None:
        self.folder, self.limits, self.csrf = folder, limits, csrf
        self.form = Form()
        self.header_field = b""
        self.headers: dict[bytes, bytes] = {}
        self.name = ""
        self.filename: str | None = None
        self.value = bytearray()
        self.handle: IO[bytes] | None = None
        self.path: Path | None = None
        self.size = 0
        self.discard = False
        self.made = 0  # sub-folders made so far, one per file kept or tried

    def on_part_begin(self) -> None:
        self.headers, self.value, self.size, self.discard = {}, bytearray(), 0, False
        self.handle = self.path = None

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self.header_field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        key = self.header_field.lower()
        self.headers[key] = self.headers.get(key, b"") + data[start:end]

    def on_header_end(self) -> None:
        self.header_field = b""

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self.headers.get(b"content-disposition", b""))
        self.name = options.get(b"name", b"").decode("utf-8", "replace")
        raw = options.get(b"filename")
        self.filename = raw.decode("utf-8", "replace") if raw is not None else None
        if self.filename is None:
            return
        if not self.filename or not self.form.csrf_ok or len(self.form.files) >= self.limits.files:
            self.discard = True
            return
        self.made += 1
        sub = self.folder / f"{self.made:04d}"
        sub.mkdir(mode=0o700)
        self.path = sub / safe_name(self.filename)
        self.handle = os.fdopen(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb")

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        self.size += len(chunk)
        if self.filename is None:
            if len(self.value) + len(chunk) <= self.limits.field_bytes:
                self.value += chunk
            return
        if self.handle is None or self.discard:
            return
        if self.size > self.limits.file_bytes:
            self.drop()
            self.form.too_large.append(self.filename)
            return
        self.handle.write(chunk)

    def on_part_end(self) -> None:
        if self.filename is None:
            text = self.value.decode("utf-8", "replace")
            self.form.fields[self.name] = text
            if self.name == "csrf":
                self.form.csrf_ok = hmac.compare_digest(text.encode(), self.csrf.encode())
            return
        if self.handle is not None and self.path is not None:
            self.handle.close()
            if self.size == 0 or self.discard:
                self.path.unlink()
            else:
                self.form.files.append((self.path, self.filename))
        self.handle = None

    def drop(self) -> None:
        self.discard = True
        if self.handle is not None and self.path is not None:
            self.handle.close()
            self.path.unlink()
        self.handle = None

    def drop_all(self) -> None:
        self.drop()
        for path, _ in self.form.files:
            path.unlink(missing_ok=True)
        self.form.files = []


async def receive(request: Request, folder: Path, limits: Limits, csrf: str) -> Form:
    """Read the whole body; files land in ``folder`` only when the CSRF field (sent first) is valid."""
    content_type, options = parse_options_header(request.headers.get("content-type", ""))
    boundary = options.get(b"boundary")
    if content_type != b"multipart/form-data" or not boundary:
        raise NotMultipart(content_type.decode("latin-1"))
    receiver = _Receiver(folder, limits, csrf)
    callbacks = {name: getattr(receiver, name) for name in (
        "on_part_begin", "on_header_field", "on_header_value", "on_header_end", "on_headers_finished",
        "on_part_data", "on_part_end")}
    parser = MultipartParser(boundary, callbacks)  # type: ignore[arg-type]
    total = 0
    try:
        async for chunk in request.stream():
            total += len(chunk)
            if total > limits.total_bytes:
                if not receiver.form.total_exceeded:
                    receiver.form.total_exceeded = True
                    receiver.drop_all()
                continue  # keep reading, so the browser gets our answer instead of a reset
            parser.write(chunk)
        if not receiver.form.total_exceeded:
            parser.finalize()
    finally:
        if receiver.handle is not None:  # a truncated body: nothing half-written stays behind
            receiver.drop()
    return receiver.form
