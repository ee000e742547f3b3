"""Gene-set enrichment of contrast rankings with gseapy's prerank, offline and seeded.

Gene sets are always handed to gseapy as a dict (read here from GMT files), so
gseapy never looks a library name up on the network; it writes nothing
(``outdir=None``, ``no_plot=True``), runs single-threaded with a fixed seed so
that two runs give identical tables, and its console log is swallowed.
"""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sigrestore.atomic import write_tsv
from sigrestore.errors import DesignError, FormatError

#: Annotation columns recognised as the gene symbol of a feature, in order of preference.
GENE_COLUMNS = ("gene_symbol", "gene", "symbol", "SYMBOL", "Gene.symbol", "Gene symbol")

ENRICHMENT_COLUMNS = (
    "term",
    "size",
    "es",
    "nes",
    "pval",
    "fdr",
    "fwer",
    "leading_edge",
)


#: The defaults of the config schema's ``enrichment`` section and ``seed``
#: (workflow/schemas/config.schema.yaml is their source; a test checks they agree).
DEFAULT_PERMUTATIONS = 200
DEFAULT_MIN_SIZE = 10
DEFAULT_MAX_SIZE = 1000
DEFAULT_SEED = 20080601


@dataclass(frozen=True)
class EnrichmentSettings:
    """The config's ``enrichment`` section with the seed: gseapy prerank of every contrast.

    Attributes
    ----------
    permutations : int
        Gene-set permutations.
    min_size, max_size : int
        Sets whose overlap with the ranking is outside this range are skipped.
    seed : int
        RNG seed (the config's ``seed``).
    """

    permutations: int = DEFAULT_PERMUTATIONS
    min_size: int = DEFAULT_MIN_SIZE
    max_size: int = DEFAULT_MAX_SIZE
    seed: int = DEFAULT_SEED


def read_gmt(path: str | os.PathLike[str]) -> dict[str, list[str]]:
    """Read a GMT file: one set per line, ``name<TAB>description<TAB>gene<TAB>gene...``.

    Blank lines are skipped; genes are stripped and de-duplicated in order.
    Raises FormatError (naming the file and line) for a line with fewer than
    three fields, an empty name, a set without genes or a repeated set name.
    """
    from sigrestore.textio import FIX_ENCODING, decode_error_position

    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise FormatError(f"{path}: cannot read GMT file ({exc.strerror or exc})") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FormatError(
            f"{path}: GMT file, {decode_error_position(raw, exc)}; {FIX_ENCODING}"
        ) from None
    sets: dict[str, list[str]] = {}
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.rstrip("\r\n").split("\t")
        if len(fields) < 3:
            raise FormatError(f"{path}, line {lineno}: expected name, description and genes")
        name = fields[0].strip()
        if not name:
            raise FormatError(f"{path}, line {lineno}: empty gene-set name")
        if name in sets:
            raise FormatError(f"{path}, line {lineno}: gene set {name!r} repeated")
        genes = list(dict.fromkeys(g.strip() for g in fields[2:] if g.strip()))
        if not genes:
            raise FormatError(f"{path}, line {lineno}: gene set {name!r} has no genes")
        sets[name] = genes
    if not sets:
        raise FormatError(f"{path}: no gene set found")
    return sets


def load_gene_sets(paths: Iterable[str | os.PathLike[str]]) -> dict[str, list[str]]:
    """Merge several GMT files; a set name found in two files raises FormatError."""
    merged: dict[str, list[str]] = {}
    origin: dict[str, str] = {}
    for path in paths:
        for name, genes in read_gmt(path).items():
            if name in merged:
                raise FormatError(f"{path}: gene set {name!r} already read from {origin[name]}")
            merged[name] = genes
            origin[name] = str(path)
    return merged


def sorted_ranking(ranking: pd.Series) -> pd.Series:
    """Drop NaN, order by value descending with ties broken by feature id.

    This is the exact order handed to gseapy (which then keeps it), so tied
    statistics cannot make two runs differ.
    """
    if not ranking.index.is_unique:
        dup = ranking.index[ranking.index.duplicated()][0]
        raise DesignError(f"ranking: feature id {dup!r} occurs more than once")
    values = ranking.to_numpy(dtype=float)
    ids = ranking.index.astype(str).to_numpy()
    keep = np.isfinite(values)
    values, ids = values[keep], ids[keep]
    order = np.lexsort((ids, -values))
    return pd.Series(values[order], index=pd.Index(ids[order], name="id"), name="score")


