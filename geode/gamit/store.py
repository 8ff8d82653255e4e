"""Database writes of geode gamit, all idempotent: a task delivered twice writes its rows once.

* ``gamit_subnets``: written once per day (the partition is then reused, as in GeoDE).
* ``gamit_sessions``: state and lease of each session (``claim`` / ``renew`` / ``finish``).
* ``gamit_stats``: upserted per (Project, subnet, Year, DOY, system).
* ``gamit_soln`` and ``gamit_ztd``: a day's rows are replaced in one transaction, after the SINEX and ZTD
  files were parsed successfully (GeoDE deleted first and could leave the day empty).
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import time
from dataclasses import dataclass

from ..errors import GeodeError
from ..jobs.process import local_process_gone

LEASE_SECONDS = 300  # renewed every LEASE_SECONDS / 5 while a session runs


class SessionBusy(GeodeError):
    """Another live process holds the session's lease."""


def owner_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _owner_dead(owner: str | None) -> bool:
    """True when the lease owner is a process of this host that no longer exists."""
    if not owner or ":" not in owner:
        return True
    host, _, pid = owner.rpartition(":")
    return local_process_gone(host, pid)


def save_subnets(db, sessions, aliases: dict[str, str]) -> None:
    """Store a new day partition (gamit_subnets) and its sessions as 'planned'; existing rows are kept."""
    with db.transaction() as cur:
        for s in sessions:
            cur.execute(
                'INSERT INTO gamit_subnets ("Project", subnet, "Year", "DOY", centroid, stations, alias, ties) '
                'VALUES (%s, %s, %s, %s, %s::numeric[], %s::varchar[], %s::varchar[], %s::varchar[]) '
                'ON CONFLICT ("Project", subnet, "Year", "DOY") DO NOTHING',
                (s.project, s.subnet, s.year, s.doy, list(s.centroid), list(s.stations),
                 [aliases[k] for k in s.stations], list(s.ties)))
            cur.execute(
                'INSERT INTO gamit_sessions ("Project", subnet, "Year", "DOY", state, directory) '
                "VALUES (%s, %s, %s, %s, 'planned', %s) ON CONFLICT DO NOTHING",
                (s.project, s.subnet, s.year, s.doy, s.directory))


def save_aliases(db, aliases: dict[str, str]) -> None:
    """Persist generated aliases (stations sharing a code) so they never change between runs."""
    with db.transaction() as cur:
        for key, alias in aliases.items():
            net, stn = key.split(".", 1)
            if alias != stn.lower():
                cur.execute('UPDATE stations SET alias = %s WHERE "NetworkCode" = %s AND "StationCode" = %s '
                            'AND alias IS NULL', (alias, net, stn))


@dataclass(frozen=True)
class SessionKey:
    project: str
    subnet: int
    year: int
    doy: int

    @property
    def params(self) -> tuple:
        return (self.project, self.subnet, self.year, self.doy)


_WHERE = '"Project" = %s AND subnet = %s AND "Year" = %s AND "DOY" = %s'


def claim(db, key: SessionKey, directory: str, owner: str, *, wait: float = LEASE_SECONDS + 30) -> str:
    """Take the session's lease. Returns 'claimed', or 'done' when it is already processed.

    A lease held by a dead process of this host is taken over at once (its GAMIT programs died with it:
    run_subprocess ties them to their parent); one held by another host is waited for until it runs out
    (its heartbeat stopped) or ``wait`` passes.
    """
    deadline = time.monotonic() + wait
    while True:
        with db.transaction() as cur:
            cur.execute(f"SELECT *, lease_until > now() AS live FROM gamit_sessions WHERE {_WHERE} FOR UPDATE",
                        key.params)
            row = cur.fetchone()
            cur.execute(f"SELECT count(*) AS n FROM gamit_stats WHERE {_WHERE}", key.params)
            has_stats = cur.fetchone()["n"] > 0
            if row is not None and row["state"] == "done" and has_stats and os.path.isdir(directory):
                return "done"
            busy = row is not None and row["state"] == "running" and row["live"] and row["lease_owner"] != owner
            if busy and _owner_dead(row["lease_owner"]):
                busy = False
            if not busy:
                cur.execute(
                    'INSERT INTO gamit_sessions ("Project", subnet, "Year", "DOY", state, directory, lease_owner, '
                    "lease_until, attempts, message, log_tail, updated) VALUES (%s, %s, %s, %s, 'running', %s, %s, "
                    "now() + make_interval(secs => %s), 1, NULL, NULL, now()) "
                    'ON CONFLICT ("Project", subnet, "Year", "DOY") DO UPDATE SET state = \'running\', '
                    "directory = EXCLUDED.directory, lease_owner = EXCLUDED.lease_owner, "
                    "lease_until = EXCLUDED.lease_until, attempts = gamit_sessions.attempts + 1, message = NULL, "
                    "log_tail = NULL, updated = now()",
                    (*key.params, directory, owner, LEASE_SECONDS))
                # a session being (re)processed has no valid statistics until it finishes
                cur.execute(f"DELETE FROM gamit_stats WHERE {_WHERE}", key.params)
                return "claimed"
            holder = row["lease_owner"]
        if time.monotonic() > deadline:
            raise SessionBusy(f"{key.year}_{key.doy:03d} subnet {key.subnet} is being processed by {holder}")
        time.sleep(5)


