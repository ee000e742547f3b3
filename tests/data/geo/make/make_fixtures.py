"""Make the GEO test fixtures of tests/data/geo from GEOquery's extdata.

Run from the repository root with the Debian package r-bioc-geoquery installed:

    python tests/data/geo/make/make_fixtures.py /usr/lib/R/site-library/GEOquery/extdata

Everything is deterministic (gzip without a time stamp, a seeded generator).
See tests/data/geo/README.md for what each file is.
"""

from __future__ import annotations

import gzip
import sys
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parents[1]
N_PLATFORM_ROWS = 600  # first rows of each platform table kept (plus all AFFX controls)


def _write_gz(path: Path, lines: list[str]) -> None:
    data = ("\n".join(lines) + "\n").encode("utf-8")
    with path.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as gz:
        gz.write(data)


def _lines(path: Path) -> list[str]:
    with gzip.open(path, "rt", encoding="latin-1") as fh:
        return [line.rstrip("\n") for line in fh]


def subset_family(src: Path) -> list[str]:
    """GSE781 family SOFT with every table cut to the same probe sets per platform."""
    lines = _lines(src)
    keep_ids: dict[str, set[str]] = {}
    out: list[str] = []
    entity = platform = ""
    in_table = False
    header_seen = False
    n_rows = 0
    dropped_one = False
    for line in lines:
        if line.startswith("^"):
            entity = line
            if line.startswith("^PLATFORM"):
                platform = line.split("=", 1)[1].strip()
        if line.startswith("!Sample_platform_id"):
            platform = line.split("=", 1)[1].strip()
        low = line.lower()
        if low in ("!platform_table_begin", "!sample_table_begin"):
            in_table, header_seen, n_rows = True, False, 0
            out.append(line)
            continue
        if low in ("!platform_table_end", "!sample_table_end"):
            in_table = False
            out.append(line)
            continue
        if in_table:
            if not header_seen:
                header_seen = True
                out.append(line)
                continue
            pid = line.split("\t", 1)[0]
            if entity.startswith("^PLATFORM"):
                ids = keep_ids.setdefault(platform, set())
                if n_rows < N_PLATFORM_ROWS or pid.startswith("AFFX"):
                    ids.add(pid)
                    out.append(line)
                n_rows += 1
            else:
                if pid in keep_ids[platform]:
                    # One GSM misses one probe set: the join must give NaN there.
                    if entity == "^SAMPLE = GSM11810" and pid == "200004_at" and not dropped_one:
                        dropped_one = True
                        continue
                    out.append(line)
            continue
        out.append(line)
    return out


def _annotation_ids() -> set[str]:
    """Probe sets of tests/data/annotation/GPL97_subset.annot.gz (310)."""
    lines = _lines(OUT.parent / "annotation" / "GPL97_subset.annot.gz")
    begin = lines.index("!platform_table_begin")
    end = lines.index("!platform_table_end")
    return {line.split("\t", 1)[0] for line in lines[begin + 2 : end]}


def subset_gds(src: Path) -> list[str]:
    """GDS507 with its dataset table cut to the probe sets of the GPL97 annotation subset.

    GEOquery's GDS2eSet needs a platform table with exactly the GDS's ids.
    """
    lines = _lines(src)
    begin = lines.index("!dataset_table_begin")
    end = lines.index("!dataset_table_end")
    keep = _annotation_ids()
    rows = [line for line in lines[begin + 2 : end] if line.split("\t", 1)[0] in keep]
    return [*lines[: begin + 2], *rows, "!dataset_table_end"]


def _soft_samples(lines: list[str], platform: str) -> list[dict]:
    """Samples of a family SOFT on ``platform``: header fields (lists) and the table."""
    samples: list[dict] = []
    current: dict | None = None
    in_table = False
    for line in lines:
        if line.startswith("^"):
            current = None
            if line.startswith("^SAMPLE"):
                current = {"fields": {}, "rows": []}
                samples.append(current)
            continue
        if current is None:
            continue
        low = line.lower()
        if low == "!sample_table_begin":
            in_table = True
            continue
        if low == "!sample_table_end":
            in_table = False
            continue
        if in_table:
            current["rows"].append(line.split("\t"))
        elif line.startswith("!Sample_"):
            key, _, value = line.partition(" = ")
            current["fields"].setdefault(key[len("!Sample_") :], []).append(value)
    return [s for s in samples if s["fields"]["platform_id"] == [platform]]


