"""A seeded generator of damaged RINEX files, derived from the synthetic RINEX 2/3 files of geode.rinex.synth.

``mutants(seed)`` returns a few hundred ``Mutant``s (a relative repository path, bytes, a category): every
compression the archive meets, then truncations, flipped bytes, garbage counts, inf/NaN times, binary junk,
wrong suffixes, encrypted / unsupported / multi-file zips, nested compression and compression bombs, damaged
Hatanaka text, and header values that do not parse (those are kept, with warnings). The same seed always gives
the same files.
"""

from __future__ import annotations

import bz2
import datetime as dt
import gzip
import io
import random
import zipfile
from dataclasses import dataclass

from geode.example.archive import file_name, station_spec
from geode.rinex.compression import compress_bytes
from geode.rinex.synth import render

from .conftest import STATIONS

SEED = 13
YEAR = 2024
KINDS = {  # name kind → (RINEX version, hatanaka, compression)
    "crinez2": (2, True, "Z"), "crinez3": (3, True, "gz"), "gz": (2, False, "gz"), "bz2": (2, False, "bz2"),
    "zip": (3, False, "zip"), "plain": (2, False, None), "crx": (3, True, None), "crinez2gz": (2, True, "gz"),
}
BOMB_MB = 64  # what the bombs expand to; the test's cap ([archive] max_rinex_mb) is well below


@dataclass(frozen=True)
class Mutant:
    rel: str  # relative to data_in (net.stn/name), or the archive layout path net/yyyy/ddd/name
    data: bytes
    category: str
    network: str
    station: str
    doy: int


def _name(code: str, doy: int, kind: str) -> str:
    from geode.rinex.names import RinexName

    version, hatanaka, comp = KINDS[kind]
    if kind == "crinez2gz":
        return RinexName(code, YEAR, doy, 2, True, "gz").name
    return file_name(code, YEAR, doy, kind if kind in ("crinez2", "crinez3", "gz", "bz2", "zip", "plain", "crx")
                     else "plain")


def _plain(station, doy: int, version: int) -> str:
    day = dt.datetime(YEAR, 1, 1) + dt.timedelta(days=doy - 1)
    spec = station_spec(station, YEAR, doy, version).with_(start=day + dt.timedelta(hours=1), epochs=120,
                                                            satellites=("G05", "G12", "G24"))
    return render(spec)


def _wrap(plain: str, kind: str) -> bytes:
    """The text in the kind's compression; damage rnx2crx refuses goes in with the outer compression only."""
    from hatanaka import HatanakaException

    _version, hatanaka, comp = KINDS[kind]
    try:
        return compress_bytes(plain.encode("ascii"), hatanaka=hatanaka, compression=comp)
    except HatanakaException:
        return compress_bytes(plain.encode("ascii"), hatanaka=False, compression=comp)


def _zip(data: bytes, method: int = zipfile.ZIP_DEFLATED, members: int = 1) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as zf:
        for i in range(members):
            zf.writestr(zipfile.ZipInfo(f"rinex{i}", date_time=(1980, 1, 1, 0, 0, 0)), data)
    return buf.getvalue()


def _set_zip_fields(data: bytes, *, encrypted: bool = False, method: int | None = None) -> bytes:
    """Mark a one-member zip as encrypted or as using another compression method (local + central header)."""
    out = bytearray(data)
    local, central = 0, out.rfind(b"PK\x01\x02")
    if encrypted:
        out[local + 6] |= 0x1
        out[central + 8] |= 0x1
    if method is not None:
        out[local + 8:local + 10] = method.to_bytes(2, "little")
        out[central + 10:central + 12] = method.to_bytes(2, "little")
    return bytes(out)


