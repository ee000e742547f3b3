"""Open a GEO text file (plain or gzip) with errors that name the file.

GEO serves ``.txt.gz`` / ``.soft.gz`` files; users also keep them unpacked.
Two failure modes are common enough to recognise: an HTML error page saved
under a GEO file name (a failed download through a proxy or a captive portal),
and a gzip file cut short by an interrupted transfer.
"""

from __future__ import annotations

import contextlib
import gzip
import os
import re
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from sigrestore.errors import FormatError
from sigrestore.textio import decompressed

__all__ = [
    "CHUNK_BYTES",
    "BlockReader",
    "check_not_html",
    "decode_line",
    "open_text_binary",
    "read_all",
    "truncated_gzip",
]

CHUNK_BYTES = 1 << 24  # decompress 16 MiB at a time
#: Errors gzip raises on a truncated or corrupt member.
GZIP_ERRORS = (EOFError, zlib.error, gzip.BadGzipFile)


@contextlib.contextmanager
def open_text_binary(path: str | os.PathLike[str]) -> Iterator[BinaryIO]:
    """The decompressed bytes of ``path`` (gzip detected from its magic bytes)."""
    path = Path(path)
    try:
        fh = path.open("rb")
    except OSError as exc:
        raise FormatError(f"{path}: cannot read the file ({exc.strerror})") from None
    with fh, decompressed(fh) as stream:
        yield stream


def check_not_html(first: bytes, path: str | os.PathLike[str]) -> None:
    """Refuse an HTML page saved under a GEO file name (a failed download)."""
    head = first.lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html", b"<?xml", b"<head", b"<body")):
        raise FormatError(
            f"{path}: line 1: this is an HTML page, not a GEO file (a failed or redirected "
            "download?); download the file again (sigrestore geo fetch) or by hand"
        )


def read_all(fh: BinaryIO, path: str | os.PathLike[str], lines_before: int) -> bytes:
    """The rest of ``fh``; a truncated gzip is a FormatError naming the last line read."""
    parts: list[bytes] = []
    try:
        while True:
            block = fh.read(CHUNK_BYTES)
            if not block:
                break
            parts.append(block)
    except GZIP_ERRORS as exc:
        done = lines_before + sum(p.count(b"\n") for p in parts)
        raise truncated_gzip(path, done + 1, exc) from None
    return b"".join(parts)


def truncated_gzip(path: str | os.PathLike[str], line: int, exc: BaseException) -> FormatError:
    """The error for gzip data that end early or are corrupt, at 1-based ``line``."""
    return FormatError(
        f"{path}: line {line}: the gzip data end early or are corrupt ({exc}); the "
        "file is truncated (an interrupted download?): download it again"
    )


_TABLE_END = re.compile(rb"^![A-Za-z]+_table_end[ \t\r]*$", re.MULTILINE)


class BlockReader:
    """Lines of a binary stream, read in large blocks, and whole tables in one piece.

    SOFT files are mostly tables: handing a table's bytes over in one slice
    (found with a regular expression on the block, not line by line) keeps
    the Python work per file proportional to its header lines.

    Attributes
    ----------
    line : int
        1-based number of the last line returned (a table counts its lines).
    """

    def __init__(self, fh: BinaryIO) -> None:
        self._fh = fh
        self._buf = b""
        self._pos = 0
        self._eof = False
        self.line = 0

    def _fill(self) -> bool:
        """Append a block; False at the end of the stream."""
        if self._eof:
            return False
        block = self._fh.read(CHUNK_BYTES)
        if not block:
            self._eof = True
            return False
        self._buf = self._buf[self._pos :] + block
        self._pos = 0
        return True

    def readline(self) -> bytes | None:
        """The next line (with its newline), or None at the end."""
        while True:
            end = self._buf.find(b"\n", self._pos)
            if end >= 0:
                line = self._buf[self._pos : end + 1]
                self._pos = end + 1
                self.line += 1
                return line
            if not self._fill():
                if self._pos < len(self._buf):
                    line = self._buf[self._pos :]
                    self._pos = len(self._buf)
                    self.line += 1
                    return line
                return None

    def read_table(self) -> tuple[bytes, bool]:
        """The bytes up to a ``!..._table_end`` line (consumed); False if the stream ends first."""
        start_search = self._pos
        while True:
            match = _TABLE_END.search(self._buf, start_search)
            if match is not None:
                body = self._buf[self._pos : match.start()]
                self.line += body.count(b"\n") + 1
                self._pos = min(match.end() + 1, len(self._buf))
                return body, True
            # Search again from a little before the old end (a marker split by the block edge).
            start_search = max(self._pos, len(self._buf) - 64) - self._pos
            if not self._fill():
                body = self._buf[self._pos :]
                self.line += body.count(b"\n")
                self._pos = len(self._buf)
                return body, False


def decode_line(raw: bytes) -> str:
    """A header line without its line ending, as UTF-8 or, failing that, Latin-1."""
    text = raw.rstrip(b"\r\n")
    try:
        return text.decode("utf-8")
    except UnicodeDecodeError:
        return text.decode("latin-1")
