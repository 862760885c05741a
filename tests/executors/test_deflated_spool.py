"""A CSV deflated while spooled lands in the archive as if written there: same bytes out,
a CRC the reader checks, and the archive's other members untouched; with zlib-ng or
without, on a zipfile that takes the copy or one that does not."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from workflow.executors import deflated_spool
from workflow.executors.deflated_spool import DeflatedSpool

PIECES = [b"id,text\r\n", *(f'{n},"line {n}, with æøå"\r\n'.encode() for n in range(20_000))]


def _archive_with_spool(path: Path, folder: Path) -> None:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        with DeflatedSpool(folder) as spool:
            with archive.open("first.json", "w") as member:
                deflated_spool.speed_up(member)
                for piece in PIECES:
                    member.write(piece)
                    spool.write(piece)
            spool.add_to(archive, "second.csv")
        archive.writestr("last.txt", "after")


@pytest.mark.parametrize("raw_copy", [True, False], ids=["deflated-copy", "inflated-fallback"])
@pytest.mark.parametrize("fast", [True, False], ids=["zlib-ng", "zlib"])
def test_the_spooled_member_reads_back_whole_and_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, raw_copy: bool, fast: bool
) -> None:
    if not raw_copy:  # a Python whose member writer lacks the fields the copy sets
        monkeypatch.setattr(deflated_spool, "_copy_works", lambda: False)
    if not fast:  # a platform without zlib-ng
        monkeypatch.setattr(deflated_spool, "_fast", None)
        monkeypatch.setattr(deflated_spool, "LEVEL", 1)
    path = tmp_path / "out.zip"
    _archive_with_spool(path, tmp_path)
    with zipfile.ZipFile(path) as archive:
        assert archive.testzip() is None  # every member's CRC matches its data
        info = archive.getinfo("second.csv")
        assert info.compress_type == zipfile.ZIP_DEFLATED
        assert info.file_size == sum(map(len, PIECES)) > info.compress_size
        assert archive.read("second.csv") == archive.read("first.json") == b"".join(PIECES)
        assert archive.read("last.txt") == b"after"
    assert [p.name for p in tmp_path.iterdir()] == ["out.zip"]  # the spool is gone


def test_this_python_takes_the_deflated_copy_and_zlib_ng() -> None:
    assert deflated_spool._copy_works()  # else exports deflate their CSV twice
    assert deflated_spool._fast is not None  # a dependency: else exports deflate slower
