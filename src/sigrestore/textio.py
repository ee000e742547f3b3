"""Readers of the user's text files (sample sheets, YAML configs) with errors that point.

Encoding policy for tab-separated sheets: UTF-8, with or without a byte-order
mark (Excel's "UTF-8 CSV"), and UTF-16 with a byte-order mark (Excel's
"Unicode text") are read.  Anything else -- typically Latin-1 / Windows-1252
from "Text (Tab delimited)" on Windows -- is refused with a
:class:`~sigrestore.errors.ConfigError` naming the file, the line, the column
and the byte, and how to fix it.  Guessing Latin-1 would read any byte
sequence "successfully", so a sample name could silently change spelling
(``Müller`` in one file, ``MÃ¼ller`` in another) and no longer match.

YAML: syntax errors name the file, line and column; a key given twice in one
mapping (which YAML loaders otherwise resolve silently, keeping the last
value) is an error naming both lines.
"""

from __future__ import annotations

import codecs
import gzip
import io
import os
from pathlib import Path
from typing import Any, BinaryIO

import pandas as pd

from sigrestore.errors import ConfigError

__all__ = ["FIX_ENCODING", "decode_error_position", "decode_text", "read_tsv_text", "read_yaml"]

FIX_ENCODING = (
    "save it as UTF-8 (Excel: Save As > 'CSV UTF-8' or 'Unicode Text'; LibreOffice: "
    "character set 'Unicode (UTF-8)'; or run: iconv -f latin1 -t utf-8 FILE > NEW)"
)


def decode_text(raw: bytes, path: str | os.PathLike[str], *, what: str = "file") -> str:
    """Decode a user file's bytes: UTF-8 (BOM optional) or UTF-16 with a BOM.

    Raises
    ------
    ConfigError
        The bytes are not valid UTF-8; the message names the file, line,
        column and byte value, and the fix.
    """
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise ConfigError(
                f"{what} {path}: not valid UTF-16 ({exc.reason}); {FIX_ENCODING}"
            ) from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{what} {path}, {decode_error_position(raw, exc)}; {FIX_ENCODING}"
        ) from None


def decode_error_position(raw: bytes, exc: UnicodeDecodeError) -> str:
    """``line L, column C: byte 0xNN is not UTF-8 (...)`` for a failed UTF-8 decode."""
    offset = exc.start
    line = raw.count(b"\n", 0, offset) + 1
    line_start = raw.rfind(b"\n", 0, offset) + 1
    if line == 1 and raw.startswith(codecs.BOM_UTF8):
        line_start = 3
    column = len(raw[line_start:offset].decode("utf-8", errors="replace")) + 1
    byte = raw[offset]
    guess = bytes([byte]).decode("cp1252", errors="replace")
    return (
        f"line {line}, column {column}: byte 0x{byte:02x} is not UTF-8 (in Latin-1/Windows-1252"
        f" it would be {guess!r}; the file was probably saved by Excel on Windows)"
    )


#: The first two bytes of a gzip stream.
GZIP_MAGIC = b"\x1f\x8b"


def decompressed(fh: BinaryIO) -> BinaryIO:
    """``fh`` itself, or a gunzipping view of it when its content starts with the
    gzip magic (the file's name says nothing: GEO, Illumina and count files come
    both ways).  ``fh`` must be a seekable binary file at its start; it stays
    open until the caller closes it.
    """
    magic = fh.read(2)
    fh.seek(0)
    return gzip.GzipFile(fileobj=fh, mode="rb") if magic == GZIP_MAGIC else fh


def _read_text(p: Path, what: str, kind: str) -> str:
    """The UTF-8 text of ``p``; ConfigError naming ``what`` when it is missing, a
    directory (not the ``kind`` file expected), unreadable or badly encoded."""
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{what} {p} does not exist") from None
    except IsADirectoryError:
        raise ConfigError(f"{what} {p} is a directory; a {kind} file was expected") from None
    except OSError as exc:
        raise ConfigError(f"{what} {p} cannot be read: {exc.strerror or exc}") from None
    return decode_text(raw, p, what=what)


def read_tsv_text(path: str | os.PathLike[str], *, what: str = "sample sheet") -> pd.DataFrame:
    """Read a tab-separated table as text (every column ``str``, no NA parsing).

    Raises
    ------
    ConfigError
        Missing or unreadable file, a directory, bad encoding (see
        :func:`decode_text`) or a row with the wrong number of fields (naming
        the line).
    """
    p = Path(path)
    text = _read_text(p, what, "tab-separated")
    try:
        return pd.read_csv(
            io.StringIO(text),
            sep="\t",
            dtype=str,
            keep_default_na=False,
            comment=None,
            skip_blank_lines=True,
        )
    except pd.errors.EmptyDataError:
        raise ConfigError(f"{what} {p} is empty") from None
    except pd.errors.ParserError as exc:
        raise ConfigError(f"{what} {p} cannot be read as TSV: {exc}") from None


def _unique_key_loader():
    import yaml

    class UniqueKeyLoader(yaml.SafeLoader):
        """SafeLoader that refuses a key given twice in one mapping."""

    def construct_mapping(loader, node, deep=False):
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = loader.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            try:
                first = seen.get(key)
            except TypeError:  # unhashable key: let the base constructor report it
                continue
            if first is not None:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"key {key!r} is given twice (lines {first} and {line}); YAML keeps only"
                    " the last, delete one",
                    key_node.start_mark,
                )
            seen[key] = line
        return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)

    UniqueKeyLoader.add_constructor(
        yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, construct_mapping
    )
    return UniqueKeyLoader


def read_yaml(path: str | os.PathLike[str], *, what: str = "config") -> Any:
    """Read a YAML file; errors name the file, line and column.

    Raises
    ------
    ConfigError
        Missing, unreadable or non-UTF-8 file, a YAML syntax error, or a key
        given twice in one mapping.
    """
    import yaml

    p = Path(path)
    text = _read_text(p, what, "YAML")
    try:
        return yaml.load(text, Loader=_unique_key_loader())
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f", line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = " ".join(str(x) for x in (exc.context, exc.problem) if x)
        hint = ""
        if "\t" in text and "found character '\\t'" in str(exc):
            hint = " (YAML indents with spaces, not tabs)"
        raise ConfigError(f"{what} {p}{where}: not valid YAML: {problem}{hint}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{what} {p}: not valid YAML: {exc}") from None
