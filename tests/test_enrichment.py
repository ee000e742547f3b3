"""Gene-set enrichment with gseapy prerank: GMT reading, offline and seeded runs (issue 5)."""

from __future__ import annotations

import socket

import numpy as np
import pandas as pd
import pytest

from sigrestore.enrichment import (
    ENRICHMENT_COLUMNS,
    enrichment_tables,
    load_gene_sets,
    prerank,
    ranking_from_table,
    read_gmt,
    sorted_ranking,
    write_enrichment,
)
from sigrestore.errors import DesignError, FormatError


@pytest.fixture(scope="module")
def gmt(data_dir):
    return data_dir / "restoration" / "toy.gmt"


@pytest.fixture(scope="module")
def ranking():
    # Distinct values with a trend, so the top / bottom sets are clearly enriched.
    rng = np.random.default_rng(3)
    values = np.linspace(4, -4, 200) + rng.normal(0, 0.5, 200)
    return pd.Series(values, index=[f"G{i:03d}" for i in range(200)])


def weighted_ks_es(ranking: pd.Series, members: list[str]) -> float:
    """GSEA's enrichment score (weight 1) written out from Subramanian et al. (2005)."""
    r = ranking.sort_values(ascending=False)
    hit = r.index.isin(members)
    w = np.abs(r.to_numpy()) * hit
    running = np.cumsum(w / w.sum() - (~hit) / (~hit).sum())
    return float(running[np.argmax(np.abs(running))])


def test_read_gmt(gmt):
    sets = read_gmt(gmt)
    assert list(sets) == [
        "TOP_SET",
        "BOTTOM_SET",
        "MIXED_SET",
        "TINY_SET",
        "HALLMARK_ESTROGEN_RESPONSE_EARLY_TOY",
    ]
    assert sets["TINY_SET"] == ["G001", "G002", "G003"]
    assert len(sets["TOP_SET"]) == 20


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("A\tdesc\n", "line 1: expected"),
        ("A\tdesc\tg1\nA\tdesc\tg2\n", "line 2: gene set 'A' repeated"),
        ("\tdesc\tg1\n", "empty gene-set name"),
        ("A\tdesc\t \t\n", "has no genes"),
        ("\n\n", "no gene set"),
    ],
)
def test_read_gmt_errors(tmp_path, text, message):
    path = tmp_path / "bad.gmt"
    path.write_text(text)
    with pytest.raises(FormatError, match=message):
        read_gmt(path)
    with pytest.raises(FormatError, match="cannot read"):
        read_gmt(tmp_path / "absent.gmt")


def test_load_gene_sets_merges_and_rejects_repeats(gmt, tmp_path):
    other = tmp_path / "other.gmt"
    other.write_text("EXTRA\tx\tG001\tG002\n")
    merged = load_gene_sets([gmt, other])
    assert "EXTRA" in merged and "TOP_SET" in merged
    with pytest.raises(FormatError, match="already read"):
        load_gene_sets([gmt, gmt])


def test_prerank_es_matches_the_formula(gmt, ranking):
    sets = read_gmt(gmt)
    table = prerank(ranking, sets, permutations=100, seed=1, min_size=10, max_size=500)
    assert list(table.columns) == list(ENRICHMENT_COLUMNS)
    assert "TINY_SET" not in set(table["term"])  # below min_size
    es = table.set_index("term")["es"]
    for term in ("TOP_SET", "BOTTOM_SET", "MIXED_SET"):
        assert es[term] == pytest.approx(weighted_ks_es(ranking, sets[term]), abs=1e-6)
    assert es["TOP_SET"] > 0.8 and es["BOTTOM_SET"] < -0.8
    sizes = table.set_index("term")["size"]
    assert sizes["HALLMARK_ESTROGEN_RESPONSE_EARLY_TOY"] == 20  # NOT_IN_RANKING dropped
    assert table["nes"].is_monotonic_decreasing
    p = table.set_index("term")["pval"]
    assert p["TOP_SET"] <= 0.02 and p["BOTTOM_SET"] <= 0.02


