"""``fetch_geo`` / ``sigrestore geo fetch`` against a local HTTP server on 127.0.0.1
serving a fixture mirror of GEO's layout (tests/geo_server.py)."""

from __future__ import annotations

import io
import shutil
import tarfile
from pathlib import Path

import pytest
from geo_server import ServerState, serve

from sigrestore.cli import main
from sigrestore.errors import ConfigError
from sigrestore.geo import DownloadError, DownloadOptions, FetchSettings, fetch_geo, read_manifest
from sigrestore.geo.download import download_file
from sigrestore.sources.geo import GeoSettings, load_geo

DATA = Path(__file__).parent / "data" / "geo"
ANNOT = Path(__file__).parent / "data" / "annotation" / "GPL97_subset.annot.gz"
FAST = DownloadOptions(timeout=10, retries=2, backoff=0.01)


def _raw_tar() -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for i in range(9):
            data = f"fake CEL {i}\n".encode() * 50
            info = tarfile.TarInfo(f"GSM99990{i}_sample{i}.CEL.gz")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        info = tarfile.TarInfo("filelist.txt")
        info.size = 3
        tar.addfile(info, io.BytesIO(b"abc"))
    return buf.getvalue()


@pytest.fixture
def mirror(tmp_path: Path) -> Path:
    """GEO's layout: series matrices, a RAW tar, a GDS, platform annotation."""
    root = tmp_path / "mirror"
    geo = root / "geo"
    m781 = geo / "series/GSEnnn/GSE781/matrix"
    m781.mkdir(parents=True)
    for gpl in ("GPL96", "GPL97"):
        shutil.copy(DATA / f"GSE781-{gpl}_series_matrix.txt.gz", m781)
    m999 = geo / "series/GSE999nnn/GSE999999"
    (m999 / "matrix").mkdir(parents=True)
    (m999 / "suppl").mkdir()
    shutil.copy(DATA / "GSE999999_series_matrix.txt.gz", m999 / "matrix")
    (m999 / "suppl/GSE999999_RAW.tar").write_bytes(_raw_tar())
    gds = geo / "datasets/GDSnnn/GDS507/soft"
    gds.mkdir(parents=True)
    shutil.copy(DATA / "GDS507_subset.soft.gz", gds / "GDS507.soft.gz")
    annot = geo / "platforms/GPLnnn/GPL97/annot"
    annot.mkdir(parents=True)
    shutil.copy(ANNOT, annot / "GPL97.annot.gz")
    return root


@pytest.fixture
def server(mirror: Path):
    state = ServerState()
    with serve(mirror, state) as base:
        yield base, state, mirror / "geo"


def _same(a: Path, b: Path) -> bool:
    return a.read_bytes() == b.read_bytes()


def test_fetch_series_with_platform_then_rerun_offline(server, tmp_path):
    base, state, geo = server
    cache = tmp_path / "cache"
    files = fetch_geo(
        FetchSettings("GSE781", str(cache), platform="GPL97", base_url=base, download=FAST)
    )
    assert [(f.role, f.name, f.platform) for f in files] == [
        ("series_matrix", "GSE781-GPL97_series_matrix.txt.gz", "GPL97"),
        ("annotation", "GPL97.annot.gz", "GPL97"),
    ]
    folder = cache / "GSE781"
    assert _same(folder / files[0].name, geo / "series/GSEnnn/GSE781/matrix" / files[0].name)
    assert _same(folder / "GPL97.annot.gz", ANNOT)
    assert files[0].url == f"{base}/series/GSEnnn/GSE781/matrix/GSE781-GPL97_series_matrix.txt.gz"
    assert read_manifest(folder) == files
    assert sorted(p.name for p in folder.iterdir()) == [
        "GPL97.annot.gz", "GSE781-GPL97_series_matrix.txt.gz", "manifest.json",
    ]  # fmt: skip
    # A rerun downloads nothing: not even a request (a node without internet).
    n = len(state.log)
    again = fetch_geo(
        FetchSettings(
            "GSE781", str(cache), platform="GPL97", base_url="http://127.0.0.1:9/geo", download=FAST
        )
    )
    assert again == files and len(state.log) == n
    # ... and the source reads the cache.
    ds = load_geo(GeoSettings("GSE781", platform="GPL97", cache_dir=str(cache)))
    assert ds.shape == (668, 17)
    assert ds.features is not None and ds.features.loc["200000_s_at", "gene_symbol"] == "PRPF8"
    assert ds.provenance["files"] == [str(folder / files[0].name), str(folder / "GPL97.annot.gz")]


