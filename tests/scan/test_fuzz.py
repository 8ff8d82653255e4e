"""Bad input never poisons a run: a few hundred seeded damaged files (tests/scan/fuzz_files.py) through
`geode scan ingest` and `geode scan archive`, each in its own process whose memory is measured.

Every file ends archived with its row or rejected with a reason (ingest: in data_rejected/<reason>/ with a
reason file; scan: a problem with its reason); no raw exception text anywhere; a second ingest has nothing
to do; no temporary file is left; the process tree stays under 500 MB resident while the bombs go by.
"""

from __future__ import annotations

import functools
import json
import os
import re
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

from .fuzz_files import SEED, Mutant, mutants

CAP_MB = 8  # [archive] max_rinex_mb for these runs; the bombs expand to 64 MB
RSS_LIMIT_MB = 500
RAW = re.compile(r"Traceback|\b[A-Za-z]+(?:Error|Exception|Warning)\b|\[Errno|<class |object at 0x|"
                 r"unexpected error")
ARCHIVED_ALWAYS = {"good", "wrong_suffix", "header_value"}
REJECTED_ALWAYS = {"encrypted_zip": "encrypted", "unsupported_zip": "not supported", "multi_zip": "holds 2 files",
                   "nested": "at most one compression layer", "bomb": f"larger than {CAP_MB} MiB",
                   "nested_bomb": "at most one compression layer"}


@functools.lru_cache(maxsize=1)
def _mutants() -> tuple[Mutant, ...]:
    return tuple(mutants(SEED))


def _tree_rss_kb(root: int) -> int:
    """Resident set of ``root`` and all its descendants, in kB (from /proc)."""
    parent: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as fh:
                    stat = fh.read()
                parent[int(entry)] = int(stat[stat.rindex(b")") + 2:].split()[1])
            except (OSError, ValueError):
                continue
    tree, todo = {root}, [root]
    while todo:
        pid = todo.pop()
        kids = [p for p, pp in parent.items() if pp == pid and p not in tree]
        tree.update(kids)
        todo += kids
    total = 0
    for pid in tree:
        try:
            with open(f"/proc/{pid}/status") as fh:
                total += next((int(line.split()[1]) for line in fh if line.startswith("VmRSS:")), 0)
        except OSError:
            continue
    return total


