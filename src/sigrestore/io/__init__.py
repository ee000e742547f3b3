"""Readers and writers for raw Affymetrix files (CEL, CDF)."""

from sigrestore.errors import FormatError
from sigrestore.io.models import CdfData, CelData

__all__ = ["CdfData", "CelData", "FormatError"]