def _event_bomb(plain: str, megabytes: int, compression: str, nested: bool = False) -> bytes:
    """A valid header, then event records (flag 4, 999 comment lines each) repeated to ``megabytes``: readable
    to the very end, so only the size cap stops it. Written streaming (the bomb itself is never in memory);
    ``nested`` puts the gzip'd bomb inside another gzip layer."""
    import ncompress

    header = (plain[:plain.index("END OF HEADER")] + "END OF HEADER\n").encode()
    block = (" " * 26 + "  4999\n" + ("x" * 60 + "COMMENT\n") * 999).encode()
    count = megabytes * 1024 * 1024 // len(block) + 1

    def pieces():
        yield header
        for _ in range(count):
            yield block

    out = io.BytesIO()
    if compression == "gz":
        with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=9, mtime=0) as gz:
            for piece in pieces():
                gz.write(piece)
        if nested:
            return gzip.compress(out.getvalue(), mtime=0)
    elif compression == "bz2":  # bzip2 is slow to write: one stream of 16 blocks, concatenated
        one = bz2.compress(block * 16, 9)
        return bz2.compress(header + block, 9) + one * (count // 16 + 1)
    else:
        class Reader:
            def __init__(self):
                self.it = pieces()

            def read(self, n=-1):
                return next(self.it, b"")

        ncompress.compress(Reader(), out)
    return out.getvalue()


def _damage_line(lines: list[str], label: str, new_body) -> list[str]:
    out = list(lines)
    for i, line in enumerate(out):
        if line[60:80].rstrip("\n").strip() == label:
            out[i] = new_body(line)
            return out
    return out


def mutants(seed: int = SEED) -> list[Mutant]:
    rng = random.Random(seed)
    out: list[Mutant] = []
    slots = [(s, d) for d in range(1, 367) for s in STATIONS]  # one station-day per file: unique names

    def _peek_slot():
        """The station-day the next added file gets (its content is made for that day)."""
        return slots[len(out)]

    def add(category: str, kind: str, data: bytes, name_kind: str | None = None) -> None:
        station, doy = slots[len(out)]
        name = _name(station.code, doy, name_kind or kind)
        out.append(Mutant(f"{station.network}.{station.code}/{name}", data, category, station.network,
                          station.code, doy))

    def content(kind: str, edit=None) -> tuple[str, bytes]:
        station, doy = _peek_slot()
        text = _plain(station, doy, KINDS[kind][0])
        if edit is not None:
            text = edit(text)
        return kind, _wrap(text, kind)

    all_kinds = list(KINDS)
    # 1. good files in every compression (they must be archived)
    for kind in all_kinds * 3:
        add("good", *content(kind))
    # 2. truncations
    for _ in range(45):
        kind, data = content(rng.choice(all_kinds))
        add("truncated", kind, data[:rng.randrange(0, len(data))])
    # 3. flipped bytes
    for _ in range(55):
        kind, data = content(rng.choice(all_kinds))
        buf = bytearray(data)
        for _ in range(rng.randrange(1, 6)):
            buf[rng.randrange(len(buf))] = rng.randrange(256)
        add("flipped", kind, bytes(buf))

    # 4. garbage counts in the observation-type records and in epoch records
    def garbage_count(text: str) -> str:
        junk = rng.choice(["x3", "-1", "99", "  ", "2.5", "ab", "1e9", "\x00\x00"])
        lines = text.splitlines(keepends=True)
        which = rng.random()
        if which < 0.5:
            lines = _damage_line(lines, "# / TYPES OF OBSERV", lambda l: f"{junk:>6}" + l[6:])
            lines = _damage_line(lines, "SYS / # / OBS TYPES", lambda l: l[:3] + f"{junk:>3}"[:3] + l[6:])
        else:
            end = next(i for i, l in enumerate(lines) if "END OF HEADER" in l)
            i = end + 1 + rng.randrange(0, 40)
            while i < len(lines) and not (lines[i].startswith(">") or lines[i][28:29] in "01" and
                                          lines[i][3:4] == " " and lines[i][1:3].strip().isdigit()):
                i += 1
            if i < len(lines):
                if lines[i].startswith(">"):
                    lines[i] = lines[i][:32] + f"{junk:>3}"[:3] + lines[i][35:]
                else:
                    lines[i] = lines[i][:29] + f"{junk:>3}"[:3] + lines[i][32:]
        return "".join(lines)

    for _ in range(24):
        add("garbage_count", *content(rng.choice(["plain", "gz", "crinez3", "zip", "crinez2"]), garbage_count))

    # 5. inf / NaN / impossible times
    def bad_time(text: str) -> str:
        junk = rng.choice(["inf", "nan", "-inf", "1e999", "-1.0", "61.5", "NaN"])
        lines = text.splitlines(keepends=True)
        end = next(i for i, l in enumerate(lines) if "END OF HEADER" in l)
        if rng.random() < 0.3:
            return "".join(_damage_line(lines, "TIME OF FIRST OBS", lambda l: l[:30] + f"{junk:>13}" + l[43:]))
        for i in range(end + 1 + rng.randrange(0, 30), len(lines)):
            line = lines[i]
            if line.startswith(">"):
                lines[i] = line[:18] + f"{junk:>11}" + line[29:]
                break
            if line[1:3].strip().isdigit() and line[28:29] in "01" and "G" in line[32:]:
                lines[i] = line[:15] + f"{junk:>11}" + line[26:]
                break
        return "".join(lines)

    for _ in range(24):
        add("bad_time", *content(rng.choice(["plain", "gz", "crinez2", "crinez3", "bz2"]), bad_time))

    # 6. binary junk (some of it behind a real magic number), empty files, HTML pages
    for i in range(16):
        junk = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 4000)))
        prefix = [b"", b"\x1f\x9d", b"\x1f\x8b\x08", b"BZh9", b"PK\x03\x04"][i % 5]
        add("binary", rng.choice(all_kinds), prefix + junk)
    add("binary", "plain", b"")
    add("binary", "gz", gzip.compress(b""))
    add("binary", "plain", b"<!DOCTYPE html><html><body>Login required</body></html>\n")

    # 7. wrong suffixes: the content decides (all of these are good files)
    for kind, name_kind in (("gz", "crinez2"), ("crinez2gz", "crinez2"), ("plain", "gz"), ("bz2", "zip"),
                            ("zip", "crinez3"), ("crx", "crinez3"), ("crinez2", "plain"), ("gz", "bz2")):
        _, data = content(kind)
        add("wrong_suffix", kind, data, name_kind)

    # 8. zips: encrypted, unsupported method, several members
    for _ in range(5):
        _, data = content("plain")
        add("encrypted_zip", "zip", _set_zip_fields(_zip(data), encrypted=True))
    for method in (99, 6, 9, 97, 98):  # AES, implode, deflate64, WavPack, PPMd
        _, data = content("plain")
        add("unsupported_zip", "zip", _set_zip_fields(_zip(data), method=method))
    for _ in range(3):
        _, data = content("plain")
        add("multi_zip", "zip", _zip(data, members=2))

    # 9. nested compression and bombs
    _, plain = content("plain")
    add("nested", "gz", gzip.compress(gzip.compress(plain)))
    _, plain = content("plain")
    add("nested", "zip", _zip(gzip.compress(plain)))
    _, plain = content("plain")
    add("nested", "bz2", bz2.compress(_zip(plain)))
    _, plain = content("plain")
    add("nested", "crinez2", compress_bytes(bz2.compress(plain), hatanaka=False, compression="Z"))
    for kind, comp in (("gz", "gz"), ("bz2", "bz2"), ("crinez2", "Z")):
        station, doy = _peek_slot()
        add("bomb", kind, _event_bomb(_plain(station, doy, 2), BOMB_MB, comp))
    station, doy = _peek_slot()
    add("nested_bomb", "gz", _event_bomb(_plain(station, doy, 2), BOMB_MB, "gz", nested=True))

    # 10. damaged Hatanaka text: a line lost or garbled in the middle
    for _ in range(20):
        station, doy = _peek_slot()
        kind = rng.choice(["crx", "crinez3", "crinez2"])
        crx = compress_bytes(_plain(station, doy, KINDS[kind][0]).encode(), hatanaka=True, compression=None)
        lines = crx.split(b"\n")
        end = next(i for i, l in enumerate(lines) if b"END OF HEADER" in l)
        i = rng.randrange(end + 3, len(lines) - 2)
        if rng.random() < 0.5:
            del lines[i]
        else:
            lines[i] = b"&" + bytes(rng.randrange(33, 127) for _ in range(rng.randrange(1, 30)))
        damaged = b"\n".join(lines)
        comp = KINDS[kind][2]
        add("damaged_hatanaka", kind, compress_bytes(damaged, hatanaka=False, compression=comp))

    # 11. header values that do not parse: kept, with a named warning
    def shifted_position(text: str) -> str:
        return "".join(_damage_line(text.splitlines(keepends=True), "APPROX POSITION XYZ", lambda l: " " + l[:59]
                                    + l[60:]))

    def bad_delta(text: str) -> str:
        return "".join(_damage_line(text.splitlines(keepends=True), "ANTENNA: DELTA H/E/N",
                                    lambda l: f"{'1.2O34':>14}" + l[14:]))

    def bad_interval(text: str) -> str:
        return "".join(_damage_line(text.splitlines(keepends=True), "INTERVAL", lambda l: f"{'thirty':>10}" + l[10:]))

    def control_chars(text: str) -> str:
        return "".join(_damage_line(text.splitlines(keepends=True), "REC # / TYPE / VERS",
                                    lambda l: l[:20] + "TRIMBLE\x07NETR9\x1b" + l[34:]))

    for edit in (shifted_position, bad_delta, bad_interval, control_chars) * 4:
        add("header_value", *content(rng.choice(["plain", "gz", "crinez2", "crinez3"]), edit))
    return out

