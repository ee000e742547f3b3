"""Supplementary raw files: the CEL files of a ``GSE..._RAW.tar``, a CDF inside a zip.

GEO packs a series' supplementary sample files in one uncompressed tar whose
members are named after their GSM (``GSM11805_N035.CEL.gz``).  Brainarray's
custom CDFs come as a zip holding the ``.cdf`` file.  Both are unpacked into a
folder with atomic writes; member names are reduced to their base name so a
crafted archive cannot write outside the folder.
"""

from __future__ import annotations

import os
import re
import shutil
import tarfile
import zipfile
from pathlib import Path

import pandas as pd

from sigrestore.atomic import atomic_path
from sigrestore.errors import FormatError

__all__ = ["cel_members", "extract_cdf_zip", "extract_raw_tar"]

_CEL = re.compile(r"^(GSM\d+)[^/]*\.cel(\.gz)?$", re.IGNORECASE)


def cel_members(tar_path: str | os.PathLike[str]) -> pd.Series:
    """GSM id -> CEL member name of a RAW tar (listing only, nothing extracted).

    Raises
    ------
    FormatError
        Not a tar archive (or truncated), or two CEL files for one GSM.
    """
    path = Path(tar_path)
    try:
        with tarfile.open(path, "r:*") as tar:
            names = [m.name for m in tar.getmembers() if m.isfile()]
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise FormatError(f"{path}: not a readable tar archive ({exc})") from None
    found: dict[str, str] = {}
    for name in names:
        match = _CEL.match(os.path.basename(name))
        if not match:
            continue
        gsm = match.group(1)
        if gsm in found:
            raise FormatError(f"{path}: two CEL files for {gsm}: {found[gsm]!r} and {name!r}")
        found[gsm] = name
    return pd.Series(found, name="file", dtype=object)


def extract_raw_tar(tar_path: str | os.PathLike[str], dest: str | os.PathLike[str]) -> pd.Series:
    """Unpack the CEL files of a RAW tar into ``dest``; GSM id -> extracted path.

    Members already present at the same size are not written again.  Other
    members (``.txt``, ``.CHP``) are left in the archive.
    """
    path = Path(tar_path)
    dest = Path(dest)
    members = cel_members(path)
    out: dict[str, str] = {}
    try:
        with tarfile.open(path, "r:*") as tar:
            for gsm, name in members.items():
                info = tar.getmember(name)
                target = dest / os.path.basename(name)
                out[gsm] = str(target)
                if target.exists() and target.stat().st_size == info.size:
                    continue
                src = tar.extractfile(info)
                if src is None:
                    raise FormatError(f"{path}: member {name!r} cannot be read")
                with src, atomic_path(target) as tmp, tmp.open("wb") as fh:
                    shutil.copyfileobj(src, fh, 1 << 20)
    except (tarfile.TarError, EOFError) as exc:
        raise FormatError(f"{path}: the tar archive is truncated or corrupt ({exc})") from None
    return pd.Series(out, name="file", dtype=object)


def extract_cdf_zip(zip_path: str | os.PathLike[str], dest: str | os.PathLike[str]) -> Path:
    """The one ``.cdf`` file of a zip (as Brainarray distributes custom CDFs), unpacked.

    Raises
    ------
    FormatError
        Not a zip, or not exactly one ``.cdf`` member.
    """
    path = Path(zip_path)
    try:
        with zipfile.ZipFile(path) as zf:
            cdfs = [
                i
                for i in zf.infolist()
                if not i.is_dir()
                and i.filename.lower().endswith(".cdf")
                and not i.filename.startswith("__MACOSX/")
            ]
            if len(cdfs) != 1:
                raise FormatError(
                    f"{path}: expected one .cdf file in the zip, found {[i.filename for i in cdfs]}"
                )
            target = Path(dest) / os.path.basename(cdfs[0].filename)
            if not (target.exists() and target.stat().st_size == cdfs[0].file_size):
                with zf.open(cdfs[0]) as src, atomic_path(target) as tmp, tmp.open("wb") as fh:
                    shutil.copyfileobj(src, fh, 1 << 20)
    except zipfile.BadZipFile as exc:
        raise FormatError(f"{path}: not a readable zip archive ({exc})") from None
    return target
