"""Writing a stack into `stacks`: its foreign keys checked set-based (superuser) or by PostgreSQL's triggers
(any other role, or a `stacks` with triggers of its own); the same rows, the same error for a missing
referenced row, the same locks on the referenced rows until the commit; a write overlapping other work is
committed only when asked to."""

from __future__ import annotations

import types
import uuid
from urllib.parse import urlsplit, urlunsplit

import numpy as np
import psycopg2
import pytest

from geode.dates import GnssDate
from geode.stack.align import make_spec
from geode.stack.data import Solutions
from geode.stack.work import MemoryWork
from geode.stack.write import StackWrite, commit_stack, set_based_checks, write_rows

PROJECT = "fkp"
STATIONS = ["tst.aaa1", "tst.bbb2", "tst.ccc3"]
DAYS = [(2024, 10), (2024, 11), (2024, 12), (2024, 13)]


def _load(db):
    rng = np.random.default_rng(5)
    with db.transaction() as cur:
        cur.execute('INSERT INTO networks ("NetworkCode") VALUES (%s)', ("tst",))
        for s in STATIONS:
            net, code = s.split(".")
            cur.execute('INSERT INTO stations ("NetworkCode", "StationCode", auto_x, auto_y, auto_z) '
                        "VALUES (%s, %s, 0, 0, 0)", (net, code))
            for y, d in DAYS:
                x, yy, z = (float(v) for v in rng.normal(0, 6e6, 3))
                cur.execute('INSERT INTO gamit_soln ("NetworkCode", "StationCode", "Project", "Year", "DOY", "FYear", '
                            '"X", "Y", "Z") VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)',
                            (net, code, PROJECT, y, d, GnssDate.from_doy(y, d).fyear, x, yy, z))


def _work(db):
    """The project's rows as a run's work whose one step aligns every day by nothing: the stack's rows are the
    solutions themselves."""
    rows = db.query('SELECT "NetworkCode" || \'.\' || "StationCode" AS s, "Year" AS y, "DOY" AS d, "X", "Y", "Z" '
                    'FROM gamit_soln WHERE "Project" = %s ORDER BY "Year", "DOY", "NetworkCode", "StationCode"',
                    (PROJECT,))
    day = np.array([DAYS.index((int(r["y"]), int(r["d"]))) for r in rows])
    stn = np.array([STATIONS.index(r["s"]) for r in rows])
    xyz = np.array([[r["X"], r["Y"], r["Z"]] for r in rows], dtype=float)
    years, doys = [y for y, _ in DAYS], [d for _, d in DAYS]
    spec = make_spec("stack", years, doys, [GnssDate.from_doy(y, d).fyear for y, d in DAYS], np.zeros(len(DAYS), bool),
                     STATIONS, {}, project=PROJECT, name="s", size=len(rows))
    work = MemoryWork(spec, Solutions(day, stn, xyz))
    work.put_transforms(0, {d: [np.zeros(7)] for d in range(len(DAYS))})
    return work, types.SimpleNamespace(step=0, helmert={})


@pytest.fixture
def plain_role(db, database_url):
    """A role that is not a superuser (as an external GeoDE database's user may be), with the rights of a
    GeoDE user on every table: (Database on its own connection, role name)."""
    from geode.db.connection import Database

    role = f"geode_plain_{uuid.uuid4().hex[:8]}"
    with db.transaction() as cur:
        cur.execute(f"CREATE ROLE {role} LOGIN")
        cur.execute(f"GRANT ALL ON ALL TABLES IN SCHEMA public TO {role}")
        cur.execute(f"GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO {role}")
    parts = urlsplit(database_url)
    url = urlunsplit((parts.scheme, f"{role}@{parts.netloc.split('@', 1)[-1]}", parts.path, parts.query, ""))
    other = Database(psycopg2.connect(url), db.target)
    yield other, role
    other.close()
    with db.transaction() as cur:
        cur.execute(f"DROP OWNED BY {role}")
        cur.execute(f"DROP ROLE {role}")


def _stack(db, name):
    return db.query('SELECT "NetworkCode", "StationCode", "Project", "Year", "DOY", "FYear", "X", "Y", "Z", '
                    '"VarianceFactor" FROM stacks WHERE name = %s ORDER BY "Year", "DOY", "StationCode"', (name,))


def _checks(db) -> bool:
    with db.transaction() as cur:
        return set_based_checks(cur)


