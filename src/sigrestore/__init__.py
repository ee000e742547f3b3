"""sigrestore: how much of a drug's expression signature a cotreatment restores.

Raw Affymetrix arrays (CEL + CDF) are read by :mod:`sigrestore.io`, normalized
by :mod:`sigrestore.preprocess` (RMA), tested by :mod:`sigrestore.diffexp`
(limma's moderated statistics) and compared by :mod:`sigrestore.restoration`.
"""

from sigrestore.errors import ConfigError, DesignError, FormatError, SigrestoreError

__version__ = "0.1.0"

__all__ = ["ConfigError", "DesignError", "FormatError", "SigrestoreError", "__version__"]