def run_prerank(
    ranking: pd.Series,
    gene_sets: Mapping[str, Sequence[str]],
    *,
    permutations: int = DEFAULT_PERMUTATIONS,
    seed: int = DEFAULT_SEED,
    min_size: int = DEFAULT_MIN_SIZE,
    max_size: int = DEFAULT_MAX_SIZE,
    weight: float = 1.0,
) -> tuple[pd.Series, dict[str, dict]]:
    """Run gseapy's prerank quietly; return the ranking used and gseapy's per-set results.

    The per-set dict is gseapy's ``Prerank.results``: term -> {"es", "nes",
    "pval", "fdr", "fwerp", "hits", "RES", "lead_genes", ...}.  Sets whose
    overlap with the ranking is outside ``[min_size, max_size]`` are left out
    (an empty dict when none is left).
    """
    import gseapy

    rnk = sorted_ranking(ranking)
    if len(rnk) < 2:
        raise DesignError("ranking has fewer than two finite values")
    sets = {str(k): [str(g) for g in v] for k, v in gene_sets.items()}
    present = set(rnk.index)
    overlap = {k: len(present.intersection(v)) for k, v in sets.items()}
    if any(sets.values()) and not any(overlap.values()):
        # Almost always probe-set ids ranked against sets of gene symbols.
        example = ", ".join(list(map(str, rnk.index[:3])))
        raise DesignError(
            f"no identifier of the {len(sets)} gene set(s) occurs in the ranking (ranked ids look"
            f" like {example}); gene sets name genes, so the ranking needs gene symbols (give"
            " platform.annotation) or the sets must use the ranking's ids"
        )
    # gseapy's own filter also drops sets that cover the whole ranking.
    max_size = min(max_size, len(rnk) - 1)
    usable = {k: v for k, v in sets.items() if min_size <= overlap[k] <= max_size}
    if not usable:
        return rnk, {}
    # gseapy binds its console log handler to sys.stderr when the object is built.
    with contextlib.redirect_stderr(io.StringIO()):
        pre = gseapy.Prerank(
            rnk=rnk,
            gene_sets=usable,
            outdir=None,
            min_size=min_size,
            max_size=max_size,
            permutation_num=permutations,
            weight=weight,
            ascending=None,
            threads=1,
            no_plot=True,
            seed=seed,
            verbose=False,
        )
        pre.run()
    # One ranking, so gseapy's results are already term -> dict.
    return rnk, dict(pre.results)


def prerank(
    ranking: pd.Series,
    gene_sets: Mapping[str, Sequence[str]],
    *,
    permutations: int = DEFAULT_PERMUTATIONS,
    seed: int = DEFAULT_SEED,
    min_size: int = DEFAULT_MIN_SIZE,
    max_size: int = DEFAULT_MAX_SIZE,
    weight: float = 1.0,
) -> pd.DataFrame:
    """Enrichment of every gene set in one ranking.

    Parameters
    ----------
    ranking : Series
        Statistic per gene (e.g. moderated t), indexed by gene / feature id.
    gene_sets : mapping
        Set name -> member ids (e.g. from :func:`read_gmt`).
    permutations, seed : int
        gseapy's gene-set permutations and RNG seed (0 permutations: no p-values).
    min_size, max_size : int
        Sets whose overlap with the ranking is outside this range are skipped.
    weight : float
        GSEA weight p (1 = the standard weighted Kolmogorov-Smirnov statistic).

    Returns
    -------
    DataFrame with columns term, size (overlap), es, nes, pval, fdr, fwer,
    leading_edge (";"-joined), sorted by nes descending then term.
    """
    _, results = run_prerank(
        ranking,
        gene_sets,
        permutations=permutations,
        seed=seed,
        min_size=min_size,
        max_size=max_size,
        weight=weight,
    )
    rows = []
    for term, r in results.items():
        no_p = permutations == 0
        rows.append(
            {
                "term": term,
                "size": len(r["hits"]),
                "es": float(r["es"]),
                "nes": float(r["nes"]),
                "pval": np.nan if no_p else float(r["pval"]),
                "fdr": np.nan if no_p else float(r["fdr"]),
                "fwer": np.nan if no_p else float(r["fwerp"]),
                "leading_edge": r.get("lead_genes", "") or "",
            }
        )
    table = pd.DataFrame(rows, columns=list(ENRICHMENT_COLUMNS))
    if len(table):
        nes = table["nes"].to_numpy(dtype=float)
        # lexsort's last key is the primary one: undefined NES last, then NES
        # descending, then term, so the order never depends on gseapy's.
        order = np.lexsort((table["term"].to_numpy(), -np.nan_to_num(nes), np.isnan(nes)))
        table = table.iloc[order].reset_index(drop=True)
    return table


