"""Compression handled transparently and detected by magic bytes (extensions lie: GeoDE's .d.Z held gzip).

Outer layers: Unix compress (.Z, LZW), gzip, bzip2, zip. Inner layer: Hatanaka (Compact RINEX), undone with
the ``hatanaka`` package's bundled crx2rnx, so no external tool is needed.
"""

from __future__ import annotations

import bz2
import gzip
import io
import zipfile
import zlib
from pathlib import Path

from ..errors import GeodeError


class RinexFileError(GeodeError):
    """A file that cannot be read as RINEX (corrupt, truncated, wrong content); the message says why."""


MAGIC = ((b"\x1f\x9d", "Z"), (b"\x1f\x8b", "gz"), (b"BZh", "bz2"), (b"PK\x03\x04", "zip"))


def outer_compression(data: bytes) -> str | None:
    for magic, kind in MAGIC:
        if data.startswith(magic):
            return kind
    return None


def is_hatanaka(data: bytes) -> bool:
    return data[60:80].startswith(b"CRINEX VERS   / TYPE")


def is_plain_rinex(data: bytes) -> bool:
    return data[60:80].startswith(b"RINEX VERSION / TYPE")


def unwrap(data: bytes, kind: str) -> bytes:
    """Undo one outer compression (a kind of ``outer_compression``); RinexFileError when the data is corrupt."""
    try:
        if kind == "Z":
            import ncompress

            return ncompress.decompress(data)
        if kind == "gz":
            return gzip.decompress(data)
        if kind == "bz2":
            return bz2.decompress(data)
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = [n for n in zf.namelist() if not n.endswith("/")]
            if len(names) != 1:
                raise RinexFileError(f"zip archive holds {len(names)} files, expected one RINEX file")
            return zf.read(names[0])
    except RinexFileError:
        raise
    except (OSError, EOFError, ValueError, zlib.error, zipfile.BadZipFile) as exc:
        raise RinexFileError(f"{kind} data is corrupt or truncated ({exc})") from None


def decompress_bytes(data: bytes) -> bytes:
    """Plain RINEX text from any supported combination of compressions."""
    for _ in range(3):  # at most zip-in-gz style nesting; more is not a RINEX file
        kind = outer_compression(data)
        if kind is None:
            break
        data = unwrap(data, kind)
    if is_hatanaka(data):
        import hatanaka

        try:
            data = hatanaka.crx2rnx(data)
        except Exception as exc:  # HatanakaException or the tool's own complaint
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise RinexFileError(f"Hatanaka data is corrupt or truncated ({reason})") from None
    if not is_plain_rinex(data):
        raise RinexFileError("not a RINEX file (no 'RINEX VERSION / TYPE' header line)")
    return data


def read_plain(src: Path) -> bytes:
    try:
        return decompress_bytes(Path(src).read_bytes())
    except OSError as exc:
        raise RinexFileError(f"cannot read: {exc.strerror or exc}") from None


def decompress_to(src: Path, dst: Path) -> Path:
    """Write the plain RINEX text of ``src`` (any compression, incl. Hatanaka) to ``dst``; return ``dst``."""
    dst = Path(dst)
    dst.write_bytes(read_plain(src))
    return dst


def compress_bytes(plain: bytes, *, hatanaka: bool, compression: str | None) -> bytes:
    """The inverse: optional Hatanaka, then an optional outer compression (Z, gz, bz2, zip)."""
    data = plain
    if hatanaka:
        import hatanaka as hk

        data = hk.rnx2crx(data)
    if compression == "Z":
        import ncompress

        return ncompress.compress(data)
    if compression == "gz":
        return gzip.compress(data, compresslevel=6, mtime=0)  # mtime 0: same input, same bytes
    if compression == "bz2":
        return bz2.compress(data)
    if compression == "zip":
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(zipfile.ZipInfo("rinex", date_time=(1980, 1, 1, 0, 0, 0)), data)
        return buf.getvalue()
    if compression is not None:
        raise ValueError(f"unknown compression {compression!r}")
    return data