def test_both_ways_of_checking_write_the_same_rows(db, plain_role, monkeypatch):
    import geode.stack.write as write

    _load(db)
    work, result = _work(db)
    plain, _ = plain_role
    assert _checks(db) and not _checks(plain)
    ways, insert_rows = [], write.insert_rows

    def spy(*args):
        written, set_based = insert_rows(*args)
        ways.append(set_based)
        return written, set_based

    monkeypatch.setattr(write, "insert_rows", spy)
    assert commit_stack(db, work, PROJECT, "fast", result, replace=False) == len(STATIONS) * len(DAYS)
    assert commit_stack(plain, work, PROJECT, "plain", result, replace=False) == len(STATIONS) * len(DAYS)
    assert ways == [True, False]  # set-based, then by the triggers
    fast = _stack(db, "fast")
    assert fast == _stack(db, "plain") and len(fast) == len(STATIONS) * len(DAYS)
    soln = db.query('SELECT "NetworkCode", "StationCode", "Project", "Year", "DOY", "FYear", "X", "Y", "Z" '
                    'FROM gamit_soln ORDER BY "Year", "DOY", "StationCode"')
    assert [{k: v for k, v in r.items() if k != "VarianceFactor"} for r in fast] == soln  # aligned by nothing
    # the foreign keys hold afterwards as before: a deleted solution takes its stack rows with it
    db.execute('DELETE FROM gamit_soln WHERE "StationCode" = %s AND "DOY" = %s', ("bbb2", 11))
    assert len(_stack(db, "fast")) == len(_stack(db, "plain")) == len(STATIONS) * len(DAYS) - 1


@pytest.mark.parametrize("who", ["superuser", "plain"])
def test_a_missing_referenced_row_is_postgresqls_foreign_key_error(db, plain_role, who):
    _load(db)
    work, result = _work(db)  # the rows as read ...
    db.execute('DELETE FROM gamit_soln WHERE "StationCode" = %s AND "DOY" = %s', ("ccc3", 12))  # ... one gone since
    writer = db if who == "superuser" else plain_role[0]
    with pytest.raises(psycopg2.errors.ForeignKeyViolation) as caught:
        commit_stack(writer, work, PROJECT, "s", result, replace=False)
    assert "gamit_soln" in str(caught.value) and "(2024, 12, ccc3, fkp, tst)" in str(caught.value)
    assert _stack(db, "s") == []


def test_a_trigger_of_its_own_on_stacks_keeps_the_triggers_path(db):
    _load(db)
    work, result = _work(db)
    with db.transaction() as cur:
        cur.execute("CREATE TABLE stack_audit (n int)")
        cur.execute("CREATE FUNCTION stack_audit() RETURNS trigger LANGUAGE plpgsql AS "
                    "$$ BEGIN INSERT INTO stack_audit VALUES (1); RETURN NEW; END $$")
        cur.execute("CREATE TRIGGER stack_audit AFTER INSERT ON stacks FOR EACH ROW EXECUTE FUNCTION stack_audit()")
    assert not _checks(db)  # replica mode would skip this trigger too
    commit_stack(db, work, PROJECT, "s", result, replace=False)
    assert db.query_one("SELECT count(*) AS n FROM stack_audit")["n"] == len(STATIONS) * len(DAYS)


@pytest.mark.parametrize("who", ["superuser", "plain"])
def test_referenced_rows_are_locked_until_the_commit(db, plain_role, database_url, who):
    _load(db)
    work, result = _work(db)
    writer = db if who == "superuser" else plain_role[0]
    other = psycopg2.connect(database_url)
    try:
        with writer.transaction() as cur:
            write_rows(cur, work.all_rows(), work, PROJECT, "s", result.helmert, replace=False)
            for sql in ('DELETE FROM gamit_soln WHERE "StationCode" = \'aaa1\' AND "DOY" = 13',
                        'UPDATE stations SET "StationCode" = \'zzz9\' WHERE "StationCode" = \'bbb2\''):
                with other.cursor() as c, pytest.raises(psycopg2.errors.LockNotAvailable):
                    c.execute("SET lock_timeout = '100ms'")
                    c.execute(sql)  # waits for this transaction, as it would for the RI triggers' locks
                other.rollback()
    finally:
        other.close()
    assert len(_stack(db, "s")) == len(STATIONS) * len(DAYS)


def test_an_overlapping_write_commits_only_when_asked(db):
    _load(db)
    work, result = _work(db)

    def write(when=None, replace=False):
        return StackWrite(db, work, PROJECT, "s", 0, result.helmert, replace=replace, when=when).start()

    write().abort()  # e.g. the final models failed, or Ctrl-C
    assert _stack(db, "s") == []
    skipped = write(when=lambda: False)  # not the last step after all
    assert not skipped.writes()
    with pytest.raises(RuntimeError):
        skipped.commit()
    assert _stack(db, "s") == []
    assert write(when=lambda: True).commit() == len(STATIONS) * len(DAYS)
    assert len(_stack(db, "s")) == len(STATIONS) * len(DAYS)
    # its error reaches the caller at commit(); the stack is left as it was
    db.execute('DELETE FROM gamit_soln WHERE "StationCode" = %s AND "DOY" = %s', ("aaa1", 10))
    work, result = _work(db)
    db.execute('UPDATE gamit_soln SET "Project" = %s WHERE "StationCode" = %s AND "DOY" = %s', ("zz", "aaa1", 11))
    with pytest.raises(psycopg2.errors.ForeignKeyViolation):
        write(replace=True).commit()
    assert len(_stack(db, "s")) == len(STATIONS) * len(DAYS) - 1  # the cascaded delete only
