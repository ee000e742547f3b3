"""Write the simulated Illumina and Agilent fixture files (run from the repository root).

    .venv/bin/python tests/data/platforms/make/make_fixtures.py
    Rscript tests/data/platforms/make/reference.R

The first writes tests/data/platforms/{illumina,agilent}/ from the planted
design (resistant cells, 4 treatments x 2 replicates = 8 arrays, 2,000 genes);
the second writes the limma references beside them.
"""

from pathlib import Path

from sigrestore.simulate.experiment import ExampleSpec, sample_table
from sigrestore.simulate.platforms import (
    AgilentSimSpec,
    IlluminaSimSpec,
    write_agilent_example,
    write_illumina_example,
)

OUT = Path(__file__).resolve().parents[1]
DESIGN = ExampleSpec(n_probesets=2000, signature_size=200, n_mtorc1=60, replicates=2)


def main() -> None:
    sheet = sample_table(DESIGN)
    sheet = sheet[sheet["cell_line"] == "resistant"][["sample"]]
    write_illumina_example(
        OUT / "illumina", IlluminaSimSpec(design=DESIGN, n_negative=200), samples=sheet
    )
    write_agilent_example(
        OUT / "agilent", AgilentSimSpec(design=DESIGN, n_negative=80, n_positive=40), samples=sheet
    )


if __name__ == "__main__":
    main()
