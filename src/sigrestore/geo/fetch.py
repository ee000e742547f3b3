"""Fetch a GEO series or dataset by accession into a cache folder.

``fetch_geo`` downloads, for ``GSE...``: the series matrix (one file per
platform when the series has several; only that of ``platform`` when given),
the GEO annotation table of each platform fetched (``GPL....annot.gz``) and,
with ``raw=True``, the ``GSE..._RAW.tar`` of supplementary files (the CEL
files); for ``GDS...``: the GDS SOFT file and its platform's annotation.  Files
land in ``<cache>/<accession>/`` under GEO's own names, with a
``manifest.json`` recording each file's URL, size and role.  A rerun finds the
manifest and the files at their recorded sizes and touches no network, which
is what lets a compute node without internet run from a cache filled on a
login node.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

from sigrestore.atomic import atomic_path
from sigrestore.errors import ConfigError
from sigrestore.geo import accession as acc
from sigrestore.geo._open import open_text_binary
from sigrestore.geo.download import (
    DownloadError,
    DownloadOptions,
    download_file,
    is_complete,
    list_directory,
    remote_size,
)

__all__ = ["MANIFEST", "FetchSettings", "FetchedFile", "fetch_geo", "read_manifest"]

MANIFEST = "manifest.json"
_MATRIX = re.compile(r"^(GSE\d+)(?:-(GPL\d+))?_series_matrix\.txt\.gz$")


@dataclass(frozen=True)
class FetchSettings:
    """What to fetch and from where.

    Attributes
    ----------
    accession : str
        ``GSE...`` or ``GDS...``.
    cache_dir : str
        Folder of the cache; files go to ``<cache_dir>/<accession>/``.
    platform : str or None
        The GPL to fetch when the series has several (None: all of them).
    raw : bool
        Also fetch ``<GSE>_RAW.tar`` (the supplementary CEL files).
    annotation : bool
        Also fetch each platform's GEO annotation table (``GPL....annot.gz``).
    base_url : str
        GEO's root (``https://ftp.ncbi.nlm.nih.gov/geo``, or a mirror: a URL,
        or a local folder of GEO's layout, relative to the working directory).
    download : DownloadOptions
        Timeouts and retries.
    """

    accession: str
    cache_dir: str = "resources/geo"
    platform: str | None = None
    raw: bool = False
    annotation: bool = True
    base_url: str = acc.DEFAULT_BASE_URL
    download: DownloadOptions = field(default_factory=DownloadOptions)


@dataclass(frozen=True)
class FetchedFile:
    """One file of the cache: its role (``series_matrix``, ``annotation``,
    ``raw_tar``, ``gds_soft``), name in the folder, URL, size and platform."""

    role: str
    name: str
    url: str
    size: int
    platform: str | None = None


def read_manifest(folder: str | os.PathLike[str]) -> list[FetchedFile] | None:
    """The files of a complete cache folder, or None (no manifest, or a file missing/short)."""
    folder = Path(folder)
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        files = [FetchedFile(**entry) for entry in data["files"]]
    except (FileNotFoundError, ValueError, KeyError, TypeError):
        return None
    if all(is_complete(folder / f.name, f.size) for f in files):
        return files
    return None


def _write_manifest(folder: Path, settings: FetchSettings, files: list[FetchedFile]) -> None:
    record = {
        "accession": settings.accession,
        "base_url": settings.base_url,
        "platform": settings.platform,
        "raw": settings.raw,
        "files": [asdict(f) for f in files],
    }
    with atomic_path(folder / MANIFEST) as tmp:
        tmp.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")


def _get(url: str, dest: Path, options: DownloadOptions) -> int:
    """Download unless a complete copy is there; return its size.

    Without a manifest, a file already present (placed by hand, or from an
    older run) is taken as complete only if its size equals the server's
    ``Content-Length`` (a HEAD request); otherwise it is downloaded again.
    """
    if dest.exists():
        try:
            size = remote_size(url, options)
        except (OSError, ValueError):
            size = -1  # unknown: download again (the download names the failing URL)
        if size is None or size == dest.stat().st_size:
            return dest.stat().st_size
    download_file(url, dest, options)
    return dest.stat().st_size


def _gds_platform(path: Path) -> str | None:
    """``!dataset_platform`` from the header of a GDS SOFT file."""
    with open_text_binary(path) as fh:
        for raw in fh:
            line = raw.decode("latin-1").strip()
            if line.lower().startswith("!dataset_platform ="):
                return line.split("=", 1)[1].strip()
            if line.lower().startswith("!dataset_table_begin"):
                break
    return None


def base_url(base: str) -> str:
    """GEO's root as a URL: a local folder of GEO's layout (no ``scheme://``,
    e.g. a mirror on a shared filesystem) becomes its absolute ``file://`` URL."""
    if "://" in base:
        return base
    return Path(base).resolve().as_uri()