def test_several_platforms_without_platform(server, tmp_path):
    base, _, _ = server
    cache = tmp_path / "cache"
    with pytest.raises(DownloadError, match="annot"):
        # GPL96 has no annotation in the mirror (neither .annot.gz nor SOFT): 404 named.
        fetch_geo(FetchSettings("GSE781", str(cache), base_url=base, download=FAST))
    files = fetch_geo(
        FetchSettings("GSE781", str(cache), base_url=base, annotation=False, download=FAST)
    )
    assert sorted(f.platform for f in files) == ["GPL96", "GPL97"]
    with pytest.raises(ConfigError, match=r"several platforms \(GPL96, GPL97\).*data.geo.platform"):
        load_geo(GeoSettings("GSE781", cache_dir=str(cache)))
    with pytest.raises(ConfigError, match="GPL1"):
        fetch_geo(
            FetchSettings(
                "GSE781", str(tmp_path / "c2"), platform="GPL1", base_url=base, download=FAST
            )
        )


def test_existing_complete_file_is_not_downloaded_again(server, tmp_path):
    base, state, geo = server
    dest = tmp_path / "c" / "GSE999999" / "GSE999999_series_matrix.txt.gz"
    dest.parent.mkdir(parents=True)
    shutil.copy(geo / "series/GSE999nnn/GSE999999/matrix/GSE999999_series_matrix.txt.gz", dest)
    fetch_geo(FetchSettings("GSE999999", str(tmp_path / "c"), base_url=base, download=FAST))
    assert state.gets("_series_matrix.txt.gz") == []  # size checked with HEAD, not fetched
    assert any(r[0] == "HEAD" and r[1].endswith("_series_matrix.txt.gz") for r in state.log)
    # A short file of the same name (an interrupted copy by hand) is downloaded again.
    dest.write_bytes(b"short")
    fetch_geo(FetchSettings("GSE999999", str(tmp_path / "c"), base_url=base, download=FAST))
    assert _same(dest, geo / "series/GSE999nnn/GSE999999/matrix/GSE999999_series_matrix.txt.gz")
    assert len(state.gets("_series_matrix.txt.gz")) == 1


def test_dropped_connection_resumes_with_range(server, tmp_path):
    base, state, geo = server
    path = "/geo/series/GSE999nnn/GSE999999/suppl/GSE999999_RAW.tar"
    state.drop[path] = 1
    dest = download_file(base.removesuffix("/geo") + path, tmp_path / "GSE999999_RAW.tar", FAST)
    assert _same(dest, geo / "series/GSE999nnn/GSE999999/suppl/GSE999999_RAW.tar")
    gets = state.gets("_RAW.tar")
    assert [g[3] for g in gets] == [200, 206]
    assert gets[1][2] == f"bytes={len(_raw_tar()) // 2}-"
    assert not (tmp_path / "GSE999999_RAW.tar.part").exists()


def test_dropped_connection_restarts_when_range_ignored(server, tmp_path):
    base, state, geo = server
    state.ignore_range = True
    path = "/geo/series/GSE999nnn/GSE999999/suppl/GSE999999_RAW.tar"
    state.drop[path] = 2
    dest = download_file(base.removesuffix("/geo") + path, tmp_path / "raw.tar", FAST)
    assert _same(dest, geo / "series/GSE999nnn/GSE999999/suppl/GSE999999_RAW.tar")
    assert [g[3] for g in state.gets("_RAW.tar")] == [200, 200, 200]


