"""Write the count fixture of tests/counts: sim_counts.tsv.gz and sim_samples.tsv.

Run from tests/data/counts:  python make/make_fixture.py
(sigrestore's count simulator with its default CountSpec: 3000 genes, 24 samples.)
"""

from pathlib import Path

from sigrestore.atomic import write_tsv
from sigrestore.simulate.counts import CountSpec, simulate_counts

here = Path(".")
counts, samples, _truth = simulate_counts(CountSpec())
write_tsv(counts, here / "sim_counts.tsv.gz", index=True)
write_tsv(
    samples[["sample", "cell_line", "treatment", "replicate"]],
    here / "sim_samples.tsv",
    index=False,
)
