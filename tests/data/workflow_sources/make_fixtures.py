"""Write the small simulated inputs of the example configs config/examples/{counts,
illumina,agilent}.yaml (deterministic; run from the repository root):

    python tests/data/workflow_sources/make_fixtures.py

Each study is the bundled example's design (2 cell lines x 4 treatments x 3
replicates, a 40 % restored fulvestrant signature) on 1,000 genes / probes.
The count study keeps its gene sets (counts/gene_sets.gmt, symbols of its
gene_name column) for the gene-level enrichment of config/examples/counts.yaml.
"""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pandas as pd

from sigrestore.atomic import write_tsv
from sigrestore.simulate.counts import CountSpec, write_count_example
from sigrestore.simulate.experiment import ExampleSpec
from sigrestore.simulate.platforms import (
    AgilentSimSpec,
    IlluminaSimSpec,
    write_agilent_example,
    write_illumina_example,
)

HERE = Path(__file__).resolve().parent
DESIGN = ExampleSpec(n_probesets=1000, signature_size=200, n_mtorc1=40)


def _gzip(path: Path) -> None:
    with open(path, "rb") as src, gzip.GzipFile(f"{path}.gz", "wb", mtime=0) as dst:
        shutil.copyfileobj(src, dst)
    path.unlink()


def main() -> None:
    counts = write_count_example(HERE / "counts", spec=CountSpec(design=DESIGN))
    # The count sheet names each sample's table column; it has no raw files.
    sheet = pd.read_csv(counts.samples, sep="\t", dtype=str)
    write_tsv(sheet.drop(columns="file"), counts.samples, index=False)
    files = write_illumina_example(HERE / "illumina", IlluminaSimSpec(design=DESIGN))
    _gzip(files.probe_profile)
    _gzip(files.control_profile)
    write_agilent_example(HERE / "agilent", AgilentSimSpec(design=DESIGN, gzip_every=1))
    for folder in ("counts", "illumina", "agilent"):
        for name in ("truth.tsv", "gene_sets.gmt"):
            # The count example ranks genes by symbol against its gene sets.
            if (folder, name) != ("counts", "gene_sets.gmt"):
                (HERE / folder / name).unlink(missing_ok=True)


if __name__ == "__main__":
    main()
