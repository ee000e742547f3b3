"""GEO platform (GPL) tables as probe annotation, through :mod:`sigrestore.annotation`.

GEO platform tables name their gene columns after the manufacturer's files:

=============  ======================  ==========================  ============
platform       symbol                  Entrez                      title
=============  ======================  ==========================  ============
GEO ``.annot`` ``Gene symbol``         ``Gene ID``                 ``Gene title``
Affymetrix     ``Gene Symbol``         ``ENTREZ_GENE_ID``          ``Gene Title``
Illumina       ``Symbol`` (``ILMN_Gene``)  ``Entrez_Gene_ID``      ``Definition``
Agilent        ``GENE_SYMBOL``         ``GENE``                    ``GENE_NAME``
=============  ======================  ==========================  ============

The standard names are recognised by :func:`sigrestore.annotation.read_annotation`;
the platform-specific ones here fill what the standard names leave open.
"""

from __future__ import annotations

import os

import pandas as pd

from sigrestore.annotation import check_platform, read_annotation

__all__ = ["GEO_EXTRA_ROLES", "read_platform_table"]

#: Normalized column name -> role, used only when no standard column provides the role.
GEO_EXTRA_ROLES = {
    "ilmngene": "gene_symbol",  # Illumina, when there is no "Symbol" column
    "genesymbols": "gene_symbol",
    "gene": "entrez_id",  # Agilent GPL tables: GENE holds the Entrez id
    "entrezgeneids": "entrez_id",
    "definition": "gene_title",  # Illumina
    "description": "gene_title",
}


def read_platform_table(
    path: str | os.PathLike[str], *, expression_ids: pd.Index | None = None
) -> pd.DataFrame:
    """Read a GPL ``.annot(.gz)`` or platform SOFT table as probe annotation.

    Parameters
    ----------
    path
        The platform file (plain or gzip).
    expression_ids
        The expression matrix's ids: when given, the table must annotate at
        least half of them (:func:`sigrestore.annotation.check_platform`).

    Returns
    -------
    DataFrame
        Index ``probe_set_id``; ``gene_symbol``, ``entrez_id``, ``gene_title``.
    """
    table = read_annotation(path, extra_roles=GEO_EXTRA_ROLES)
    if expression_ids is not None:
        check_platform(expression_ids, table)
    return table
