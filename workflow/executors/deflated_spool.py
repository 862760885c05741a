"""Deflating an export's ZIP members fast, and one while another is being written.

A ZIP has one open member at a time, so the export spools a section's CSV while its
JSON streams into the archive. Deflating the spooled CSV only when it is copied in was a
tenth of an export's time with nothing else to do; `DeflatedSpool` deflates each piece
as it is spooled (in the writer thread, beside the JSON), and `add_to` copies the
finished stream into the archive without compressing it again. Both it and the members
written directly (`speed_up`) deflate with zlib-ng, where it is installed.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import io
import logging
import tempfile
import zipfile
import zlib
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import IO, Any, BinaryIO, cast

_fast: Any
try:
    _fast = importlib.import_module("zlib_ng.zlib_ng")
except ImportError:  # a platform without its wheel: zlib, a little slower
    _fast = None

COPY_CHUNK = 1 << 20
# zlib-ng at level 2 deflated a 200,000-message export in 0.16 s into 8.7 MB; zlib at
# level 1 (the fastest it has) took 0.28 s for 9.5 MB.
LEVEL = 2 if _fast is not None else 1
log = logging.getLogger(__name__)


class _AlreadyDeflated:
    """Stands in for a member's compressor: the data written is deflated already."""

    def compress(self, data: bytes) -> bytes:
        return data

    def flush(self) -> bytes:
        return b""


def _copy_deflated(member: Any, chunks: Iterable[bytes], crc: int, size: int) -> None:
    """Write deflated `chunks` into an open member of a deflating archive as they are,
    stating the CRC and size of the plain data they hold (through the member writer's
    own fields: zipfile has no public way)."""
    member._compressor = _AlreadyDeflated()
    for chunk in chunks:
        member.write(chunk)  # counted as the compressed size
    member._crc = crc
    member._file_size = size


@functools.cache
def _copy_works() -> bool:
    """Whether this Python's zipfile takes `_copy_deflated`: tried once on a small archive
    in memory. If not, the spool is inflated and written the ordinary way."""
    plain = b"a probe, " * 100
    deflate = zlib.compressobj(1, zlib.DEFLATED, -zlib.MAX_WBITS)
    buffer = io.BytesIO()
    try:
        raw = deflate.compress(plain) + deflate.flush()
        with (
            zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive,
            archive.open("probe", "w") as member,
        ):
            _copy_deflated(member, [raw], zlib.crc32(plain), len(plain))
        with zipfile.ZipFile(buffer) as archive:
            works = archive.read("probe") == plain
    except Exception as exc:  # any failure means: not on this Python
        log.warning("export: zipfile does not take deflated data (%s)", type(exc).__name__)
        return False
    if not works:
        log.warning("export: zipfile does not take deflated data (read back differs)")
    return works


def compressor() -> Any:
    """A raw-deflate compressor, as a ZIP member's data is deflated."""
    return (_fast or zlib).compressobj(LEVEL, zlib.DEFLATED, -zlib.MAX_WBITS)


def speed_up(member: IO[bytes]) -> None:
    """Deflate an archive member just opened for writing with `compressor()`, where
    zlib-ng is installed and this Python's zipfile takes a compressor swapped in."""
    if _fast is not None and _copy_works():
        cast(Any, member)._compressor = compressor()


class DeflatedSpool:
    """A temporary file holding raw deflate data, with the CRC and size of what went in."""

    def __init__(self, folder: Path) -> None:
        self._file: BinaryIO = tempfile.TemporaryFile(dir=folder)  # noqa: SIM115 - closed in close()
        self._deflate = compressor()
        self._crc = 0
        self._size = 0

    def write(self, data: bytes) -> None:
        """Deflate and spool `data` (blocking: run it off the event loop)."""
        self._crc = zlib.crc32(data, self._crc)
        self._size += len(data)
        self._file.write(self._deflate.compress(data))

    def add_to(self, archive: zipfile.ZipFile, name: str) -> None:
        """Finish the stream and copy it into `archive` as `name` (blocking)."""
        self._file.write(self._deflate.flush())
        self._file.seek(0)
        if archive.compression != zipfile.ZIP_DEFLATED:
            raise ValueError("the archive does not deflate its members")
        chunks = iter(lambda: self._file.read(COPY_CHUNK), b"")
        with archive.open(name, "w", force_zip64=True) as member:
            if _copy_works():
                _copy_deflated(member, chunks, self._crc, self._size)
                return
            inflate = zlib.decompressobj(-zlib.MAX_WBITS)
            for chunk in chunks:
                member.write(inflate.decompress(chunk))
            member.write(inflate.flush())

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._file.close()

    def __enter__(self) -> DeflatedSpool:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()
