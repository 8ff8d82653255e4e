"""Compression handled transparently and detected by magic bytes (extensions lie: GeoDE's .d.Z held gzip).

Everything streams, in chunks, with a cap on what comes out (``max_size``, bytes): a file is read as

    file ─▶ at most one outer layer (Unix compress .Z, gzip, bzip2, zip) ─▶ optional Hatanaka (crx2rnx) ─▶ text

and memory stays a few chunks whatever the file holds. More than one outer layer (gz inside zip ...), a zip
holding several files, an encrypted zip or one with an unsupported method, and data past the cap are
rejections (``RinexFileError`` / ``RinexTooLarge``), never a bare Python exception. Hatanaka goes through the
``hatanaka`` package's bundled crx2rnx/rnx2crx executables, run as pipes; crx2rnx's warnings (exit code 2, or
anything on stderr) mean it skipped or corrupted data, so they are a rejection too.

An I/O error on the file itself (EIO, no permission, disk gone) is ``InputUnavailable``: not the file's fault.
"""

from __future__ import annotations

import bz2
import contextlib
import gzip
import hashlib
import io
import lzma
import os
import queue
import re
import struct
import subprocess
import threading
import zipfile
import zlib
from pathlib import Path
from typing import BinaryIO, Iterator

try:
    import fcntl
except ImportError:  # not on Windows
    fcntl = None

from ..errors import BadInput, InputUnavailable

CHUNK = 64 * 1024
PEEK = 256  # bytes looked at to recognise what a layer holds
# The largest plausible daily 1 Hz file: RINEX 3 from a four-constellation receiver, ~40 satellites × 12
# observables × 16 characters + the epoch line ≈ 7.9 kB an epoch × 86400 epochs ≈ 680 MB. The default cap is
# three times that; [archive] max_rinex_mb changes it.
DEFAULT_MAX_MB = 2048
DEFAULT_MAX_SIZE = DEFAULT_MAX_MB * 1024 * 1024
KINDS = {"Z": "Unix compress", "gz": "gzip", "bz2": "bzip2", "zip": "zip"}


class RinexFileError(BadInput):
    """A file that cannot be read as RINEX (corrupt, truncated, wrong content); the message says why."""

    folder = "bad_rinex"


class RinexTooLarge(RinexFileError):
    """Uncompressed data past the size cap ([archive] max_rinex_mb): a compression bomb or not a daily file."""

    folder = "too_large"


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


def max_size_of(settings) -> int:
    """The cap in bytes from [archive] max_rinex_mb (default DEFAULT_MAX_MB)."""
    mb = settings.get("archive.max_rinex_mb") if settings is not None else None
    return int(mb or DEFAULT_MAX_MB) * 1024 * 1024


def _hatanaka_exe(name: str) -> str:
    from importlib import resources

    return str(resources.files("hatanaka.bin").joinpath(name))


# ----------------------------------------------------------------------------------------------------------------
# the layers, each an iterator of byte chunks


class _RawFile(io.RawIOBase):
    """The file being read; its own I/O errors become InputUnavailable (so no layer mistakes them for
    corrupt data), and everything above sees a plain seekable binary stream."""

    def __init__(self, fh: BinaryIO):
        super().__init__()
        self.fh = fh

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        try:
            data = self.fh.read(len(buffer))
        except OSError as exc:
            raise InputUnavailable(f"cannot read: {exc.strerror or exc}") from None
        buffer[:len(data)] = data
        return len(data)

    def seek(self, offset: int, whence: int = 0) -> int:
        try:
            return self.fh.seek(offset, whence)
        except OSError as exc:
            raise InputUnavailable(f"cannot read: {exc.strerror or exc}") from None

    def tell(self) -> int:
        return self.fh.tell()


def _file_chunks(raw: io.RawIOBase) -> Iterator[bytes]:
    while True:
        data = raw.read(CHUNK)
        if not data:
            return
        yield data


def _reader_chunks(kind: str, reader) -> Iterator[bytes]:
    try:
        while True:
            data = reader.read(CHUNK)
            if not data:
                return
            yield data
    except (OSError, EOFError, ValueError, zlib.error, lzma.LZMAError, zipfile.BadZipFile, struct.error) as exc:
        raise RinexFileError(f"{kind} data is corrupt or truncated ({_short(exc)})") from None
    finally:
        with contextlib.suppress(Exception):
            reader.close()


