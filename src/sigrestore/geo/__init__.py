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

from sigrestore._lazy import lazy_getattr

# Names are loaded on first use (PEP 562): ``sigrestore geo --help`` and the
# other subcommands must not pay for importing pandas and pyarrow.
_WHERE = {
    "DEFAULT_BASE_URL": "accession",
    "check_accession": "accession",
    "DownloadError": "download",
    "DownloadOptions": "download",
    "download_file": "download",
    "FetchSettings": "fetch",
    "FetchedFile": "fetch",
    "fetch_geo": "fetch",
    "read_manifest": "fetch",
    "read_platform_table": "platform",
    "cel_members": "raw",
    "extract_cdf_zip": "raw",
    "extract_raw_tar": "raw",
    "SeriesMatrix": "series_matrix",
    "read_series_matrix": "series_matrix",
    "SheetOptions": "sheet",
    "build_sheet": "sheet",
    "parse_titles": "sheet",
    "SoftEntity": "soft",
    "SoftFile": "soft",
    "read_soft": "soft",
    "Log2Decision": "transform",
    "apply_log2": "transform",
    "decide_log2": "transform",
    "normalize_quantiles": "transform",
}


__getattr__ = lazy_getattr(__name__, _WHERE)


def __dir__() -> list[str]:
    return sorted(__all__)


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
