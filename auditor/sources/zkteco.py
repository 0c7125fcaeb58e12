"""ZKTeco terminal ``attlog.dat``: one punch per tab-separated line, naive local time.

Two layouts reach us and the number of fields tells them apart:

* the file a terminal writes to a USB stick (``<device id>_attlog.dat`` or ``<serial>_attlog.dat``),
  six fields: right-aligned padded user ID, ``YYYY-MM-DD HH:MM:SS``, device ID, status (in/out mode),
  verify type, work code — the order of ZKTeco's own ``UDisk.GetAttLogFromDat``/``SetAttLogToDat``;
  real files show it too (the in/out pattern lives in the fourth field, the third is constant);
* the ``ATTLOG`` records of the terminal's PUSH protocol saved to a file, seven fields or more:
  user ID, time, status, verify type, work code, reserved…

Duplicate punches seconds apart are real (an agent badging twice): they are all kept.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import PurePath
from typing import Any, ClassVar

import pyarrow as pa

from auditor.sources.base import Head, ParseContext, Parser, Source
from auditor.sources.registry import register

#: Status (in/out mode): 0 check-in, 1 check-out, 2 break-out, 3 break-in, 4 overtime-in, 5 overtime-out.
DIRECTIONS = {0: "in", 1: "out", 2: "out", 3: "in", 4: "in", 5: "out"}

#: Verify types, from the verify-mode table of ZKTeco's PUSH protocol: what the agent presented.
_PASSWORD = (0, 3)
_BADGE = (2, 4, 7, 11)
_BIOMETRIC = (1, 5, 6, 8, 9, 10, 12, 13, 14, *range(15, 30))
METHODS: dict[int, str] = {
    **{c: "password" for c in _PASSWORD},
    **{c: "badge" for c in _BADGE},
    **{c: "biometric" for c in _BIOMETRIC},
}

_TIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
#: Possessive quantifiers keep the match linear: ``[^\t]*\S[^\t]*`` backtracked quadratically on a long line
#: without tabs (a 64 KB head took seconds to sniff).
_LINE = re.compile(r"^[^\S\t]*+\S[^\t]*+\t\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(?:\t *+-?[\d.]*+){2,}+\s*$")
_TERMINAL = re.compile(r"^(?P<terminal>[^_]+)_attlog\.dat$", re.IGNORECASE)

USB_FIELDS = 6
PUSH_MIN_FIELDS = 7
MIN_FIELDS = 4


def _int(text: str) -> int | None:
    text = text.strip()
    return int(text) if text else None


def _layout(fields: Sequence[str]) -> tuple[str, str | None, str, str | None]:
    """(layout, device, status, verify) of one line's fields."""
    if len(fields) >= PUSH_MIN_FIELDS:
        return "push", None, fields[2], fields[3]
    return "usb", fields[2], fields[3], fields[4] if len(fields) > MIN_FIELDS else None


