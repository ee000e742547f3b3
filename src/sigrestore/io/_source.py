"""Getting a file's bytes (plain or gzipped), writing them back, reading binary fields safely.

Every reader works on an in-memory ``bytes`` object: raw Affymetrix files are
at most a few tens of megabytes, and parsing from memory lets every field be
bounds-checked before it is used, so a truncated or corrupt file produces a
:class:`~sigrestore.errors.FormatError` instead of an ``IndexError`` or a
silently short array.
"""

from __future__ import annotations

import gzip
import os
import struct
import zlib
from pathlib import Path

import numpy as np

from sigrestore.atomic import atomic_path
from sigrestore.errors import FormatError

GZIP_MAGIC = b"\x1f\x8b"


# Low-level errors a corrupt size or field can raise inside a reader; the
# dispatchers turn them into a FormatError naming the file.
CORRUPT_DATA_ERRORS = (MemoryError, OverflowError, UnicodeError, struct.error)


class NeedMoreBytes(Exception):
    """Raised when a header parser ran past a partial read (header-only mode)."""


def _gunzip(raw: bytes, name: str, *, limit: int | None = None) -> bytes:
    """Decompress a (possibly multi-member) gzip stream, checking every CRC.

    With ``limit`` only about that many decompressed bytes are produced (used to
    read just a header); CRC and length are then not checked.  Running out of
    memory (a corrupt size or a "gzip bomb") is a :class:`FormatError` too:
    it happens here, before any reader's guard.
    """
    try:
        return _gunzip_members(raw, name, limit=limit)
    except MemoryError:
        raise FormatError(
            f"{name}: out of memory decompressing the gzip stream ({len(raw)} compressed "
            "bytes): a corrupt or maliciously compressed file?"
        ) from None


def _isal_inflate(data: bytes) -> tuple[bytes, bytes] | None:
    """One gzip member by ISA-L (about twice zlib's speed): its content and what follows.

    None when the member is corrupt or truncated; the caller then decodes it
    with zlib, whose messages the error reports use.
    """
    dec = _isal_zlib.decompressobj(wbits=31)
    try:
        chunk = dec.decompress(data)
    except _isal_zlib.error:
        return None
    return (chunk, dec.unused_data) if dec.eof else None


try:  # ISA-L's inflate (the ``isal`` wheel); plain zlib where it is not installed
    from isal import isal_zlib as _isal_zlib
except ImportError:  # pragma: no cover - isal is a dependency; kept for platforms without wheels
    _fast_inflate = None
else:
    _fast_inflate = _isal_inflate


def _gunzip_members(raw: bytes, name: str, *, limit: int | None) -> bytes:
    out: list[bytes] = []
    produced = 0
    data = raw
    while True:
        if limit is None and _fast_inflate is not None:
            fast = _fast_inflate(data)
            if fast is not None:
                chunk, rest = fast
                out.append(chunk)
                produced += len(chunk)
                if not rest or not rest.strip(b"\x00"):
                    return b"".join(out)
                if rest[:2] != GZIP_MAGIC:
                    raise FormatError(f"{name}: {len(rest)} bytes of garbage after the gzip stream")
                data = rest
                continue
            # Corrupt or truncated: zlib below says how, in its own words.
        dec = zlib.decompressobj(wbits=31)
        try:
            chunk = dec.decompress(data, limit) if limit is not None else dec.decompress(data)
        except zlib.error as exc:
            msg = str(exc)
            if "incorrect data check" in msg or "incorrect length check" in msg:
                raise FormatError(
                    f"{name}: gzip stream is corrupt: bad CRC or length ({msg})"
                ) from None
            raise FormatError(f"{name}: gzip stream is corrupt ({msg})") from None
        out.append(chunk)
        produced += len(chunk)
        if limit is not None and produced >= limit:
            return b"".join(out)
        if not dec.eof:
            if limit is not None:
                return b"".join(out)
            raise FormatError(
                f"{name}: gzip stream is truncated: {len(raw)} compressed bytes end before the "
                f"end-of-stream marker ({produced} bytes decompressed)"
            )
        rest = dec.unused_data
        # Trailing zero padding after the last member is tolerated, like gzip(1) does.
        if not rest or not rest.strip(b"\x00"):
            return b"".join(out)
        if rest[:2] != GZIP_MAGIC:
            raise FormatError(f"{name}: {len(rest)} bytes of garbage after the gzip stream")
        data = rest


def line_number(data: bytes, pos: int) -> int:
    """1-based number of the line holding byte offset ``pos`` (for error messages)."""
    return data.count(b"\n", 0, pos) + 1


def decode_content(raw: bytes, name: str) -> bytes:
    """The content of a file's bytes: gunzipped (CRC-checked) when gzipped."""
    return _gunzip(raw, name) if raw[:2] == GZIP_MAGIC else raw


def read_source(
    path: str | os.PathLike[str], *, limit: int | None = None
) -> tuple[bytes, bool, bool]:
    """Return ``(content, gzipped, complete)`` for ``path``.

    ``limit`` asks for (at least) the first ``limit`` bytes of the content only;
    ``complete`` tells whether the whole content was returned.
    """
    name = str(path)
    try:
        with open(path, "rb") as fh:
            if limit is None:
                raw = fh.read()
                if raw[:2] == GZIP_MAGIC:
                    return _gunzip(raw, name), True, True
                return raw, False, True
            head = fh.read(2)
            if head == GZIP_MAGIC:
                raw = head + fh.read()
                content = _gunzip(raw, name, limit=limit)
                complete = limit is None or len(content) < limit
                if complete and limit is not None:
                    # A short read in header mode: decompress fully to check the stream.
                    content = _gunzip(raw, name)
                return content, True, complete
            content = head + fh.read(max(limit - 2, 0))
            complete = len(content) < limit or fh.read(1) == b""
            return content, False, complete
    except FileNotFoundError:
        raise FormatError(f"{name}: no such file") from None
    except IsADirectoryError:
        raise FormatError(f"{name}: is a directory, not a file") from None
    except OSError as exc:
        raise FormatError(f"{name}: cannot read: {exc.strerror or exc}") from None