def _zip_member(raw: io.RawIOBase):
    try:
        zf = zipfile.ZipFile(raw)
        members = [i for i in zf.infolist() if not i.filename.endswith("/")]
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, struct.error, KeyError, IndexError) as exc:
        raise RinexFileError(f"zip data is corrupt or truncated ({_short(exc)})") from None
    if len(members) != 1:
        raise RinexFileError(f"zip archive holds {len(members)} files, expected one RINEX file")
    info = members[0]
    if info.flag_bits & 0x1:
        raise RinexFileError("zip archive is encrypted (a password would be needed)")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA):
        raise RinexFileError(f"zip compression method {info.compress_type} is not supported "
                             "(stored, deflate, bzip2 and lzma are)")
    try:
        return zf.open(info)
    except (zipfile.BadZipFile, RuntimeError, NotImplementedError, OSError, EOFError, ValueError, struct.error,
            zlib.error, lzma.LZMAError) as exc:
        raise RinexFileError(f"zip data is corrupt or truncated ({_short(exc)})") from None


class _Guarded:
    """ncompress (a C++ extension) aborts the whole process when a Python exception escapes its read/write
    callbacks at some points (std::terminate on nanobind::python_error): every callback goes through this guard,
    which records the first exception, turns it into end-of-input / discarded output, and re-raises it once
    ncompress has returned (``check``)."""

    def __init__(self, stop: threading.Event | None = None):
        self.error: BaseException | None = None
        self.stop = stop

    @property
    def stopped(self) -> bool:
        return self.error is not None or (self.stop is not None and self.stop.is_set())

    def reader(self, source):
        guard = self

        class Reader:
            def read(self, n: int = -1) -> bytes:
                if guard.stopped:
                    return b""
                try:
                    return source.read(n)
                except BaseException as exc:
                    guard.error = guard.error or exc
                    return b""

        return Reader()

    def writer(self, sink):
        guard = self

        class Writer:
            def write(self, data) -> int:
                if not guard.stopped:
                    try:
                        sink.write(data)
                    except BaseException as exc:
                        guard.error = guard.error or exc
                return len(data)

        return Writer()

    def check(self) -> None:
        if self.error is not None:
            raise self.error


class _QueueWriter:
    """A sink for push-style decompressors (ncompress): 64 KiB pieces into a bounded queue; once the consumer
    went away (``stop``) everything is dropped."""

    def __init__(self, q: queue.Queue, stop: threading.Event):
        self.q, self.stop, self.buf = q, stop, bytearray()

    def write(self, data) -> int:
        self.buf += data
        if len(self.buf) >= CHUNK:
            self.flush()
        return len(data)

    def flush(self) -> None:
        if self.buf:
            self.put(bytes(self.buf))
            self.buf.clear()

    def put(self, item) -> None:
        while not self.stop.is_set():
            try:
                self.q.put(item, timeout=0.1)
                return
            except queue.Full:
                continue


def _unix_compress_chunks(raw: io.RawIOBase) -> Iterator[bytes]:
    """.Z (LZW) through ncompress, which only pushes: it runs in a thread feeding a bounded queue."""
    import ncompress

    q: queue.Queue = queue.Queue(maxsize=4)
    stop = threading.Event()
    done = object()
    failure: list[BaseException] = []

    def produce() -> None:
        sink = _QueueWriter(q, stop)
        guard = _Guarded(stop)
        try:
            ncompress.decompress(guard.reader(raw), guard.writer(sink))
            guard.check()
            sink.flush()
        except BaseException as exc:  # handed to the consumer, which turns it into the right error
            failure.append(exc)
        sink.put(done)

    thread = threading.Thread(target=produce, name="geode-unlzw", daemon=True)
    thread.start()
    try:
        while True:
            item = q.get()
            if item is done:
                break
            yield item
        if failure:
            exc = failure[0]
            if isinstance(exc, InputUnavailable):
                raise exc
            raise RinexFileError(f"Z data is corrupt or truncated ({_short(exc)})")
    finally:
        stop.set()
        thread.join()


def _outer_chunks(kind: str, raw: io.RawIOBase) -> Iterator[bytes]:
    if kind == "Z":
        return _unix_compress_chunks(raw)
    if kind == "gz":
        return _reader_chunks("gz", gzip.GzipFile(fileobj=raw, mode="rb"))
    if kind == "bz2":
        return _reader_chunks("bz2", bz2.BZ2File(raw, mode="rb"))
    return _reader_chunks("zip", _zip_member(raw))