def test_connection_always_dropped_fails_cleanly(server, tmp_path):
    base, state, _ = server
    state.ignore_range = True
    path = "/geo/series/GSE999nnn/GSE999999/suppl/GSE999999_RAW.tar"
    state.drop[path] = 99
    url = base.removesuffix("/geo") + path
    dest = tmp_path / "raw.tar"
    with pytest.raises(
        DownloadError, match=r"GET .*GSE999999_RAW.tar failed after 3 attempts.*by hand.*raw.tar"
    ):
        download_file(url, dest, FAST)
    assert not dest.exists()  # nothing complete-looking; the partial bytes stay in .part


def test_404_messages(server, tmp_path):
    base, _, _ = server
    cache = tmp_path / "cache"
    url = f"{base}/series/GSE999nnn/GSE999999/suppl/nothing.tar"
    with pytest.raises(
        DownloadError, match=r"GET .*nothing.tar failed: HTTP 404.*copy it to .*x.tar"
    ):
        download_file(url, tmp_path / "x.tar", FAST)
    assert not (tmp_path / "x.tar").exists()
    with pytest.raises(
        DownloadError, match=r"GSE999998/matrix/ failed: HTTP 404.*by hand.*GSE999998"
    ):
        fetch_geo(FetchSettings("GSE999998", str(cache), base_url=base, download=FAST))


def test_fetch_gds_and_raw(server, tmp_path, capsys):
    base, _, geo = server
    cache = tmp_path / "cache"
    files = fetch_geo(FetchSettings("GDS507", str(cache), base_url=base, download=FAST))
    assert [(f.role, f.name, f.platform) for f in files] == [
        ("gds_soft", "GDS507.soft.gz", "GPL97"), ("annotation", "GPL97.annot.gz", "GPL97"),
    ]  # fmt: skip
    ds = load_geo(GeoSettings("GDS507", cache_dir=str(cache)))
    assert ds.shape == (310, 17) and list(ds.samples.columns) == [
        "sample", "disease state", "individual",
    ]  # fmt: skip
    status = main(
        [
            "geo",
            "fetch",
            "GSE999999",
            "--raw",
            "--out",
            str(cache),
            "--base-url",
            base,
            "--retries",
            "1",
        ]
    )
    assert status == 0
    printed = capsys.readouterr().out.splitlines()
    assert [line.split("\t")[1] for line in printed] == ["series_matrix", "raw_tar", "annotation"]
    tar = cache / "GSE999999" / "GSE999999_RAW.tar"
    assert _same(tar, geo / "series/GSE999nnn/GSE999999/suppl/GSE999999_RAW.tar")


def test_cli_fetch_failure_exit_status(server, tmp_path, capsys):
    base, _, _ = server
    status = main(["geo", "fetch", "GSE999998", "GSE999999", "--out", str(tmp_path / "c"),
                   "--base-url", base, "--retries", "0", "--no-annotation"])  # fmt: skip
    assert status == 1
    captured = capsys.readouterr()
    assert "GSE999998/matrix/ failed: HTTP 404" in captured.err
    assert "GSE999999_series_matrix.txt.gz\tseries_matrix" in captured.out  # the others go on


def test_local_folder_mirror_is_fetched_without_network(tmp_path, monkeypatch):
    """base_url may be a folder of GEO's layout (relative to the working directory):
    tests/data/geo/mirror, which config/examples/geo.yaml uses."""
    monkeypatch.chdir(DATA.parent.parent.parent)
    settings = FetchSettings(
        accession="GSE999999", cache_dir=str(tmp_path), base_url="tests/data/geo/mirror"
    )
    files = fetch_geo(settings)
    assert {f.role for f in files} == {"series_matrix", "annotation"}
    assert all(f.url.startswith("file:///") for f in files)
    assert (tmp_path / "GSE999999/GPL97.annot.gz").read_bytes() == (
        DATA.parent / "annotation/GPL97_subset.annot.gz"
    ).read_bytes()
    # The cached annotation gives the source its gene symbols.
    geo = GeoSettings(accession="GSE999999", cache_dir=str(tmp_path))
    assert geo.gene_level
    dataset = load_geo(geo)
    assert dataset.features is not None and dataset.features["gene_symbol"].notna().any()
    missing = FetchSettings(accession="GSE999998", cache_dir=str(tmp_path), base_url="nowhere")
    with pytest.raises(DownloadError, match="no such folder"):
        fetch_geo(missing)