def _run_measured(args: list[str], cwd: Path, env: dict) -> tuple[subprocess.CompletedProcess, float]:
    """Run ``geode`` in a child process; returns its result and the peak resident memory (MB) of its process
    tree: the larger of /proc sampling (the sum over the tree, every 50 ms) and the kernel's own peak for the
    child and its descendants (wait4's ru_maxrss)."""
    out_path, err_path = cwd / "geode.stdout", cwd / "geode.stderr"
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        proc = subprocess.Popen([sys.executable, "-m", "geode_cli", *args], cwd=cwd, env=env, stdout=out,
                                stderr=err)
    peak = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _tree_rss_kb(proc.pid))
            done.wait(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        _pid, status, usage = os.wait4(proc.pid, 0)
    finally:
        done.set()
        sampler.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    result = subprocess.CompletedProcess(proc.args, proc.returncode, out_path.read_text(), err_path.read_text())
    return result, max(peak[0], usage.ru_maxrss) / 1024  # kB on Linux


def _env(site, tmp: Path) -> dict:
    tmp.mkdir(exist_ok=True)
    env = dict(os.environ, GEODE_ARCHIVE_MAX_RINEX_MB=str(CAP_MB), TMPDIR=str(tmp))
    return env


def _no_temporary_files(site, tmp: Path) -> None:
    staging = site.archive / ".geode-ingest"
    assert not staging.exists() or not any(staging.iterdir())
    assert not [p for p in site.archive.rglob(".geode-ingest-*")]
    assert not any(tmp.iterdir()), sorted(tmp.iterdir())


def test_fuzzed_files_through_ingest_are_archived_or_rejected_with_a_reason(site):
    files = _mutants()
    for m in files:
        path = site.repository / "data_in" / m.rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(m.data)
    tmp = site.root / "tmp"
    started = time.monotonic()
    r, peak_mb = _run_measured(["-q", "--noparallel", "scan", "ingest", "--json"], site.root, _env(site, tmp))
    spent = time.monotonic() - started
    assert r.returncode == 1, r.stderr  # rejections are failures of the run; 69 would mean a file was kept
    assert not RAW.search(r.stderr), r.stderr
    out = json.loads(r.stdout)
    by_rel = {o["source"]: o for o in out["files"]}
    assert sorted(by_rel) == sorted(m.rel for m in files)
    rows = {row["Filename"] for row in site.rows()}
    statuses: Counter[str] = Counter()
    folders: Counter[str] = Counter()
    for m in files:
        o = by_rel[m.rel]
        statuses[o["status"]] += 1
        assert o["status"] in ("archived", "rejected"), (m.category, m.rel, o)
        if o["status"] == "archived":
            assert (site.archive / o["destination"]).is_file()
            assert Path(o["destination"]).name.rsplit(".", 1)[0][:-1] + "o" in rows or \
                Path(o["destination"]).name.replace(".crx.gz", ".rnx") in rows
            assert m.category not in REJECTED_ALWAYS, (m.category, m.rel)
        else:
            folder = o["destination"].split("/")[1]
            folders[folder] += 1
            rejected = site.repository / o["destination"]
            note = rejected.with_name(rejected.name + ".reason.txt")
            assert rejected.is_file() and note.is_file()
            reason = note.read_text()
            assert o["reason"] and o["reason"] in reason and not RAW.search(reason), (m.category, reason)
            assert folder != "unexpected_error", reason
            assert m.category not in ARCHIVED_ALWAYS, (m.category, m.rel, o["reason"])
            if m.category in REJECTED_ALWAYS:
                assert REJECTED_ALWAYS[m.category] in o["reason"], (m.category, o["reason"])
        if m.category == "header_value":
            assert o["warnings"], m.rel
    assert not [p for p in (site.repository / "data_in").rglob("*") if p.is_file()]
    assert folders["too_large"] == 3
    stored = site.db.query("SELECT code, count(*) AS n FROM rinex_warnings GROUP BY code ORDER BY code")
    assert {w["code"] for w in stored} >= {"approx_position", "antenna_delta", "interval", "header_characters"}
    _no_temporary_files(site, tmp)
    assert peak_mb < RSS_LIMIT_MB
    print(f"\nfuzz ingest: {len(files)} files {dict(statuses)}, rejected into {dict(folders)}; "
          f"peak RSS of the ingest process tree {peak_mb:.0f} MB; {spent:.1f} s")

    again, _ = _run_measured(["--noparallel", "scan", "ingest"], site.root, _env(site, tmp))
    assert again.returncode == 0 and "nothing to ingest" in again.stderr, again.stderr
    _no_temporary_files(site, tmp)


def test_fuzzed_files_in_the_archive_are_rows_or_problems_with_a_reason(site):
    files = _mutants()
    for m in files:
        path = site.archive / m.network / "2024" / f"{m.doy:03d}" / m.rel.split("/", 1)[1]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(m.data)
    tmp = site.root / "tmp"
    started = time.monotonic()
    r, peak_mb = _run_measured(["-q", "--noparallel", "scan", "archive", "--json"], site.root, _env(site, tmp))
    spent = time.monotonic() - started
    assert r.returncode == 1, r.stderr
    assert not RAW.search(r.stderr), r.stderr
    out = json.loads(r.stdout)
    assert len(out["files"]) == len(files) and not out["failures"]
    by_rel = {o["path"]: o for o in out["files"]}
    statuses: Counter[str] = Counter()
    for m in files:
        o = by_rel[f"{m.network}/2024/{m.doy:03d}/{m.rel.split('/', 1)[1]}"]
        statuses[o["status"]] += 1
        assert o["status"] in ("inserted", "problem"), (m.category, o)
        if o["status"] == "problem":
            assert o["reason"] and not RAW.search(o["reason"]), (m.category, o["reason"])
            assert m.category not in ARCHIVED_ALWAYS, (m.category, o["reason"])
            if m.category in REJECTED_ALWAYS:
                assert REJECTED_ALWAYS[m.category] in o["reason"], (m.category, o["reason"])
        else:
            assert m.category not in REJECTED_ALWAYS, (m.category, m.rel)
        if m.category == "header_value":
            assert o["warnings"], m.rel
    assert len(site.rows()) == statuses["inserted"]
    assert not any(tmp.iterdir())
    assert peak_mb < RSS_LIMIT_MB
    print(f"\nfuzz scan archive: {len(files)} files {dict(statuses)}; peak RSS of the scan process tree "
          f"{peak_mb:.0f} MB; {spent:.1f} s")
