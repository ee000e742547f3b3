"""Readers and writers for raw Affymetrix files (CEL, CDF).

CEL: text v3, binary XDA v4 and Command Console ("Calvin"), each plain or
gzipped, detected from the content.  CDF: ASCII (GC3.0 and later) and binary
XDA (versions 1-4).  Every problem with a file raises
:class:`~sigrestore.errors.FormatError` naming the file.
"""

from sigrestore.errors import FormatError
from sigrestore.io.cdf import read_cdf, write_cdf
from sigrestore.io.cdf_cache import load_cdf, read_cdf_cache, save_cdf_cache
from sigrestore.io.cel import read_cel, read_cel_header, read_cel_intensity, write_cel
from sigrestore.io.models import CdfData, CelData

__all__ = [
    "CdfData",
    "CelData",
    "FormatError",
    "load_cdf",
    "read_cdf",
    "read_cdf_cache",
    "read_cel",
    "read_cel_header",
    "read_cel_intensity",
    "save_cdf_cache",
    "write_cdf",
    "write_cel",
]