def renew(db, key: SessionKey, owner: str) -> bool:
    """Extend the lease; False if it was lost (taken over after it ran out)."""
    n = db.execute("UPDATE gamit_sessions SET lease_until = now() + make_interval(secs => %s), updated = now() "
                   f"WHERE {_WHERE} AND lease_owner = %s", (LEASE_SECONDS, *key.params, owner))
    return n == 1


def finish(db, key: SessionKey, owner: str, *, state: str, stats: list[dict], message: str = "",
           log_tail: str = "") -> bool:
    """Record the outcome (and the gamit_stats rows) if this process still holds the lease."""
    with db.transaction() as cur:
        cur.execute(f"SELECT lease_owner FROM gamit_sessions WHERE {_WHERE} FOR UPDATE", key.params)
        row = cur.fetchone()
        if row is None or row["lease_owner"] != owner:
            return False
        for s in stats:
            cur.execute(
                'INSERT INTO gamit_stats ("Project", subnet, "Year", "DOY", "FYear", wl, nl, nrms, relaxed_constrains, '
                "max_overconstrained, updated_apr, iterations, node, execution_time, execution_date, system) "
                "VALUES (%(Project)s, %(subnet)s, %(Year)s, %(DOY)s, %(FYear)s, %(wl)s, %(nl)s, %(nrms)s, "
                "%(relaxed_constrains)s, %(max_overconstrained)s, NULL, %(iterations)s, %(node)s, "
                "%(execution_time)s, %(execution_date)s, %(system)s) "
                'ON CONFLICT ("Project", subnet, "Year", "DOY", system) DO UPDATE SET "FYear" = EXCLUDED."FYear", '
                "wl = EXCLUDED.wl, nl = EXCLUDED.nl, nrms = EXCLUDED.nrms, "
                "relaxed_constrains = EXCLUDED.relaxed_constrains, "
                "max_overconstrained = EXCLUDED.max_overconstrained, iterations = EXCLUDED.iterations, "
                "node = EXCLUDED.node, execution_time = EXCLUDED.execution_time, "
                "execution_date = EXCLUDED.execution_date", s)
        cur.execute(f"UPDATE gamit_sessions SET state = %s, message = %s, log_tail = %s, lease_owner = NULL, "
                    f"lease_until = NULL, updated = now() WHERE {_WHERE}",
                    (state, message or None, log_tail or None, *key.params))
    return True


def write_day_solution(db, project: str, year: int, doy: int, soln: list[dict], ztd: list[dict]) -> None:
    """Replace the day's gamit_soln and gamit_ztd rows of ``project`` in one transaction."""
    with db.transaction() as cur:
        cur.execute('DELETE FROM gamit_soln WHERE "Project" = %s AND "Year" = %s AND "DOY" = %s', (project, year, doy))
        for r in soln:
            cur.execute(
                'INSERT INTO gamit_soln ("NetworkCode", "StationCode", "Project", "Year", "DOY", "FYear", "X", "Y", '
                '"Z", sigmax, sigmay, sigmaz, "VarianceFactor", sigmaxy, sigmayz, sigmaxz) VALUES (%(NetworkCode)s, '
                "%(StationCode)s, %(Project)s, %(Year)s, %(DOY)s, %(FYear)s, %(X)s, %(Y)s, %(Z)s, %(sigmax)s, "
                "%(sigmay)s, %(sigmaz)s, %(VarianceFactor)s, %(sigmaxy)s, %(sigmayz)s, %(sigmaxz)s)", r)
        cur.execute('DELETE FROM gamit_ztd WHERE "Project" = %s AND "Year" = %s AND "DOY" = %s', (project, year, doy))
        for r in ztd:
            cur.execute(
                'INSERT INTO gamit_ztd ("NetworkCode", "StationCode", "Date", "Project", "Year", "DOY", "ZTD", model, '
                "sigma) VALUES (%(NetworkCode)s, %(StationCode)s, %(Date)s, %(Project)s, %(Year)s, %(DOY)s, %(ZTD)s, "
                "%(model)s, %(sigma)s)", r)


def day_has_solution(db, project: str, year: int, doy: int) -> bool:
    row = db.query_one('SELECT count(*) AS n FROM gamit_soln WHERE "Project" = %s AND "Year" = %s AND "DOY" = %s',
                       (project, year, doy))
    return bool(row and row["n"])


def purge_day(db, project: str, year: int, doy: int) -> None:
    """Forget a day of a project (its partition too, so it is re-planned). stacks rows are left alone:
    GeoDE deleted them here, losing work of `geode stack` that a re-run does not recreate."""
    with db.transaction() as cur:
        for table in ("gamit_soln", "gamit_stats", "gamit_subnets", "gamit_ztd", "gamit_sessions"):
            cur.execute(f'DELETE FROM {table} WHERE "Project" = %s AND "Year" = %s AND "DOY" = %s',
                        (project, year, doy))


def session_rows(db, project: str, year: int, doy: int) -> list[dict]:
    return db.query('SELECT *, coalesce(lease_until > now(), false) AS live FROM gamit_sessions '
                    'WHERE "Project" = %s AND "Year" = %s AND "DOY" = %s ORDER BY subnet', (project, year, doy))


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
