"""Ingest's files in flight: written in ``<archive>/.geode-ingest/``, renamed into place when their row commits.

Each temporary file is locked (``flock``) by the process writing it for as long as it exists, so a file in
the staging folder that nobody holds is a leftover of a killed ingest: stale. Every failure path removes its
own file (``staged_file``); a SIGKILL cannot, so ``geode scan ingest`` removes stale files at its start and
``geode scan check`` reports them. Temporary files that older versions wrote next to their destination
(``.geode-ingest-*``) are found the same way by a walk of the archive.
"""

from __future__ import annotations

import contextlib
import errno
import os
import socket
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Iterator

STAGING_DIR = ".geode-ingest"  # at the archive root (same file system as the archive: one rename)
TEMP_PREFIX = ".geode-ingest-"  # temporary files next to their destination (older versions, cross-device)
GRACE = 60.0  # seconds: younger files are never stale (a writer may not have taken its lock yet)
UNLOCKABLE_AGE = 86400.0  # where locks do not work: stale only after a day


def _lock(fd: int, blocking: bool) -> bool | None:
    """True if locked, False if another process holds it, None if this file system has no flock."""
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        return True
    except BlockingIOError:
        return False
    except OSError as exc:
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
            return False
        return None


@dataclass
class Staged:
    path: Path
    file: BinaryIO
    dest: Path
    committed: bool = False

    def commit(self) -> None:
        """Flush to disk and rename onto ``dest`` (atomic); the caller holds the row's transaction."""
        self.file.flush()
        os.fsync(self.file.fileno())
        self.dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(self.path, self.dest)
        except OSError as exc:
            if exc.errno != errno.EXDEV:
                raise
            self._copy_across()
        self.committed = True
        _fsync_dir(self.dest.parent)

    def _copy_across(self) -> None:
        """The destination is on another file system than the staging folder: copy next to it, then rename."""
        import shutil

        near = self.dest.parent / f"{TEMP_PREFIX}{self.path.name}"
        try:
            with open(self.path, "rb") as src, open(near, "wb") as out:
                shutil.copyfileobj(src, out, 1024 * 1024)
                out.flush()
                os.fsync(out.fileno())
            os.replace(near, self.dest)
        except BaseException:
            near.unlink(missing_ok=True)
            raise
        self.path.unlink(missing_ok=True)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def staged_file(archive: Path, dest: Path) -> Iterator[Staged]:
    """A new locked temporary file for ``dest``; removed on every way out unless ``commit()`` renamed it."""
    staging = Path(archive) / STAGING_DIR
    staging.mkdir(exist_ok=True)
    path = staging / f"{socket.gethostname()}~{os.getpid()}~{uuid.uuid4().hex[:10]}~{dest.name}"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        _lock(fd, blocking=True)
        fh = os.fdopen(fd, "wb")
    except BaseException:
        os.close(fd)
        with contextlib.suppress(OSError):
            path.unlink()
        raise
    staged = Staged(path, fh, Path(dest))
    try:
        yield staged
    finally:
        try:
            if not staged.committed:
                with contextlib.suppress(OSError):
                    path.unlink()  # before the lock goes: nobody ever sees it unlocked
        finally:
            with contextlib.suppress(OSError):
                fh.close()  # an ENOSPC flush fails here too: the file is gone already


def is_stale(path: Path, now: float | None = None) -> bool:
    """Nobody holds its lock and it is older than GRACE (a file system without flock: older than a day)."""
    try:
        age = (now or time.time()) - path.stat().st_mtime
        if _writer_gone(path.name):  # its writer, a process of this host, has died: no lock to wait for
            return True
        if age < GRACE:
            return False
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # gone meanwhile: renamed into place or removed by its writer
        return False
    try:
        locked = _lock(fd, blocking=False)
    finally:
        os.close(fd)  # releases the probe's lock
    return age >= UNLOCKABLE_AGE if locked is None else locked


def _writer_gone(name: str) -> bool:
    """Staged names start with the writer's host and pid ("host~pid~..."): is that a dead process of this host?"""
    from ..jobs.process import local_process_gone

    parts = name.removeprefix(TEMP_PREFIX).split("~")
    return len(parts) >= 3 and local_process_gone(parts[0], parts[1])


def staged_files(archive: Path) -> list[Path]:
    """Files in the staging folder, stale or not."""
    staging = Path(archive) / STAGING_DIR
    try:
        return sorted(p for p in staging.iterdir() if p.is_file())
    except OSError:
        return []


def stale_files(archive: Path, everywhere: bool = False) -> list[Path]:
    """Stale temporary files of the staging folder (and, with ``everywhere``, of the whole archive)."""
    found = staged_files(archive)
    if everywhere:
        for folder, dirs, files in os.walk(archive):
            dirs[:] = [d for d in dirs if d != STAGING_DIR]
            found += [Path(folder, f) for f in files if f.startswith(TEMP_PREFIX)]
    now = time.time()
    return sorted(p for p in found if is_stale(p, now))


def remove_stale(archive: Path) -> list[str]:
    """Remove the staging folder's stale files; returns their paths relative to the archive."""
    removed = []
    for path in stale_files(archive):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            removed.append(path.relative_to(archive).as_posix())
    return removed
