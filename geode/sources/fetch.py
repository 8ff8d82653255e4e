"""Fetch one station's missing days: try its sources in ``try_order``, retry broken transfers with backoff,
validate, convert through a format script when one is configured, and publish with an atomic rename.

This is the unit of work (one station, so one station's failures never touch another's). Inside a unit each
server gets one connection, reused for every day and then left idle for the process's next unit (at most
MAX_IDLE_PER_SERVER per server); a server that keeps failing is given up for the rest of the unit and its
days go to the next source. Nothing here touches the database: the unit returns its
attempts and the caller records them.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from ..jobs.process import local_process_gone
from . import credentials, validate
from .catalog import DEFAULT_FORMAT, display_url, split_fqdn
from .protocols import Client, NotFound, TransferError, open_client

PART_SUFFIX = ".part"
PASSTHROUGH_FORMATS = {DEFAULT_FORMAT.lower(), "rnx2crz"}  # GeoDE: keep the download as it is


@dataclass
class ServerSpec:
    server_id: int
    protocol: str
    fqdn: str
    username: str | None = None
    has_password: bool = False  # the password itself stays in the database; the unit reads it there


@dataclass
class Candidate:
    server_id: int
    path: str
    format: str = DEFAULT_FORMAT


@dataclass
class DayJob:
    year: int
    doy: int
    candidates: list[Candidate]


@dataclass
class FetchOptions:
    retries: int = 3  # attempts per file and source when the transfer breaks
    backoff: float = 1.0  # seconds before the 2nd attempt, doubled each time
    timeout: float = 20.0  # seconds for every socket operation
    netrc: str | None = None
    format_scripts_path: str | None = None


@dataclass
class StationJob:
    network: str
    station: str
    data_in: str  # <repository>/data_in
    days: list[DayJob]
    servers: list[ServerSpec]
    options: FetchOptions = field(default_factory=FetchOptions)


@dataclass
class Attempt:
    network: str
    station: str
    year: int
    doy: int
    server_id: int | None
    url: str
    outcome: str  # success | not_found | rejected | error
    reason: str = ""
    bytes: int = 0
    when: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc))


@dataclass
class DayOutcome:
    year: int
    doy: int
    status: str  # downloaded | not_found | failed
    files: list[str] = field(default_factory=list)  # names placed in data_in/<net>.<stn>/
    reason: str = ""
    bytes: int = 0


@dataclass
class StationResult:
    network: str
    station: str
    days: list[DayOutcome] = field(default_factory=list)
    attempts: list[Attempt] = field(default_factory=list)


def temp_root(data_in: Path) -> Path:
    """Where transfers live until they are complete and valid: a sibling of data_in (same file system, so
    publishing is one rename, and ``geode scan ingest`` never sees a partial file)."""
    return data_in.parent / ".download_partial"


def clean_stale_parts(data_in: Path) -> int:
    """Remove partial files left by dead processes of this host (Ctrl-C'd or killed runs)."""
    root, removed = temp_root(data_in), 0
    if not root.is_dir():
        return 0
    for part in root.rglob(f"*{PART_SUFFIX}*"):
        owner_host, _, rest = part.name.partition("~")
        pid_text = rest.split("~", 1)[0]
        if not local_process_gone(owner_host, pid_text):
            continue
        shutil.rmtree(part, ignore_errors=True) if part.is_dir() else part.unlink(missing_ok=True)
        removed += 1
    return removed


# Connections outlive a unit: the next station of the same run (inline) or the next task on the same worker
# process picks up the server's idle connection instead of logging in again. A few per server at most.
MAX_IDLE_PER_SERVER = 2
_idle: dict[tuple, list[Client]] = {}
_idle_lock = threading.Lock()


def _pool_key(spec: ServerSpec) -> tuple:
    return (spec.protocol.upper(), spec.fqdn, spec.username)


def close_idle() -> None:
    """Close the idle connections this process keeps (the end of an inline run)."""
    with _idle_lock:
        clients = [c for group in _idle.values() for c in group]
        _idle.clear()
    for client in clients:
        _close_quietly(client)


def _close_quietly(client: Client) -> None:
    try:
        client.close()
    except Exception:  # closing a broken connection may fail again; it is gone either way
        pass


class _Connections:
    """The unit's connection to each of its servers (taken from the idle pool when possible), with the
    give-up rule."""

    def __init__(self, job: StationJob):
        self.job, self.specs = job, {s.server_id: s for s in job.servers}
        self.clients: dict[int, Client] = {}
        self.reused: set[int] = set()  # servers whose connection came from the pool and is not proven yet
        self.failures: dict[int, int] = {}
        self.passwords: dict[int, str | None] = {}

    def given_up(self, server_id: int) -> bool:
        return self.failures.get(server_id, 0) >= max(1, self.job.options.retries) * 2

    def client(self, server_id: int) -> Client:
        if server_id not in self.clients:
            spec, opts = self.specs[server_id], self.job.options
            with _idle_lock:
                idle = _idle.get(_pool_key(spec))
                if idle:
                    self.clients[server_id] = idle.pop()
                    self.reused.add(server_id)
                    return self.clients[server_id]
            host, port = split_fqdn(spec.fqdn, spec.protocol)
            user, password = credentials.resolve(host, spec.username, self._legacy_password(spec), opts.netrc)
            self.clients[server_id] = open_client(
                spec.protocol, host, port, user, password, opts.timeout,
                credentials_for=lambda h: credentials.lookup(h, opts.netrc))
        return self.clients[server_id]

    def _legacy_password(self, spec: ServerSpec) -> str | None:
        if not spec.has_password:
            return None
        if spec.server_id not in self.passwords:
            from ..config import load_settings
            from ..db import open_database
            from .catalog import legacy_password

            db = open_database(load_settings(), migrate=False)
            try:
                self.passwords[spec.server_id] = legacy_password(db, spec.server_id)
            finally:
                db.close()
        return self.passwords[spec.server_id]

    def proven(self, server_id: int) -> None:
        self.reused.discard(server_id)

    def drop(self, server_id: int) -> bool:
        """Close a broken connection; True when it was an unproven pooled one (the server closed it while
        it was idle: reconnect at once, without counting a failure)."""
        client = self.clients.pop(server_id, None)
        if client is not None:
            _close_quietly(client)
        stale = server_id in self.reused
        self.reused.discard(server_id)
        return stale

    def release(self) -> None:
        """Hand the unit's connections back to the idle pool (closing what does not fit)."""
        for server_id, client in self.clients.items():
            key = _pool_key(self.specs[server_id])
            with _idle_lock:
                group = _idle.setdefault(key, [])
                keep = len(group) < MAX_IDLE_PER_SERVER
                if keep:
                    group.append(client)
            if not keep:
                _close_quietly(client)
        self.clients.clear()


def fetch_station(job: StationJob) -> StationResult:
    data_in = Path(job.data_in)
    dest = data_in / f"{job.network}.{job.station}"
    work = temp_root(data_in) / f"{job.network}.{job.station}"
    work.mkdir(parents=True, exist_ok=True)
    result = StationResult(job.network, job.station)
    conns = _Connections(job)
    try:
        for day in job.days:
            result.days.append(_fetch_day(job, day, dest, work, conns, result.attempts))
        conns.release()
    finally:
        for server_id in list(conns.clients):  # an exception (Ctrl-C, revoke): nothing goes back to the pool
            conns.drop(server_id)
        _rmdir_if_empty(work)
    return result


def _fetch_day(job: StationJob, day: DayJob, dest: Path, work: Path, conns: _Connections,
               attempts: list[Attempt]) -> DayOutcome:
    opts, reasons, any_error = job.options, [], False  # any_error: a source failed rather than said no
    for cand in day.candidates:
        spec = conns.specs[cand.server_id]
        url = display_url(spec.protocol, spec.fqdn, cand.path)

        def log(outcome: str, reason: str = "", size: int = 0) -> None:
            attempts.append(Attempt(job.network, job.station, day.year, day.doy, cand.server_id, url, outcome,
                                    reason, size))

        if conns.given_up(cand.server_id):
            reasons.append(f"{url}: server given up after repeated failures")
            any_error = True
            continue
        attempt = 0
        while attempt < max(1, opts.retries):
            if attempt:
                time.sleep(opts.backoff * 2 ** (attempt - 1))
            # host~pid~ in the name lets a later run tell a dead run's leftovers from a live transfer
            part = work / (f"{socket.gethostname()}~{os.getpid()}~{uuid.uuid4().hex[:8]}~"
                           f"{Path(cand.path).name}{PART_SUFFIX}")
            try:
                with open(part, "wb") as out:
                    size = conns.client(cand.server_id).fetch(cand.path, out)
            except NotFound as exc:
                part.unlink(missing_ok=True)
                conns.proven(cand.server_id)
                log("not_found", str(exc))
                reasons.append(f"{url}: not found ({exc})")
                break
            except TransferError as exc:
                part.unlink(missing_ok=True)
                if conns.drop(cand.server_id):
                    continue  # a pooled connection the server had closed: reconnect, no penalty
                conns.failures[cand.server_id] = conns.failures.get(cand.server_id, 0) + 1
                log("error", str(exc))
                if attempt + 1 == max(1, opts.retries) or conns.given_up(cand.server_id):
                    reasons.append(f"{url}: {exc} (after {attempt + 1} attempt(s))")
                    any_error = True
                    break
                attempt += 1
                continue
            except BaseException:
                part.unlink(missing_ok=True)  # Ctrl-C / revoke: leave nothing behind
                raise
            conns.failures[cand.server_id] = 0
            conns.proven(cand.server_id)
            why = validate.rejection(part)
            if why is None:
                try:
                    files = _publish(part, Path(cand.path).name, cand.format, dest, opts)
                except Exception as exc:  # a format script failed or produced nothing usable
                    why = f"format {cand.format}: {exc}"
                else:
                    log("success", "", size)
                    return DayOutcome(day.year, day.doy, "downloaded", files, "", size)
            part.unlink(missing_ok=True)
            log("rejected", why, size)
            reasons.append(f"{url}: rejected: {why}")
            any_error = True
            break
    if not day.candidates:
        reasons.append("no source for this station")
    # not_found only when every source answered "no such file"; a rejection or a broken server is a failure
    status = "failed" if any_error else "not_found"
    return DayOutcome(day.year, day.doy, status, [], "; ".join(reasons))


def _publish(part: Path, basename: str, fmt: str, dest: Path, opts: FetchOptions) -> list[str]:
    """Move a valid download (or what its format script makes of it) into ``dest`` by atomic renames."""
    dest.mkdir(parents=True, exist_ok=True)
    if (fmt or DEFAULT_FORMAT).lower() in PASSTHROUGH_FORMATS:
        os.replace(part, dest / basename)
        return [basename]
    outdir = part.with_name(part.name + ".out")
    outdir.mkdir()
    try:
        script = _format_script(fmt, opts.format_scripts_path)
        from ..jobs import run_subprocess

        done = run_subprocess([script, part, basename, outdir], cwd=outdir, timeout=600)
        if done.returncode != 0:
            last = (done.output.strip().splitlines() or ["no output"])[-1]
            raise RuntimeError(f"{script.name} exited with {done.returncode}: {last}")
        produced = sorted(p for p in outdir.iterdir() if p.is_file())
        bad = [f"{p.name}: {why}" for p in produced if (why := validate.rejection(p))]
        if not produced or bad:
            raise RuntimeError("; ".join(bad) or f"{script.name} produced no file")
        for p in produced:
            os.replace(p, dest / p.name)
        return [p.name for p in produced]
    finally:
        shutil.rmtree(outdir, ignore_errors=True)
        part.unlink(missing_ok=True)


def _format_script(fmt: str, scripts_path: str | None) -> Path:
    if not scripts_path:
        raise RuntimeError("needs [archive] format_scripts_path, which is not configured")
    for name in (fmt.lower(), f"{fmt.lower()}.sh", f"{fmt.lower()}.py"):
        candidate = Path(scripts_path) / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    raise RuntimeError(f"no executable script {fmt.lower()}[.sh|.py] in {scripts_path}")


def _rmdir_if_empty(path: Path) -> None:
    try:
        path.rmdir()
    except OSError:
        pass