def fetch_geo(settings: FetchSettings) -> list[FetchedFile]:
    """Download what ``settings`` asks for into ``<cache_dir>/<accession>/``.

    Returns
    -------
    list of FetchedFile
        Also written to ``<cache_dir>/<accession>/manifest.json``.

    Raises
    ------
    ConfigError
        Not a ``GSE``/``GDS`` accession; a ``platform`` the series does not have.
    DownloadError
        A file could not be downloaded (the message names the URL and where to
        put the file by hand).
    """
    accession = acc.check_accession(settings.accession)
    if settings.platform is not None:
        acc.check_platform_id(settings.platform)
    folder = Path(settings.cache_dir) / accession
    cached = read_manifest(folder)
    if cached is not None and _covers(cached, settings):
        return cached
    options = settings.download
    base = base_url(settings.base_url)
    files: list[FetchedFile] = []
    platforms: list[str] = []
    if accession.startswith("GDS"):
        url = acc.gds_soft_url(base, accession)
        name = f"{accession}.soft.gz"
        size = _get(url, folder / name, options)
        gpl = _gds_platform(folder / name)
        files.append(FetchedFile("gds_soft", name, url, size, gpl))
        platforms = [gpl] if gpl else []
    else:
        matrices = _matrix_names(base, accession, options)
        chosen = [
            (name, gpl)
            for name, gpl in matrices
            if settings.platform is None or gpl in (settings.platform, None)
        ]
        if not chosen:
            found = sorted({g for _, g in matrices if g})
            raise ConfigError(
                f"series {accession} has no series matrix for platform {settings.platform} "
                f"(its platforms: {', '.join(found) or 'one, unnamed'})"
            )
        for name, gpl in chosen:
            url = acc.matrix_dir_url(base, accession) + name
            size = _get(url, folder / name, options)
            gpl = gpl or _matrix_platform(folder / name)
            files.append(FetchedFile("series_matrix", name, url, size, gpl))
            if gpl:
                platforms.append(gpl)
        if settings.raw:
            url = acc.raw_tar_url(base, accession)
            name = f"{accession}_RAW.tar"
            files.append(FetchedFile("raw_tar", name, url, _get(url, folder / name, options)))
    if settings.annotation:
        for gpl in sorted(set(platforms)):
            url = acc.annot_url(base, gpl)
            name = f"{gpl}.annot.gz"
            try:
                size = _get(url, folder / name, options)
            except DownloadError as first:
                # GEO has no .annot.gz for some platforms: use the platform's full SOFT.
                url = acc.platform_soft_url(base, gpl)
                name = f"{gpl}_family.soft.gz"
                try:
                    size = _get(url, folder / name, options)
                except DownloadError as second:
                    raise DownloadError(
                        f"no platform annotation for {gpl}: {str(first).split('; to place')[0]}"
                        f", and {str(second).split('; to place')[0]}; put {gpl}.annot.gz in "
                        f"{folder} by hand, give the annotation file in the configuration "
                        f"(data.geo.annotation), or fetch without it (--no-annotation)"
                    ) from None
            files.append(FetchedFile("annotation", name, url, size, gpl))
    _write_manifest(folder, settings, files)
    return files


def _covers(cached: list[FetchedFile], settings: FetchSettings) -> bool:
    """The cached files include everything ``settings`` asks for."""
    roles = {f.role for f in cached}
    if settings.raw and "raw_tar" not in roles:
        return False
    if settings.annotation and "annotation" not in roles:
        return False
    if settings.platform is not None:
        return any(f.role == "series_matrix" and f.platform == settings.platform for f in cached)
    return True


def _matrix_names(
    base: str, accession: str, options: DownloadOptions
) -> list[tuple[str, str | None]]:
    """Series-matrix files of the series' ``matrix/`` folder: (name, GPL or None)."""
    url = acc.matrix_dir_url(base, accession)
    try:
        names = list_directory(url, options)
    except DownloadError as exc:
        raise DownloadError(
            f"{exc}; to place the files by hand, download {accession}_series_matrix.txt.gz "
            f"(or {accession}-GPL..._series_matrix.txt.gz) from {url} on a machine with "
            f"internet access into <cache>/{accession}/ and rerun"
        ) from None
    found = []
    for name in names:
        match = _MATRIX.match(name)
        if match and match.group(1) == accession:
            found.append((name, match.group(2)))
    if not found:
        raise DownloadError(
            f"{url} lists no {accession}*_series_matrix.txt.gz file; check the accession, or "
            f"download the series matrix by hand into the cache folder "
            f"<cache>/{accession}/ under its GEO name"
        )
    return found


def _matrix_platform(path: Path) -> str | None:
    """The GPL of a series matrix, from its header lines."""
    with open_text_binary(path) as fh:
        for raw in fh:
            line = raw.decode("latin-1")
            if line.startswith(("!Sample_platform_id", "!Series_platform_id")):
                cells = [c.strip().strip('"') for c in line.rstrip("\r\n").split("\t")[1:]]
                return cells[0] if cells else None
            if line.startswith("!series_matrix_table_begin"):
                break
    return None
