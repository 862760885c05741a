"""A ZIP member compressed while it is written elsewhere, added to the archive whole.

A ZIP has one open member at a time, so the export spools a section's CSV while its
JSON streams into the archive. Deflating the spooled CSV only when it is copied in was a
tenth of an export's time with nothing else to do; `DeflatedSpool` deflates each piece
as it is spooled (in the writer thread, beside the JSON) with the archive's own settings,
and `add_to` copies the finished stream into the archive without compressing it again.
"""

from __future__ import annotations

import contextlib
import tempfile
import zipfile
import zlib
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO

COPY_CHUNK = 1 << 20


class _AlreadyDeflated:
    """Stands in for a member's compressor: the data written is deflated already."""

    def compress(self, data: bytes) -> bytes:
        return data

    def flush(self) -> bytes:
        return b""


def _takes_deflated(member: Any) -> bool:
    """Whether this Python's ZIP member writer has the fields `add_to` sets (CPython
    3.6 and later); otherwise the spool is inflated and written the ordinary way."""
    writer = getattr(zipfile, "_ZipWriteFile", None)
    return (
        writer is not None
        and isinstance(member, writer)
        and all(hasattr(member, field) for field in ("_compressor", "_crc", "_file_size"))
    )


class DeflatedSpool:
    """A temporary file holding raw deflate data, with the CRC and size of what went in."""

    def __init__(self, folder: Path, level: int) -> None:
        self._file: BinaryIO = tempfile.TemporaryFile(dir=folder)  # noqa: SIM115 - closed in close()
        self._deflate = zlib.compressobj(level, zlib.DEFLATED, -zlib.MAX_WBITS)
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
        member: Any
        with archive.open(name, "w", force_zip64=True) as member:
            if not _takes_deflated(member):
                inflate = zlib.decompressobj(-zlib.MAX_WBITS)
                while chunk := self._file.read(COPY_CHUNK):
                    member.write(inflate.decompress(chunk))
                member.write(inflate.flush())
                return
            member._compressor = _AlreadyDeflated()
            while chunk := self._file.read(COPY_CHUNK):
                member.write(chunk)  # counts the deflated bytes as the compressed size
            member._crc = self._crc  # the header states the CRC and size of the plain data
            member._file_size = self._size

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
