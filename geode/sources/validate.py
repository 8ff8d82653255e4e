"""Is a downloaded file really RINEX? Archives answer a missing file with an HTML login or error page saved
under the requested name, or cut a transfer short; both must be refused before they reach data_in."""

from __future__ import annotations

from pathlib import Path

from ..errors import InputUnavailable
from ..rinex.compression import RinexFileError, drain, open_rinex, outer_compression

_HTML_STARTS = (b"<!doctype", b"<html", b"<?xml", b"<head", b"<body", b"<!--")


def rejection(path: Path, max_size: int | None = None) -> str | None:
    """Why ``path`` is not an acceptable RINEX download, or None when it is.

    Checks: not empty, not an HTML/XML page, its compression layer (identified by magic bytes, whatever the
    extension says) unpacks completely within the size cap, and what is inside is RINEX or CRINEX (Hatanaka
    data decodes without a warning). Streams: memory stays small whatever the download holds."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(512)
            if not head:
                return "empty file (0 bytes)"
            if outer_compression(head) is None and head.lstrip().lower().startswith(_HTML_STARTS):
                return "HTML page instead of RINEX (a login or error page?)"
            with open_rinex(fh, max_size=max_size) as stream:
                drain(stream)
    except RinexFileError as exc:
        return str(exc)
    except (OSError, InputUnavailable) as exc:
        return f"cannot read the downloaded file: {getattr(exc, 'strerror', None) or exc}"
    return None
