"""GEO SOFT files: family SOFT (``GSE..._family.soft.gz``), GDS SOFT, GSM and GPL SOFT.

A SOFT file is a sequence of entities, each opened by ``^KIND = ACCESSION``
(``SERIES``, ``PLATFORM``, ``SAMPLE``, ``DATASET``, ``SUBSET``, ``DATABASE``),
followed by ``!Attribute = value`` lines (repeatable), ``#COLUMN = description``
lines and, for platforms, samples and datasets, a tab-separated table between
``!<kind>_table_begin`` and ``!<kind>_table_end``.

Family SOFT: the expression matrix of one platform joins the samples' tables
on ``ID_REF`` and takes their ``VALUE`` column.  GDS SOFT: the dataset table
holds ``ID_REF``, ``IDENTIFIER`` and one column per GSM; its subsets
(``!subset_type`` / ``!subset_description`` / ``!subset_sample_id``) become
one sample column per subset type.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from sigrestore.errors import FormatError
from sigrestore.geo._open import (
    GZIP_ERRORS,
    BlockReader,
    check_not_html,
    decode_line,
    open_text_binary,
    truncated_gzip,
)
from sigrestore.geo.series_matrix import characteristics_table
from sigrestore.geo.values import check_values, parse_table, to_float

__all__ = ["SoftEntity", "SoftFile", "read_soft"]


@dataclass
class SoftEntity:
    """One ``^KIND = ACCESSION`` block.

    Attributes
    ----------
    kind, accession
        ``SAMPLE``/``GSM11805`` etc.
    attributes
        ``!key`` (without the ``Kind_`` prefix, lower case) -> list of values.
    columns
        ``#COLUMN`` -> description.
    table
        The data table (text cells), index the first column; None without a table.
    line
        The file line of the ``^`` line.
    table_line
        The file line of the table header (0 without a table).
    """

    kind: str
    accession: str
    attributes: dict[str, list[str]] = field(default_factory=dict)
    columns: dict[str, str] = field(default_factory=dict)
    table: pd.DataFrame | None = None
    line: int = 0
    table_line: int = 0

    def first(self, key: str) -> str | None:
        """The first value of an attribute, or None."""
        values = self.attributes.get(key)
        return values[0] if values else None


@dataclass
class SoftFile:
    """A parsed SOFT file: its entities by kind."""

    path: str
    kind: str  # "family", "gds", "gsm", "gpl"
    series: SoftEntity | None = None
    dataset: SoftEntity | None = None
    platforms: dict[str, SoftEntity] = field(default_factory=dict)
    samples: dict[str, SoftEntity] = field(default_factory=dict)
    subsets: list[SoftEntity] = field(default_factory=list)

    @property
    def platform_ids(self) -> list[str]:
        """Platforms of the samples (family) or of the dataset (GDS), sorted."""
        if self.dataset is not None:
            return [p for p in [self.dataset.first("platform")] if p]
        found = {s.first("platform_id") for s in self.samples.values()}
        return sorted(p for p in found if p) or sorted(self.platforms)

    def _choose_platform(self, platform: str | None) -> str:
        ids = self.platform_ids
        if platform is None:
            if len(ids) > 1:
                raise FormatError(
                    f"{self.path}: the samples are on several platforms ({', '.join(ids)}); "
                    "choose one (platform: GPL...)"
                )
            return ids[0] if ids else ""
        if platform not in ids:
            raise FormatError(
                f"{self.path}: no sample on platform {platform!r} (platforms: {', '.join(ids)})"
            )
        return platform

    def expression(self, platform: str | None = None, column: str = "VALUE") -> pd.DataFrame:
        """Features x samples (float64, NaN where missing or not a number).

        Family/GSM SOFT: the ``column`` of each sample table on ``platform``
        (required when the samples are on several), outer-joined on ``ID_REF``
        in the order of first appearance.  GDS SOFT: the GSM columns of the
        dataset table.
        """
        if self.dataset is not None:
            table = self.dataset.table
            assert table is not None
            gsms = [c for c in table.columns if str(c).startswith("GSM")]
            values, _ = to_float(table[gsms])
            check_values(values, self.path, self.dataset.table_line, self.dataset.table_line + 1)
            return values
        chosen = self._choose_platform(platform)
        parts = []
        for gsm, entity in self.samples.items():
            if chosen and entity.first("platform_id") != chosen:
                continue
            if entity.table is None:
                raise FormatError(f"{self.path}: line {entity.line}: sample {gsm} has no table")
            if column not in entity.table.columns:
                raise FormatError(
                    f"{self.path}: line {entity.table_line}: sample {gsm} has no {column} "
                    f"column (columns: {list(entity.table.columns)})"
                )
            values, _ = to_float(entity.table[[column]].set_axis([gsm], axis=1))
            check_values(values, self.path, entity.table_line, entity.table_line + 1)
            parts.append(values)
        if not parts:
            raise FormatError(f"{self.path}: no sample table found")
        joined = pd.concat(parts, axis=1, join="outer", sort=False)
        joined.index.name = "ID_REF"
        return joined

    def sample_table(self, platform: str | None = None) -> pd.DataFrame:
        """One row per sample (of ``platform``): ``sample``, ``title``, characteristics...

        Family SOFT: like a series matrix's samples (``title``, ``source_name``,
        one column per characteristics key, ``supplementary_file``,
        ``platform``).  GDS SOFT: ``sample`` and one column per subset type
        (``disease state``, ``individual``...) holding the subset descriptions.
        """
        if self.dataset is not None:
            table = self.dataset.table
            assert table is not None
            gsms = [c for c in table.columns if str(c).startswith("GSM")]
            frame = pd.DataFrame({"sample": gsms}, dtype=object)
            for subset in self.subsets:
                kind = subset.first("type") or "subset"
                desc = subset.first("description")
                members = ",".join(subset.attributes.get("sample_id", [])).split(",")
                if kind not in frame.columns:
                    frame[kind] = None
                frame.loc[frame["sample"].isin([m.strip() for m in members]), kind] = desc
            return frame
        chosen = self._choose_platform(platform)
        entities = [
            e for e in self.samples.values() if not chosen or e.first("platform_id") == chosen
        ]
        n = len(entities)
        frame = pd.DataFrame(
            {
                "sample": [e.accession for e in entities],
                "title": [e.first("title") for e in entities],
                "source_name": [e.first("source_name_ch1") for e in entities],
            },
            dtype=object,
        )
        depth = max((len(e.attributes.get("characteristics_ch1", [])) for e in entities), default=0)
        rows = [
            [(e.attributes.get("characteristics_ch1", []) + [""] * depth)[i] for e in entities]
            for i in range(depth)
        ]
        chars = characteristics_table(rows, n)
        for key in chars.columns:
            frame[key if key not in frame.columns else f"{key}_ch1"] = chars[key].to_numpy()
        frame["supplementary_file"] = [e.first("supplementary_file") for e in entities]
        frame["platform"] = [e.first("platform_id") for e in entities]
        return frame


_KINDS = {"SERIES", "PLATFORM", "SAMPLE", "DATASET", "SUBSET", "DATABASE", "ANNOTATION"}


def read_soft(path: str | os.PathLike[str]) -> SoftFile:
    """Read a GEO SOFT file (family, GDS, GSM or GPL; plain or gzip).

    Header lines are read one by one; each table is taken in one slice of
    the decompressed block and parsed by Arrow's CSV reader.

    Raises
    ------
    FormatError
        An HTML page, a truncated gzip, a line outside any entity, a table
        without its end marker, a row with the wrong number of fields, a
        repeated ``ID_REF`` or a sample column without any number (when the
        expression is asked for); every message names the file and line.
    """
    path = Path(path)
    result = SoftFile(path=str(path), kind="")
    current: SoftEntity | None = None
    with open_text_binary(path) as fh:
        reader = BlockReader(fh)
        try:
            while (raw := reader.readline()) is not None:
                line_no = reader.line
                if line_no == 1:
                    check_not_html(raw, path)
                if not raw.strip():
                    continue
                line = decode_line(raw)
                if line.startswith("^"):
                    kind, _, acc = line[1:].partition("=")
                    kind = kind.strip().upper()
                    if kind not in _KINDS:
                        raise FormatError(f"{path}: line {line_no}: unknown SOFT entity {kind!r}")
                    current = _register(result, SoftEntity(kind, acc.strip(), line=line_no))
                    continue
                if current is None:
                    raise FormatError(
                        f"{path}: line {line_no}: not a SOFT file (no '^' entity line before "
                        f"{line[:40]!r})"
                    )
                if line.startswith("!"):
                    key, _, value = line[1:].partition("=")
                    key = key.strip()
                    low = key.lower()
                    if low.endswith("_table_begin"):
                        body, complete = reader.read_table()
                        if not complete:
                            raise FormatError(
                                f"{path}: line {reader.line}: the table begun on line {line_no} "
                                "has no end marker ('!..._table_end'): the file is incomplete"
                            )
                        _finish_table(current, body, path, line_no)
                        continue
                    prefix = current.kind.lower() + "_"
                    name = key[len(prefix) :] if low.startswith(prefix) else key
                    current.attributes.setdefault(name.lower(), []).append(value.strip())
                elif line.startswith("#"):
                    key, _, value = line[1:].partition("=")
                    current.columns[key.strip()] = value.strip()
        except GZIP_ERRORS as exc:
            raise truncated_gzip(path, reader.line + 1, exc) from None
    if current is None:
        raise FormatError(f"{path}: line 1: empty file or not a SOFT file")
    result.kind = (
        "gds"
        if result.dataset is not None
        else "family"
        if result.series is not None
        else "gsm"
        if result.samples and not result.platforms
        else "gpl"
    )
    return result


def _register(result: SoftFile, entity: SoftEntity) -> SoftEntity:
    """Add ``entity`` to ``result``; a repeated ``^KIND = ACC`` line continues the entity.

    (GDS SOFT files open ``^DATASET`` twice: once for the header, once more
    after the subsets for the table.)
    """
    if entity.kind == "DATASET":
        if result.dataset is not None and result.dataset.accession == entity.accession:
            return result.dataset
        result.dataset = entity
    elif entity.kind == "SERIES":
        result.series = entity
    elif entity.kind == "PLATFORM":
        return result.platforms.setdefault(entity.accession, entity)
    elif entity.kind == "SAMPLE":
        return result.samples.setdefault(entity.accession, entity)
    elif entity.kind == "SUBSET":
        result.subsets.append(entity)
    return entity


def _finish_table(entity: SoftEntity, body: bytes, path: Path, begin: int) -> None:
    """Parse the bytes of a table (header line first) begun on line ``begin``."""
    header_line = begin + 1
    if not body.strip():
        raise FormatError(f"{path}: line {begin}: empty table in {entity.accession}")
    table = parse_table(body, path, quoted=False, first_line=header_line)
    if table.index.isna().any():
        i = int(table.index.isna().argmax())
        raise FormatError(f"{path}: line {header_line + 1 + i}: empty id in {entity.accession}")
    table.index = pd.Index(table.index.astype(str), name=str(table.index.name))
    entity.table = table
    entity.table_line = header_line