def _capped(chunks: Iterator[bytes], max_size: int, what: str) -> Iterator[bytes]:
    total = 0
    for data in chunks:
        total += len(data)
        if total > max_size:
            raise RinexTooLarge(f"{what} is larger than {max_size // (1024 * 1024)} MiB uncompressed "
                                "(a compression bomb, or not a daily file; [archive] max_rinex_mb sets the limit)")
        yield data


def _peek(chunks: Iterator[bytes], size: int = PEEK) -> tuple[bytes, Iterator[bytes]]:
    """The first ``size`` bytes (fewer at the end of the data) and an iterator over everything, them included."""
    head = b""
    for data in chunks:
        head += data
        if len(head) >= size:
            break
    return head, _chain(head, chunks)


def _chain(head: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    if head:
        yield head
    yield from rest


def _short(exc: BaseException) -> str:
    """A library's complaint as a short reason: first line, without 'Error -3 while ...:' or '[Errno 5]'."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    text = re.sub(r"^Error -?\d+ while (?:de)?compressing data:\s*", "", text)
    text = re.sub(r"^\[Errno \d+\]\s*", "", text)
    if isinstance(exc, EOFError) and not text:
        text = "ends early"
    return text.rstrip(".") or "unreadable"


PIPE_SIZE = 1024 * 1024  # Linux's default upper limit for a pipe (fs.pipe-max-size)


def _widen(pipe) -> None:
    """Let the program run up to PIPE_SIZE ahead of the reader (Linux; elsewhere the default pipe stays): a
    reader that works on the text in pieces then overlaps its work with the decompression."""
    size = getattr(fcntl, "F_SETPIPE_SZ", None) if fcntl is not None else None
    if size is not None:
        with contextlib.suppress(OSError, ValueError):
            fcntl.fcntl(pipe.fileno(), size, PIPE_SIZE)


def _pipe_through(program: str, chunks: Iterator[bytes], what: str) -> Iterator[bytes]:
    """Run the bundled Hatanaka ``program`` on the chunks (fed by a thread), yielding its output; its errors and
    warnings (exit code not 0, or anything on stderr) become RinexFileError naming ``what``."""
    import tempfile

    errors = tempfile.TemporaryFile()  # anonymous: gone with the process, whatever happens
    try:
        proc = subprocess.Popen([_hatanaka_exe(program), "-"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=errors)
    except OSError as exc:
        errors.close()
        raise InputUnavailable(f"cannot run {program}: {exc.strerror or exc} (pip install hatanaka)") from None
    failure: list[BaseException] = []
    _widen(proc.stdout)
    _widen(proc.stdin)

    def feed() -> None:
        try:
            for data in chunks:
                proc.stdin.write(data)
        except (BrokenPipeError, ValueError, OSError):  # the program stopped reading (it failed) or was killed
            pass
        except BaseException as exc:  # an error of the layer below: the consumer raises it
            failure.append(exc)
        finally:
            with contextlib.suppress(OSError, ValueError):
                proc.stdin.close()

    feeder = threading.Thread(target=feed, name=f"geode-{program}", daemon=True)
    feeder.start()
    try:
        while True:
            data = proc.stdout.read1(CHUNK)
            if not data:
                break
            yield data
        feeder.join()
        code = proc.wait()
        if failure:
            raise failure[0]
        errors.seek(0)
        message = " ".join(errors.read(4096).decode("ascii", "replace").split())
        if code != 0 or message:
            message = re.sub(r"\s*start>.*?<end", "", message).removeprefix("ERROR :").removeprefix("ERROR")
            message = message.strip(" :")
            raise RinexFileError(f"{what}: {program} {'failed' if code not in (0, 2) else 'warned'}: "
                                 f"{message or f'exit code {code}'}")
    finally:
        if proc.poll() is None:
            proc.kill()
        for pipe in (proc.stdout, proc.stdin):
            with contextlib.suppress(OSError, ValueError):
                pipe.close()
        proc.wait()
        feeder.join()
        errors.close()


# ----------------------------------------------------------------------------------------------------------------
# the public stream


class RinexStream(io.RawIOBase):
    """Readable stream of one file's content after its layers, capped; knows what it unwrapped, how many bytes it
    delivered and their SHA-256."""

    def __init__(self, chunks: Iterator[bytes], compression: str | None, hatanaka: bool, decoded: bool):
        super().__init__()
        self._chunks = chunks
        self._pending = b""
        self.compression = compression  # outer layer found: None, Z, gz, bz2, zip
        self.hatanaka = hatanaka  # the file holds Compact RINEX
        self.decoded = decoded  # Hatanaka was undone (else the stream is Compact RINEX text)
        self.size = 0
        self._hash = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self._pending:
            data = next(self._chunks, None)
            if data is None:
                return 0
            self._pending = data
        n = min(len(buffer), len(self._pending))
        buffer[:n] = self._pending[:n]
        self._account(self._pending[:n])
        self._pending = self._pending[n:]
        return n

    def chunks(self) -> Iterator[bytes]:
        """The rest of the content in chunks (faster than read() for whole-file work)."""
        if self._pending:
            data, self._pending = self._pending, b""
            self._account(data)
            yield data
        for data in self._chunks:
            self._account(data)
            yield data

    def _account(self, data: bytes) -> None:
        self.size += len(data)
        self._hash.update(data)

    def hexdigest(self) -> str:
        return self._hash.hexdigest()

    def close(self) -> None:
        if not self.closed:
            close = getattr(self._chunks, "close", None)
            if close is not None:
                close()
        super().close()


@contextlib.contextmanager
def open_rinex(src: Path | str | BinaryIO, *, max_size: int | None = None,
               decode_hatanaka: bool = True) -> Iterator[RinexStream]:
    """The content of a RINEX file in any supported compression, as a capped stream.

    ``src`` is a path or an open binary file (read from its start; the caller keeps it open). With
    ``decode_hatanaka`` False a Compact RINEX file comes out as Compact RINEX text (``stream.decoded`` False).
    RinexFileError (or RinexTooLarge) when the content is not RINEX, InputUnavailable when the file cannot be read.
    Errors inside the data surface while reading, so read to the end before trusting the content.
    """
    limit = DEFAULT_MAX_SIZE if max_size is None else int(max_size)
    with contextlib.ExitStack() as stack:
        if isinstance(src, (str, os.PathLike)):
            try:
                fh = stack.enter_context(open(src, "rb"))
            except OSError as exc:
                raise InputUnavailable(f"cannot read: {exc.strerror or exc}") from None
        else:
            fh = src
            try:
                fh.seek(0)
            except OSError as exc:
                raise InputUnavailable(f"cannot read: {exc.strerror or exc}") from None
        raw = _RawFile(fh)
        magic = raw.read(8) or b""
        raw.seek(0)
        kind = outer_compression(magic)
        chunks: Iterator[bytes] = _file_chunks(raw)
        if kind is not None:
            chunks = _capped(_outer_chunks(kind, raw), limit, f"the {KINDS[kind]} content")
            stack.callback(_close, chunks)
        head, chunks = _peek(chunks)
        if not head:
            raise RinexFileError("empty file" if kind is None else f"the {KINDS[kind]} data holds an empty file")
        inner = outer_compression(head)
        if kind is not None and inner is not None:
            raise RinexFileError(f"{KINDS[inner]} inside {KINDS[kind]}: at most one compression layer (plus "
                                 "Hatanaka) is accepted")
        hatanaka = is_hatanaka(head)
        if not hatanaka and not is_plain_rinex(head):
            raise RinexFileError("not a RINEX file (no 'RINEX VERSION / TYPE' or 'CRINEX VERS / TYPE' header line)")
        decoded = hatanaka and decode_hatanaka
        if decoded:
            chunks = _pipe_through("crx2rnx", chunks, "Hatanaka data is damaged")
            stack.callback(_close, chunks)
        chunks = _capped(chunks, limit, "the RINEX content")
        stream = RinexStream(chunks, kind, hatanaka, decoded)
        stack.callback(stream.close)
        yield stream


def _close(chunks) -> None:
    close = getattr(chunks, "close", None)
    if close is not None:
        close()


def iter_lines(stream: RinexStream, max_line: int = 64 * 1024) -> Iterator[tuple[int, str]]:
    """(line number, text without its end of line) for every line; ASCII, undecodable bytes replaced.
    A line longer than ``max_line`` (binary data, not RINEX) is a RinexFileError."""
    rest = ""
    number = 0
    for data in stream.chunks():
        text = rest + data.decode("ascii", "replace")
        lines = text.split("\n")
        rest = lines.pop()
        if len(rest) > max_line:
            raise RinexFileError(f"line {number + len(lines) + 1} is longer than {max_line} characters "
                                 "(binary data, not RINEX)")
        for line in lines:
            number += 1
            yield number, line.rstrip("\r")
    if rest:
        yield number + 1, rest.rstrip("\r")


def drain(stream: RinexStream) -> None:
    for _ in stream.chunks():
        pass


def plain_digest(src: Path | str | BinaryIO, max_size: int | None = None) -> str:
    """SHA-256 of the plain RINEX text of a file (how two files in different compressions are compared)."""
    with open_rinex(src, max_size=max_size) as stream:
        drain(stream)
        return stream.hexdigest()


def decompress_bytes(data: bytes, max_size: int | None = None) -> bytes:
    """Plain RINEX text from any supported combination of compressions."""
    with open_rinex(io.BytesIO(data), max_size=max_size) as stream:
        return b"".join(stream.chunks())


def read_plain(src: Path | str, max_size: int | None = None) -> bytes:
    with open_rinex(src, max_size=max_size) as stream:
        return b"".join(stream.chunks())


def decompress_to(src: Path | str, dst: Path | str, max_size: int | None = None) -> Path:
    """Write the plain RINEX text of ``src`` (any compression, incl. Hatanaka) to ``dst``; return ``dst``.
    Nothing is left at ``dst`` when the source turns out to be unreadable."""
    dst = Path(dst)
    try:
        with open_rinex(src, max_size=max_size) as stream, open(dst, "wb") as out:
            for data in stream.chunks():
                out.write(data)
    except BaseException:
        dst.unlink(missing_ok=True)
        raise
    return dst


def unwrap_file(src: Path | str, dst: Path | str, kinds: tuple[str, ...] = ("gz", "Z"),
                max_size: int | None = None) -> str:
    """Undo the one outer compression (of ``kinds``) of any file (orbit and clock products, not only RINEX),
    streaming into ``dst``; returns the kind. RinexFileError when the data is not one of ``kinds`` or corrupt,
    InputUnavailable when ``src`` cannot be read; nothing is left at ``dst`` on failure."""
    limit = DEFAULT_MAX_SIZE if max_size is None else int(max_size)
    dst = Path(dst)
    try:
        fh = open(src, "rb")
    except OSError as exc:
        raise InputUnavailable(f"cannot read: {exc.strerror or exc}") from None
    with fh:
        raw = _RawFile(fh)
        kind = outer_compression(raw.read(8) or b"")
        raw.seek(0)
        if kind not in kinds:
            raise RinexFileError(f"not in {' or '.join(KINDS[k] for k in kinds)} format")
        chunks = _capped(_outer_chunks(kind, raw), limit, f"the {KINDS[kind]} content")
        try:
            with open(dst, "wb") as out:
                for data in chunks:
                    out.write(data)
        except BaseException:
            _close(chunks)
            dst.unlink(missing_ok=True)
            raise
    return kind


def write_archive_copy(src: Path | str | BinaryIO, out: BinaryIO, compression: str,
                       max_size: int | None = None) -> None:
    """Write ``src`` (any supported compression) to ``out`` as Hatanaka + ``compression`` ("Z" or "gz"), the
    archive's form. A file that already holds Compact RINEX keeps its Hatanaka text as it is (it was checked
    when it was read); plain RINEX goes through rnx2crx (RinexFileError when it refuses the file)."""
    with open_rinex(src, max_size=max_size, decode_hatanaka=False) as stream:
        chunks = stream.chunks()
        if not stream.hatanaka:
            chunks = _pipe_through("rnx2crx", chunks, "cannot be Hatanaka-compressed")
        if compression == "gz":
            with gzip.GzipFile(filename="", mode="wb", fileobj=out, compresslevel=6, mtime=0) as gz:
                for data in chunks:
                    gz.write(data)
        elif compression == "Z":
            import ncompress

            guard = _Guarded()
            ncompress.compress(guard.reader(_ChunkReader(chunks)), guard.writer(out))
            guard.check()
        else:
            raise ValueError(f"archive compression must be Z or gz, not {compression!r}")


class _ChunkReader:
    """.read(n) over an iterator of chunks, for ncompress.compress."""

    def __init__(self, chunks: Iterator[bytes]):
        self.chunks, self.pending = chunks, b""

    def read(self, n: int = -1) -> bytes:
        while not self.pending:
            data = next(self.chunks, None)
            if data is None:
                return b""
            self.pending = data
        if n is None or n < 0:
            n = len(self.pending)
        data, self.pending = self.pending[:n], self.pending[n:]
        return data


def compress_bytes(plain: bytes, *, hatanaka: bool, compression: str | None) -> bytes:
    """The inverse, in memory (test and example data): optional Hatanaka, then an optional outer compression."""
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
