"""NCBI GEO: read series matrices and SOFT files, fetch by accession, build sample sheets.

Readers are pure functions of a file (no network):

* :func:`read_series_matrix` — ``GSE..._series_matrix.txt[.gz]``;
* :func:`read_soft` — family SOFT, GDS SOFT, GSM and GPL SOFT files;
* :func:`read_platform_table` — GPL ``.annot.gz`` / SOFT tables as probe annotation.

Values: :func:`decide_log2` (GEO2R's rule), :func:`apply_log2`,
:func:`normalize_quantiles`.  Download: :func:`fetch_geo`.  Sheets:
:func:`build_sheet`.  The data source that turns these into an
:class:`~sigrestore.dataset.ExpressionDataset` is :mod:`sigrestore.sources.geo`.
"""

from sigrestore.geo.accession import DEFAULT_BASE_URL, check_accession
from sigrestore.geo.download import DownloadError, DownloadOptions, download_file
from sigrestore.geo.fetch import FetchedFile, FetchSettings, fetch_geo, read_manifest
from sigrestore.geo.platform import read_platform_table
from sigrestore.geo.raw import cel_members, extract_cdf_zip, extract_raw_tar
from sigrestore.geo.series_matrix import SeriesMatrix, read_series_matrix
from sigrestore.geo.sheet import SheetOptions, build_sheet, parse_titles
from sigrestore.geo.soft import SoftEntity, SoftFile, read_soft
from sigrestore.geo.transform import Log2Decision, apply_log2, decide_log2, normalize_quantiles

__all__ = [
    "DEFAULT_BASE_URL",
    "DownloadError",
    "DownloadOptions",
    "FetchSettings",
    "FetchedFile",
    "Log2Decision",
    "SeriesMatrix",
    "SheetOptions",
    "SoftEntity",
    "SoftFile",
    "apply_log2",
    "build_sheet",
    "cel_members",
    "check_accession",
    "decide_log2",
    "download_file",
    "extract_cdf_zip",
    "extract_raw_tar",
    "fetch_geo",
    "normalize_quantiles",
    "parse_titles",
    "read_manifest",
    "read_platform_table",
    "read_series_matrix",
    "read_soft",
]
