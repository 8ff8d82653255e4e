"""RINEX observation files: names, compression (incl. Hatanaka), header and epoch statistics, conversion to
RINEX 2.11 (``to_rinex2``, for the PPP engine).

No external tool (gfzrnx, teqc) is needed: Hatanaka goes through the ``hatanaka`` package's bundled crx2rnx.
"""

from .compression import RinexFileError, compress_bytes, decompress_bytes, decompress_to
from .convert import to_rinex2
from .names import RinexName, RinexNameError
from .reader import RinexHeader, RinexInfo, read_rinex

__all__ = ["RinexFileError", "RinexHeader", "RinexInfo", "RinexName", "RinexNameError", "compress_bytes",
           "decompress_bytes", "decompress_to", "read_rinex", "to_rinex2"]