@register
class ZKTecoAttlog(Parser):
    name = "zkteco-attlog"
    kind = "clock_events"
    tool = "zkteco"
    patterns = ("*_attlog.dat", "*attlog*.dat")
    title: ClassVar[dict[str, str]] = {
        "fr": "Badgeuse ZKTeco : fichier de pointages attlog.dat",
        "en": "ZKTeco time clock: attlog.dat punch file",
    }
    blind_spots: ClassVar[dict[str, str]] = {
        "fr": "Le fichier ne donne ni le nom de l’agent (seulement son numéro sur la badgeuse), ni le lieu : "
              "au mieux le numéro du terminal. L’heure est celle de l’horloge du terminal, sans fuseau, "
              "et peut dériver. Le sens (entrée, sortie) est celui choisi à l’écran ou imposé par le "
              "terminal, pas une mesure. Le mode de vérification (empreinte, visage, badge, code) est un "
              "code dont le sens varie selon les micrologiciels ; les gabarits biométriques eux-mêmes ne "
              "sont pas dans ce fichier.",
        "en": "The file gives neither the agent’s name (only their number on the terminal) nor the place: "
              "at best the terminal number. Times come from the terminal’s clock, without a zone, and can "
              "drift. The direction (in, out) is what was chosen on screen or set by the terminal, not a "
              "measurement. The verify mode (fingerprint, face, card, code) is a code whose meaning varies "
              "between firmwares; the biometric templates themselves are not in this file.",
    }
    roundtrip_fields = ("agent", "time", "direction", "method", "reader")

    def sniff(self, head: Head) -> float:
        lines = head.text.splitlines()
        if not head.complete and lines:
            lines = lines[:-1]  # the last line may be cut
        sample = [line for line in lines if line.strip()][:20]
        if not sample:
            return 0.0
        matching = sum(1 for line in sample if _LINE.match(line))
        if matching == len(sample):
            return 0.9
        return 0.6 if matching >= 0.6 * len(sample) else 0.0

    def parse(self, source: Source, ctx: ParseContext) -> Iterator[pa.RecordBatch]:
        builder = ctx.builder(self.kind)
        match = _TERMINAL.match(PurePath(source.name).name)
        if match:
            ctx.notes["terminal"] = match.group("terminal")
        layouts: Counter[str] = Counter()
        verify_codes: Counter[str] = Counter()
        for number, line in source.lines(ctx):
            if not line.strip():
                continue
            ctx.rows_in += 1
            values = self._row(number, line, ctx, layouts, verify_codes)
            if values is None:
                continue
            batch = builder.add(number, values, raw=line)
            if batch is not None:
                yield batch
        yield from builder.finish()
        if layouts:
            ctx.notes["layout"] = dict(sorted(layouts.items()))
        if verify_codes:
            ctx.notes["verify_codes"] = dict(sorted(verify_codes.items()))

    def _row(
        self, number: int, line: str, ctx: ParseContext, layouts: Counter[str], verify_codes: Counter[str]
    ) -> dict[str, Any] | None:
        fields = line.split("\t")
        if len(fields) < MIN_FIELDS:
            ctx.reject(number, "row-field-count", line, found=len(fields), expected=USB_FIELDS)
            return None
        stamp = fields[1].strip()
        try:
            naive = datetime.fromisoformat(stamp) if _TIME.match(stamp) else None
            when = ctx.time(naive)
        except (ValueError, OverflowError):
            naive = when = None
        if naive is None:
            ctx.reject(number, "row-time-invalid", line, field="time", value=stamp[:40])
            return None
        layout, device, status_text, verify_text = _layout(fields)
        try:
            status = _int(status_text)
            verify = _int(verify_text) if verify_text is not None else None
        except ValueError:
            ctx.reject(number, "row-number-invalid", line, field="status/verify",
                       value=f"{status_text.strip()}/{(verify_text or '').strip()}"[:40])
            return None
        layouts[layout] += 1
        if verify is not None:
            verify_codes[str(verify)] += 1
        return {
            "agent": fields[0].strip(),
            "time": when,
            "direction": DIRECTIONS.get(status, "unknown") if status is not None else "unknown",
            "method": METHODS.get(verify) if verify is not None else None,
            "reader": (device or "").strip() or None,
        }

    # --- writer ----------------------------------------------------------------------------------
    def render(self, rows: Sequence[Mapping[str, Any]]) -> bytes:
        """The USB layout: padded ID, naive Paris time, device, status, verify, work code; LF ends."""
        from auditor.testing.strategies import PARIS

        status = {"in": 0, "out": 1}
        verify = {"password": 0, "biometric": 1, "badge": 2}
        out = []
        for row in rows:
            when = row["time"].astimezone(PARIS).strftime("%Y-%m-%d %H:%M:%S")
            reader = str(row.get("reader") or "")
            device = reader if reader.isdigit() else "1"
            out.append(
                f"{row['agent']:>9}\t{when}\t{device}\t{status.get(row.get('direction') or '', 255)}"
                f"\t{verify.get(row.get('method') or '', 200)}\t0\n"
            )
        # A terminal with no punch writes an empty file; one newline keeps it loadable (empty files are refused).
        return ("".join(out) or "\n").encode("utf-8")

    def row_strategy(self) -> Any:
        from hypothesis import strategies as st

        from auditor.testing.strategies import instants, through_wall_clock

        return st.fixed_dictionaries({
            "agent": st.from_regex(r"[1-9][0-9]{0,8}", fullmatch=True),
            "time": instants("s").map(through_wall_clock),
            "direction": st.sampled_from(["in", "out", "unknown"]),
            "method": st.sampled_from(["password", "biometric", "badge", None]),
            "reader": st.integers(min_value=1, max_value=999).map(str),
        })
