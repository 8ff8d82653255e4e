"""RINEX observation files: names, compression (incl. Hatanaka), header and epoch statistics, conversion to
RINEX 2.11 (``to_rinex2``, for the PPP engine).

No external tool (gfzrnx, teqc) is needed: Hatanaka goes through the ``hatanaka`` package's bundled crx2rnx.
Every reader here raises RinexFileError (a geode.errors.BadInput) for content it cannot read, and
InputUnavailable when the file itself cannot be read; nothing else.
"""

from .compression import (RinexFileError, RinexTooLarge, compress_bytes, decompress_bytes, decompress_to,
                          open_rinex)
from .convert import to_rinex2
from .names import RinexName, RinexNameError
from .reader import RinexHeader, RinexInfo, read_rinex

__all__ = ["RinexFileError", "RinexHeader", "RinexInfo", "RinexName", "RinexNameError", "RinexTooLarge",
           "compress_bytes", "decompress_bytes", "decompress_to", "open_rinex", "read_rinex", "to_rinex2"]