def _gds_characteristics(gds_lines: list[str]) -> dict[str, list[str]]:
    """GSM -> ["disease state: RCC", "individual: 035"] from the GDS subsets."""
    chars: dict[str, list[str]] = {}
    kind = desc = ""
    for line in gds_lines:
        if line.startswith("!subset_description"):
            desc = line.split(" = ", 1)[1]
        elif line.startswith("!subset_type"):
            kind = line.split(" = ", 1)[1]
        elif line.startswith("!subset_sample_id"):
            gsms = line.split(" = ", 1)[1].split(",")
        if line.startswith("!subset_type"):
            for gsm in gsms:
                chars.setdefault(gsm, []).append(f"{kind}: {desc}")
    return chars


def _q(value: str) -> str:
    return '"' + value.replace('"', "'") + '"'


def series_matrix_from_family(
    family: list[str], gds_lines: list[str], platform: str = "GPL97"
) -> list[str]:
    """GSE781-<platform>_series_matrix.txt in GEO's series-matrix layout.

    Header rows ``!Series_*`` (one value) and ``!Sample_*`` (one value per GSM,
    quoted, tab-separated), characteristics ``key: value`` taken from the GDS507
    subsets (as GEO shows them for curated series), then the VALUE columns
    joined on ID_REF between ``!series_matrix_table_begin``/``_end``.
    """
    samples = _soft_samples(family, platform)
    chars = _gds_characteristics(gds_lines)
    gsms = [s["fields"]["geo_accession"][0] for s in samples]
    out = [
        '!Series_title\t"Normal and Renal Cell Carcinoma Kidney Tissue, Human"',
        '!Series_geo_accession\t"GSE781"',
        '!Series_status\t"Public on Nov 25 2003"',
        '!Series_pubmed_id\t"14641932"',
        '!Series_type\t"Expression profiling by array"',
        f'!Series_platform_id\t"{platform}"',
        '!Series_sample_id\t"' + " ".join(gsms) + ' "',
        "",
    ]
    for key in (
        "title",
        "geo_accession",
        "status",
        "submission_date",
        "type",
        "channel_count",
        "source_name_ch1",
        "organism_ch1",
    ):
        out.append(f"!Sample_{key}\t" + "\t".join(_q(s["fields"][key][0]) for s in samples))
    n_chars = max(len(chars.get(g, [])) for g in gsms)  # 0 for GPL96: GDS507 is GPL97
    for i in range(n_chars):
        cells = [chars.get(g, [])[i] if i < len(chars.get(g, [])) else "" for g in gsms]
        out.append("!Sample_characteristics_ch1\t" + "\t".join(_q(c) for c in cells))
    for key in ("molecule_ch1", "description", "platform_id", "supplementary_file"):
        out.append(f"!Sample_{key}\t" + "\t".join(_q(s["fields"][key][0]) for s in samples))
    out.append("!series_matrix_table_begin")
    out.append('"ID_REF"\t' + "\t".join(_q(g) for g in gsms))
    ids: list[str] = []
    values: dict[str, dict[str, str]] = {}
    for s, gsm in zip(samples, gsms, strict=True):
        head, *rows = s["rows"]
        col = head.index("VALUE")
        for row in rows:
            if row[0] not in values:
                ids.append(row[0])
                values[row[0]] = {}
            values[row[0]][gsm] = row[col]
    for pid in ids:
        out.append(_q(pid) + "\t" + "\t".join(values[pid].get(g, "") for g in gsms))
    out.append("!series_matrix_table_end")
    return out


