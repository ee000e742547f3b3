"""GEO accessions and where GEO keeps their files (its public HTTPS layout).

GEO groups series, platforms and datasets in folders of a thousand: the
folder of ``GSE12345`` is ``GSE12nnn`` (``GSEnnn`` below 1000).  Under
``<base>/series/GSE12nnn/GSE12345/`` are ``matrix/`` (series matrices),
``soft/`` (family SOFT) and ``suppl/`` (``GSE12345_RAW.tar``); platforms are
under ``<base>/platforms/GPLnnn/GPL97/annot/GPL97.annot.gz`` (and ``soft/``);
datasets under ``<base>/datasets/GDSnnn/GDS507/soft/GDS507.soft.gz``.
"""

from __future__ import annotations

import re

from sigrestore.errors import ConfigError

__all__ = [
    "DEFAULT_BASE_URL",
    "annot_url",
    "check_accession",
    "gds_soft_url",
    "matrix_dir_url",
    "series_dir_url",
    "stub",
]

#: NCBI GEO's public HTTPS root (``sigrestore geo fetch --base-url`` overrides it).
DEFAULT_BASE_URL = "https://ftp.ncbi.nlm.nih.gov/geo"
_ACCESSION = re.compile(r"^(GSE|GDS)([0-9]+)$")
_PLATFORM = re.compile(r"^GPL[0-9]+$")


def check_accession(accession: str, *, what: str = "accession") -> str:
    """``accession`` if it is ``GSE``/``GDS`` + digits, else ConfigError naming it."""
    text = str(accession).strip()
    if not _ACCESSION.match(text):
        raise ConfigError(
            f"{what} {accession!r} is not a GEO series or dataset accession (GSE or GDS "
            "followed by digits, e.g. GSE781 or GDS507)"
        )
    return text


def check_platform_id(platform: str, *, what: str = "platform") -> str:
    """``platform`` if it is ``GPL`` + digits, else ConfigError."""
    text = str(platform).strip()
    if not _PLATFORM.match(text):
        raise ConfigError(f"{what} {platform!r} is not a GEO platform accession (GPL + digits)")
    return text


def stub(accession: str) -> str:
    """The thousand-folder of an accession: ``GSE12345`` -> ``GSE12nnn``."""
    prefix, digits = accession[:3], accession[3:]
    return f"{prefix}{digits[:-3]}nnn"


def series_dir_url(base_url: str, accession: str) -> str:
    """``<base>/series/GSEnnn/GSE781/``."""
    return f"{base_url.rstrip('/')}/series/{stub(accession)}/{accession}/"


def matrix_dir_url(base_url: str, accession: str) -> str:
    """The folder of a series' matrix files."""
    return series_dir_url(base_url, accession) + "matrix/"


def annot_url(base_url: str, platform: str) -> str:
    """The platform's GEO annotation table (``GPL97.annot.gz``)."""
    return f"{base_url.rstrip('/')}/platforms/{stub(platform)}/{platform}/annot/{platform}.annot.gz"


def platform_soft_url(base_url: str, platform: str) -> str:
    """The platform's full SOFT table (used when GEO has no ``.annot.gz`` for it)."""
    return (
        f"{base_url.rstrip('/')}/platforms/{stub(platform)}/{platform}/soft/"
        f"{platform}_family.soft.gz"
    )


def gds_soft_url(base_url: str, accession: str) -> str:
    """A GDS SOFT file."""
    return f"{base_url.rstrip('/')}/datasets/{stub(accession)}/{accession}/soft/{accession}.soft.gz"


def raw_tar_url(base_url: str, accession: str) -> str:
    """A series' supplementary ``_RAW.tar`` (the CEL files)."""
    return series_dir_url(base_url, accession) + f"suppl/{accession}_RAW.tar"
