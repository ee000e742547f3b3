"""Sample sheets from a series matrix: GSM, title, characteristics, CEL file, title factors.

``sigrestore geo sheet`` writes the sheet a user edits into a design: one
row per GSM with ``sample``, ``title``, one column per characteristics key
and, when a RAW tar is given, the ``file`` (CEL member) of each GSM.  Factors
that a submitter put only in the titles (``MCF7F_FULV_rep1``) are taken out
with a regular expression whose *named groups* become columns::

    --title-pattern '(?P<cell_line>MCF7F?)_(?P<treatment>[A-Z]+)_rep(?P<replicate>\\d+)'
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from sigrestore.errors import ConfigError
from sigrestore.geo.series_matrix import SeriesMatrix

__all__ = ["SheetOptions", "build_sheet", "parse_titles"]

_DROP = ("source_name", "supplementary_file", "platform")


@dataclass(frozen=True)
class SheetOptions:
    """How to build the sheet.

    Attributes
    ----------
    title_pattern : str or None
        A regular expression with named groups, matched (``re.fullmatch``)
        against every title; each group becomes a column.
    keep_all : bool
        Keep ``source_name``, ``supplementary_file*`` and ``platform`` too.
    """

    title_pattern: str | None = None
    keep_all: bool = False


def parse_titles(titles: pd.Series, pattern: str, samples: pd.Series) -> pd.DataFrame:
    """Named groups of ``pattern`` matched against each title (one column per group).

    Raises
    ------
    ConfigError
        An invalid pattern, one without named groups, or a title it does not
        match (the message names the sample and the title).
    """
    try:
        regex = re.compile(pattern)
    except re.error as exc:
        raise ConfigError(
            f"title pattern {pattern!r} is not a valid regular expression: {exc}"
        ) from None
    if not regex.groupindex:
        raise ConfigError(
            f"title pattern {pattern!r} has no named group; write e.g. "
            "'(?P<treatment>[A-Z]+)_rep(?P<replicate>\\d+)'"
        )
    extracted = titles.astype(str).str.extract(f"^(?:{pattern})$", expand=True)
    unmatched = extracted.isna().all(axis=1).to_numpy()
    if unmatched.any():
        i = int(unmatched.argmax())
        raise ConfigError(
            f"title pattern {pattern!r} does not match the title {titles.iloc[i]!r} of sample "
            f"{samples.iloc[i]}"
        )
    return extracted


def build_sheet(
    matrix: SeriesMatrix,
    *,
    cel_files: pd.Series | None = None,
    options: SheetOptions = SheetOptions(),
) -> pd.DataFrame:
    """The sample sheet of a series matrix.

    Parameters
    ----------
    matrix
        From :func:`~sigrestore.geo.read_series_matrix`.
    cel_files
        GSM id -> CEL file (:func:`~sigrestore.geo.raw.cel_members`); adds a
        ``file`` column (empty for a GSM without a CEL file).
    options
        Title pattern and columns kept.
    """
    sheet = matrix.samples.copy()
    if not options.keep_all:
        sheet = sheet.drop(
            columns=[c for c in sheet.columns if c in _DROP or c.startswith("supplementary_file")]
        )
    if options.title_pattern:
        parsed = parse_titles(sheet["title"], options.title_pattern, sheet["sample"])
        clash = [c for c in parsed.columns if c in sheet.columns]
        if clash:
            raise ConfigError(
                f"title pattern groups {clash} clash with existing sheet columns; rename the groups"
            )
        sheet = pd.concat([sheet, parsed.set_axis(sheet.index)], axis=1)
    if cel_files is not None:
        sheet["file"] = sheet["sample"].map(cel_files).to_numpy()
    return sheet