def toy_series_matrix() -> list[str]:
    """A synthetic fulvestrant / cotreatment series (already log2, with missing cells).

    The accession GSE999999 and GPL999999 are invented; ids are HG-U133B probe
    sets (those of GPL97_subset.annot.gz) so the GPL97 annotation matches.
    """
    rng = np.random.default_rng(20081)
    ids = [
        line.split("\t", 1)[0]
        for line in _lines(OUT.parent / "annotation" / "GPL97_subset.annot.gz")
        if (line and line[0].isdigit()) or line.startswith("AFFX")
    ]
    ids = ids[:200]
    design = [
        ("MCF-7/F", "fulvestrant", 1),
        ("MCF-7/F", "fulvestrant", 2),
        ("MCF-7/F", "fulvestrant", 3),
        ("MCF-7/F", "fulvestrant+rapamycin", 1),
        ("MCF-7/F", "fulvestrant+rapamycin", 2),
        ("MCF-7/F", "fulvestrant+rapamycin", 3),
        ("MCF-7", "vehicle", 1),
        ("MCF-7", "vehicle", 2),
        ("MCF-7", "vehicle", 3),
    ]
    gsms = [f"GSM99990{i}" for i in range(len(design))]
    titles = [
        f"{'MCF7' if cell == 'MCF-7' else 'MCF7F'}_{'FR' if '+' in trt else trt[:4].upper()}"
        f"_rep{rep}"
        for cell, trt, rep in design
    ]
    base = rng.normal(8.0, 2.0, size=len(ids))
    effect = np.zeros((len(ids), len(design)))
    effect[:20, :3] = 2.0  # fulvestrant signature in 20 probe sets
    effect[:20, 3:6] = 1.2  # partly restored by the combination
    values = base[:, None] + effect + rng.normal(0, 0.3, size=effect.shape)
    cells = np.char.mod("%.4f", values).astype(object)
    cells[5, 2] = ""  # empty cell
    cells[6, 4] = "null"  # GEO's missing marker
    cells[7, 7] = "NA"
    out = [
        '!Series_title\t"Synthetic fulvestrant and rapamycin series for sigrestore tests"',
        '!Series_geo_accession\t"GSE999999"',
        '!Series_platform_id\t"GPL97"',
        "",
        "!Sample_title\t" + "\t".join(_q(t) for t in titles),
        "!Sample_geo_accession\t" + "\t".join(_q(g) for g in gsms),
        "!Sample_source_name_ch1\t"
        + "\t".join(_q(f"{c} breast cancer cells") for c, _, _ in design),
        "!Sample_organism_ch1\t" + "\t".join(_q("Homo sapiens") for _ in design),
        "!Sample_characteristics_ch1\t" + "\t".join(_q(f"cell line: {c}") for c, _, _ in design),
        "!Sample_characteristics_ch1\t" + "\t".join(_q(f"treatment: {t}") for _, t, _ in design),
        "!Sample_characteristics_ch1\t" + "\t".join(_q(f"replicate: {r}") for _, _, r in design),
        "!Sample_platform_id\t" + "\t".join(_q("GPL97") for _ in design),
        "!Sample_supplementary_file\t"
        + "\t".join(
            _q(f"ftp://ftp.ncbi.nlm.nih.gov/geo/samples/GSM999nnn/{g}/suppl/{g}_{t}.CEL.gz")
            for g, t in zip(gsms, titles, strict=True)
        ),
        "!series_matrix_table_begin",
        '"ID_REF"\t' + "\t".join(_q(g) for g in gsms),
    ]
    out += [_q(pid) + "\t" + "\t".join(row) for pid, row in zip(ids, cells, strict=True)]
    out.append("!series_matrix_table_end")
    return out


def main(extdata: str) -> None:
    src = Path(extdata)
    family = subset_family(src / "GSE781_family.soft.gz")
    _write_gz(OUT / "GSE781_family_subset.soft.gz", family)
    gds_full = _lines(src / "GDS507.soft.gz")
    _write_gz(OUT / "GDS507_subset.soft.gz", subset_gds(src / "GDS507.soft.gz"))
    gsm = _lines(src / "GSM11805.txt.gz")
    begin = gsm.index("!sample_table_begin")
    _write_gz(OUT / "GSM11805_subset.txt.gz", [*gsm[: begin + 2 + 300], "!sample_table_end"])
    _write_gz(
        OUT / "GSE781-GPL97_series_matrix.txt.gz", series_matrix_from_family(family, gds_full)
    )
    _write_gz(
        OUT / "GSE781-GPL96_series_matrix.txt.gz",
        series_matrix_from_family(family, gds_full, "GPL96"),
    )
    _write_gz(OUT / "GSE999999_series_matrix.txt.gz", toy_series_matrix())


if __name__ == "__main__":
    main(sys.argv[1])
