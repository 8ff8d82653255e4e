"""Session leases and idempotent writes (gamit_sessions, gamit_stats, gamit_soln, gamit_ztd)."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

import pytest

from geode.gamit import store
from geode.gamit.store import SessionBusy, SessionKey

KEY = SessionKey("arg", 1, 2024, 100)


def stat(system="G", nrms=0.2):
    return {"Project": "arg", "subnet": 1, "Year": 2024, "DOY": 100, "FYear": 2024.27, "wl": 90.0, "nl": 80.0,
            "nrms": nrms, "relaxed_constrains": None, "max_overconstrained": "", "iterations": 0, "node": "n",
            "execution_time": 1.0, "execution_date": dt.datetime(2024, 4, 9), "system": system}


def test_claim_finish_and_redelivery_of_a_finished_session(db, tmp_path):
    assert store.claim(db, KEY, str(tmp_path), "me:1") == "claimed"
    assert store.finish(db, KEY, "me:1", state="done", stats=[stat()])
    # redelivered after it finished: nothing to do, rows stay as they are
    assert store.claim(db, KEY, str(tmp_path), "me:2") == "done"
    assert db.query_one("SELECT count(*) AS n FROM gamit_stats")["n"] == 1
    # its directory is gone: processed again, old statistics dropped until it finishes
    assert store.claim(db, KEY, str(tmp_path / "gone"), "me:2") == "claimed"
    assert db.query_one("SELECT count(*) AS n FROM gamit_stats")["n"] == 0
    row = db.query_one("SELECT * FROM gamit_sessions")
    assert row["state"] == "running" and row["attempts"] == 2 and row["lease_owner"] == "me:2"


def test_live_lease_of_another_host_is_respected(db, tmp_path):
    assert store.claim(db, KEY, str(tmp_path), "otherhost:123") == "claimed"
    with pytest.raises(SessionBusy, match="otherhost:123"):
        store.claim(db, KEY, str(tmp_path), store.owner_id(), wait=0)
    # the owner lost its lease? it may not record results
    assert not store.finish(db, KEY, "thirdhost:1", state="done", stats=[stat()])
    assert db.query_one("SELECT count(*) AS n FROM gamit_stats")["n"] == 0


def test_expired_lease_is_taken_over(db, tmp_path):
    assert store.claim(db, KEY, str(tmp_path), "otherhost:123") == "claimed"
    db.execute("UPDATE gamit_sessions SET lease_until = now() - interval '1 second'")
    assert store.claim(db, KEY, str(tmp_path), "me:1", wait=0) == "claimed"


def test_lease_of_a_dead_local_process_is_taken_over(db, tmp_path):
    import socket

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    assert store.claim(db, KEY, str(tmp_path), f"{socket.gethostname()}:{dead.pid}") == "claimed"
    assert store.renew(db, KEY, f"{socket.gethostname()}:{dead.pid}")
    assert store.claim(db, KEY, str(tmp_path), store.owner_id(), wait=0) == "claimed"
    assert not store.renew(db, KEY, f"{socket.gethostname()}:{dead.pid}")  # the old owner lost its lease


def test_stats_upsert_and_day_solution_replacement(db, tmp_path):
    with db.transaction() as cur:
        cur.execute("INSERT INTO networks (\"NetworkCode\") VALUES ('arg')")
        cur.execute("INSERT INTO stations (\"NetworkCode\", \"StationCode\") VALUES ('arg', 'abcd')")
    store.claim(db, KEY, str(tmp_path), "me:1")
    store.finish(db, KEY, "me:1", state="done", stats=[stat(nrms=0.3), stat("R", 0.4)])
    store.claim(db, KEY, str(tmp_path / "x"), "me:1")
    store.finish(db, KEY, "me:1", state="done", stats=[stat(nrms=0.25)])
    assert [(r["system"], r["nrms"]) for r in db.query("SELECT * FROM gamit_stats ORDER BY system")] == [("G", 0.25)]
    soln = {"NetworkCode": "arg", "StationCode": "abcd", "Project": "arg", "Year": 2024, "DOY": 100,
            "FYear": 2024.27, "X": 1.0, "Y": 2.0, "Z": 3.0, "sigmax": 0.1, "sigmay": 0.1, "sigmaz": 0.1,
            "VarianceFactor": 1.0, "sigmaxy": None, "sigmayz": None, "sigmaxz": None}
    ztd = {"NetworkCode": "arg", "StationCode": "abcd", "Date": dt.datetime(2024, 4, 9), "Project": "arg",
           "Year": 2024, "DOY": 100, "ZTD": 2.3, "model": 2.29, "sigma": 0.002}
    for _ in range(2):  # a redelivered combination writes the same rows once
        store.write_day_solution(db, "arg", 2024, 100, [soln], [ztd])
    assert db.query_one("SELECT count(*) AS n FROM gamit_soln")["n"] == 1
    assert db.query_one("SELECT count(*) AS n FROM gamit_ztd")["n"] == 1
    with pytest.raises(Exception):  # a failing write leaves the previous rows in place
        store.write_day_solution(db, "arg", 2024, 100, [soln, soln], [])
    assert db.query_one('SELECT "X" FROM gamit_soln')["X"] == 1.0