def test_prerank_is_seeded_offline_and_reproducible(gmt, ranking, tmp_path, monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("gseapy tried the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    sets = read_gmt(gmt)
    a = prerank(ranking, sets, permutations=200, seed=9, min_size=10)
    b = prerank(ranking, sets, permutations=200, seed=9, min_size=10)
    pd.testing.assert_frame_equal(a, b)
    write_enrichment(a, tmp_path / "a.tsv")
    write_enrichment(b, tmp_path / "b.tsv")
    assert (tmp_path / "a.tsv").read_bytes() == (tmp_path / "b.tsv").read_bytes()
    assert not list(tmp_path.glob("gseapy*")) and not list(tmp_path.glob("*.log"))


def test_prerank_is_quiet(gmt, capfd):
    # Tied values make gseapy log a warning; it must not reach the console.
    tied = pd.Series(np.repeat([2.0, 1.0, -1.0, -2.0], 50), index=[f"G{i:03d}" for i in range(200)])
    prerank(tied, read_gmt(gmt), permutations=10, seed=1, min_size=10)
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def test_ties_are_ordered_by_id():
    tied = pd.Series([1.0, 2.0, 1.0, np.nan], index=["b", "c", "a", "d"])
    r = sorted_ranking(tied)
    assert r.index.tolist() == ["c", "a", "b"]
    with pytest.raises(DesignError, match="more than once"):
        sorted_ranking(pd.Series([1.0, 2.0], index=["a", "a"]))


def test_no_usable_set_gives_an_empty_table(ranking):
    genes = list(ranking.index)
    # The sets overlap the ranking, but by fewer genes than min_size.
    table = prerank(ranking, {"X": genes[:2]}, permutations=10, seed=1, min_size=5)
    assert table.empty and list(table.columns) == list(ENRICHMENT_COLUMNS)


def test_sets_sharing_no_identifier_with_the_ranking_are_an_error(ranking):
    # Probe-set ids ranked against gene symbols: an id mismatch, not "no enrichment".
    with pytest.raises(DesignError, match="no identifier of the 1 gene set"):
        prerank(ranking, {"X": ["nope1", "nope2"]}, permutations=10, seed=1, min_size=1)


def test_no_permutations_gives_no_p_values(gmt, ranking):
    table = prerank(ranking, read_gmt(gmt), permutations=0, seed=1, min_size=10)
    assert len(table) == 4 and table["pval"].isna().all() and table["es"].notna().all()


def test_ranking_from_table_collapses_to_genes():
    table = pd.DataFrame(
        {
            "gene_symbol": ["A", "A", "B", None, "C", "C"],
            "t": [1.0, -3.0, 2.0, 9.0, 4.0, -4.0],
        },
        index=pd.Index(["p1", "p2", "p3", "p4", "p5", "p6"], name="id"),
    )
    r = ranking_from_table(table)
    # A: |-3| beats |1|; C: |4| ties, the first probe id (p5) wins; p4 has no gene.
    assert r.to_dict() == {"A": -3.0, "B": 2.0, "C": 4.0}
    per_probe = ranking_from_table(table, gene_column=None)
    assert per_probe.index.tolist() == table.index.tolist()
    with pytest.raises(DesignError):
        ranking_from_table(table, statistic="F")
    with pytest.raises(DesignError):
        ranking_from_table(table, gene_column="symbol_x")


def test_enrichment_tables_every_contrast(gmt, ranking):
    tables = {
        name: pd.DataFrame({"t": values, "logFC": values / 3}, index=ranking.index)
        for name, values in (("up", ranking.to_numpy()), ("down", -ranking.to_numpy()))
    }
    out = enrichment_tables(tables, read_gmt(gmt), permutations=50, seed=2, min_size=10)
    assert out.columns[0] == "contrast"
    assert out["contrast"].unique().tolist() == ["up", "down"]
    es = out.set_index(["contrast", "term"])["es"]
    assert es["up", "TOP_SET"] == pytest.approx(es["down", "BOTTOM_SET"], abs=0.2)
    assert es["up", "TOP_SET"] > 0 > es["down", "TOP_SET"]