def write_output(path: str | os.PathLike[str], raw: bytes, *, compresslevel: int = 9) -> None:
    """Write ``raw`` to ``path`` atomically, gzipped when ``path`` ends with ``.gz``."""
    with atomic_path(path) as tmp:
        if str(path).endswith(".gz"):
            # mtime=0 keeps the output byte-identical between runs.
            with (
                open(tmp, "wb") as fh,
                gzip.GzipFile(
                    filename="", mode="wb", fileobj=fh, compresslevel=compresslevel, mtime=0
                ) as gz,
            ):
                gz.write(raw)
        else:
            tmp.write_bytes(raw)


class Buffer:
    """Bounds-checked little/big-endian reads from a byte string.

    Parameters
    ----------
    data
        The file content (or a prefix of it when ``complete`` is false).
    name
        File name used in error messages.
    endian
        ``"<"`` (XDA) or ``">"`` (Command Console).
    complete
        False when ``data`` is only the start of the file: running past its end
        then raises :class:`NeedMoreBytes` instead of a truncation error.
    """

    def __init__(self, data: bytes, name: str, endian: str, *, complete: bool = True) -> None:
        self.data = data
        self.name = name
        self.endian = endian
        self.complete = complete
        self.pos = 0

    def need(self, n: int, what: str, *, at: int | None = None) -> int:
        """Check that ``n`` bytes are available at ``at`` (default: the cursor)."""
        start = self.pos if at is None else at
        if n < 0:
            raise FormatError(f"{self.name}: {what}: negative size {n}")
        if start < 0 or start + n > len(self.data):
            if not self.complete:
                raise NeedMoreBytes
            avail = max(len(self.data) - start, 0)
            raise FormatError(
                f"{self.name}: file is truncated in {what}: expected {n} bytes at offset "
                f"{start}, only {avail} available (file has {len(self.data)} bytes)"
            )
        return start

    def seek(self, pos: int, what: str) -> None:
        if pos < 0 or pos > len(self.data):
            if not self.complete and pos > 0:
                raise NeedMoreBytes
            raise FormatError(
                f"{self.name}: {what} points to offset {pos}, past the end of the file "
                f"({len(self.data)} bytes)"
            )
        self.pos = pos

    def unpack(self, fmt: str, what: str) -> tuple:
        full = self.endian + fmt
        size = struct.calcsize(full)
        start = self.need(size, what)
        self.pos = start + size
        return struct.unpack_from(full, self.data, start)

    def one(self, fmt: str, what: str):
        return self.unpack(fmt, what)[0]

    def raw(self, n: int, what: str) -> bytes:
        start = self.need(n, what)
        self.pos = start + n
        return self.data[start : start + n]

    def string(self, what: str, *, char_size: int = 1) -> bytes:
        """A string stored as an int32 character count, then the characters.

        ``char_size`` is 2 for the UTF-16 strings of Command Console files.
        """
        n = self.one("i", f"{what} length")
        if n < 0:
            raise FormatError(f"{self.name}: {what}: negative length {n}")
        return self.raw(char_size * n, what)

    def array(self, dtype: np.dtype | str, count: int, what: str) -> np.ndarray:
        """``count`` items of ``dtype`` (endianness from the buffer) at the cursor."""
        dt = np.dtype(dtype)
        if dt.fields is None and dt.itemsize > 1:
            dt = dt.newbyteorder(self.endian)
        if count < 0:
            raise FormatError(f"{self.name}: {what}: negative count {count}")
        start = self.need(dt.itemsize * count, what)
        self.pos = start + dt.itemsize * count
        return np.frombuffer(self.data, dtype=dt, count=count, offset=start)


def describe_content(data: bytes) -> str:
    """A short guess at what a non-Affymetrix file is, for error messages."""
    head = data[:512].lstrip()
    low = head.lower()
    if not data:
        return "the file is empty"
    if head.startswith(b"\x89PNG"):
        return "it looks like a PNG image"
    if head[:3] == b"\xff\xd8\xff":
        return "it looks like a JPEG image"
    if head.startswith(b"%PDF"):
        return "it looks like a PDF document"
    if head.startswith(b"PK\x03\x04"):
        return "it looks like a ZIP archive"
    if low.startswith((b"<!doctype html", b"<html")) or b"<html" in low:
        return "it looks like an HTML page (a failed download?)"
    if low.startswith(b"<?xml"):
        return "it looks like an XML document"
    if head.startswith(b"[CHP]") or head.startswith(b"GeneChip Sequence File"):
        return "it looks like a CHP (analysis result) file, not raw data"
    if len(data) >= 4 and struct.unpack_from("<i", data)[0] == 65:
        return "it looks like an XDA CHP (analysis result) file, not raw data"
    return f"it starts with {data[:16]!r}"


def file_label(path: str | os.PathLike[str]) -> str:
    return str(Path(path))
