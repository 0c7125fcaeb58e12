"""Zip archives: members read in place, unsafe archives refused with a reason naming the archive."""

from __future__ import annotations

import io
import stat
import zipfile
from pathlib import Path

import pytest

from auditor import api
from auditor.errors import InputError


def _zip(entries: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_members_become_sources_in_name_order(tmp_path: Path) -> None:
    path = tmp_path / "exports.zip"
    path.write_bytes(_zip({"b/second.txt": b"two", "a/first.txt": b"one", "__MACOSX/._x": b"junk"}))
    found = api.sources([path])
    assert [s.name for s, _ in found] == ["exports.zip:a/first.txt", "exports.zip:b/second.txt"]
    assert [s.basename for s, _ in found] == ["first.txt", "second.txt"]
    with found[0][0].open_binary() as stream:
        assert stream.read() == b"one"


def test_nested_archive_is_opened_once_more(tmp_path: Path) -> None:
    path = tmp_path / "outer.zip"
    path.write_bytes(_zip({"inner.zip": _zip({"data.txt": b"hello"})}))
    [(source, explicit)] = api.sources([path])
    assert source.name == "outer.zip:inner.zip:data.txt"
    assert not explicit
    with source.open_binary() as stream:
        assert stream.read() == b"hello"


@pytest.mark.parametrize(
    ("name", "detail"),
    [("../evil.txt", "leaves the archive"), ("/etc/passwd", "leaves the archive"), ("C:/x.txt", "leaves")],
)
def test_paths_leaving_the_archive_are_refused(tmp_path: Path, name: str, detail: str) -> None:
    path = tmp_path / "bad.zip"
    path.write_bytes(_zip({name: b"x"}))
    with pytest.raises(InputError) as error:
        api.sources([path])
    assert error.value.code == "archive-unsafe"
    assert detail in error.value.render("en")


def test_symlink_member_is_refused(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        info = zipfile.ZipInfo("link")
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(info, "/etc/passwd")
    path = tmp_path / "link.zip"
    path.write_bytes(buffer.getvalue())
    with pytest.raises(InputError, match="symbolic link"):
        api.sources([path])


def test_zip_bomb_ratio_is_refused_before_decompressing(tmp_path: Path) -> None:
    path = tmp_path / "bomb.zip"
    path.write_bytes(_zip({"zeros.txt": b"\0" * (40 << 20)}))
    with pytest.raises(InputError, match="ratio"):
        api.sources([path])


def test_too_many_entries_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from auditor.io import archive

    monkeypatch.setattr(archive, "LIMITS", archive.Limits(max_entries=3))
    path = tmp_path / "many.zip"
    path.write_bytes(_zip({f"f{i}.txt": b"x" for i in range(5)}))
    with pytest.raises(InputError, match="entries"):
        api.sources([path])


def test_broken_zip_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "cut.zip"
    path.write_bytes(_zip({"a.txt": b"abc" * 1000})[:40])
    with pytest.raises(InputError) as error:
        api.sources([path])
    assert error.value.code == "archive-unsafe"


def test_office_documents_are_files_not_archives(tmp_path: Path) -> None:
    path = tmp_path / "export.xlsx"
    path.write_bytes(_zip({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>"}))
    [(source, explicit)] = api.sources([path])
    assert source.name == "export.xlsx" and explicit


def test_member_without_a_name_is_refused(tmp_path: Path) -> None:
    data = bytearray(_zip({"x.txt": b"abc"}))
    data[data.index(b"x.txt")] = 0  # local header
    data[data.rindex(b"x.txt")] = 0  # central directory
    path = tmp_path / "nul.zip"
    path.write_bytes(bytes(data))
    with pytest.raises(InputError) as error:
        api.sources([path])
    assert error.value.code == "archive-unsafe"
