"""The package's exception types.

Every error the package raises on bad input is a :class:`SigrestoreError`, so
callers (and the Snakemake rules) can tell a problem with the user's data from
a bug.  Messages name the file, row or key at fault.
"""

from __future__ import annotations


class SigrestoreError(Exception):
    """Base class of every error sigrestore raises on bad input."""


class FormatError(SigrestoreError):
    """A raw data file (CEL, CDF, annotation, GMT) cannot be read as claimed."""


class ConfigError(SigrestoreError):
    """The configuration or the sample sheet is invalid."""


class DesignError(SigrestoreError):
    """A design, contrast or comparison cannot be built or estimated."""