def gene_column_of(table: pd.DataFrame) -> str | None:
    """The first column of :data:`GENE_COLUMNS` present in ``table``, or None."""
    return next((c for c in GENE_COLUMNS if c in table.columns), None)


def ranking_from_table(
    table: pd.DataFrame, *, statistic: str = "t", gene_column: str | None = "auto"
) -> pd.Series:
    """Ranking statistic per gene from a limma-style table.

    With a gene column (``"auto"``: the first of :data:`GENE_COLUMNS` present),
    features are collapsed to genes keeping, for each gene, the feature with the
    largest ``|statistic|`` (ties: first feature id); features without a gene
    are dropped.  Without one, the ranking is per feature id.
    """
    if statistic not in table.columns:
        raise DesignError(f"table has no {statistic!r} column to rank by")
    column = gene_column_of(table) if gene_column == "auto" else gene_column
    values = table[statistic].astype(float)
    if column is None:
        return values.rename(statistic)
    if column not in table.columns:
        raise DesignError(f"table has no gene column {column!r}")
    genes = table[column]
    frame = pd.DataFrame(
        {
            "gene": genes.astype("string").str.strip().to_numpy(),
            "value": values.to_numpy(),
            "absval": np.abs(values.to_numpy()),
            "id": table.index.astype(str).to_numpy(),
        }
    )  # numpy columns: a RangeIndex, whatever the table's index is called
    frame = frame[frame["gene"].notna() & (frame["gene"] != "") & frame["value"].notna()]
    frame = frame.sort_values(
        ["gene", "absval", "id"], ascending=[True, False, True], kind="stable"
    )
    best = frame.drop_duplicates("gene", keep="first")
    index = pd.Index(best["gene"].to_numpy(str), name="gene")
    return pd.Series(best["value"].to_numpy(), index=index, name=statistic)


def enrichment_tables(
    tables: Mapping[str, pd.DataFrame],
    gene_sets: Mapping[str, Sequence[str]],
    *,
    statistic: str = "t",
    gene_column: str | None = "auto",
    permutations: int = DEFAULT_PERMUTATIONS,
    seed: int = DEFAULT_SEED,
    min_size: int = DEFAULT_MIN_SIZE,
    max_size: int = DEFAULT_MAX_SIZE,
    settings: EnrichmentSettings | None = None,
) -> pd.DataFrame:
    """Prerank every contrast against the gene sets; one table with a ``contrast`` column first.

    Contrasts keep the order of ``tables``; every contrast uses the same seed.
    ``settings`` (the config's, from :func:`sigrestore.config.check_config`)
    replaces ``permutations``, ``seed``, ``min_size`` and ``max_size``.
    """
    if settings is not None:
        permutations, seed = settings.permutations, settings.seed
        min_size, max_size = settings.min_size, settings.max_size
    parts = []
    for contrast, table in tables.items():
        ranking = ranking_from_table(table, statistic=statistic, gene_column=gene_column)
        part = prerank(
            ranking,
            gene_sets,
            permutations=permutations,
            seed=seed,
            min_size=min_size,
            max_size=max_size,
        )
        part.insert(0, "contrast", contrast)
        parts.append(part)
    if not parts:
        return pd.DataFrame(columns=["contrast", *ENRICHMENT_COLUMNS])
    return pd.concat(parts, ignore_index=True)


def write_enrichment(table: pd.DataFrame, path: str | os.PathLike[str]) -> None:
    """Write an enrichment table as TSV atomically (10 significant digits, NaN as NA)."""
    write_tsv(table, path, index=False, na_rep="NA")
