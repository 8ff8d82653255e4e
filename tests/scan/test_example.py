"""The example workspace exercises every scan command: a corrupt file, a header typo, new and unknown files."""

from __future__ import annotations

import json

from geode.rinex import RinexName


def test_example_workspace_scan_check_ingest_stninfo(cli, database_url, tmp_path, monkeypatch):
    ws = tmp_path / "example"
    made = cli("example", str(ws))
    assert made.exit_code == 0, made.stderr
    monkeypatch.chdir(ws)

    scan = cli("scan", "archive", "--json")
    assert scan.exit_code == 1 and "arg/2024/104/SL0100ARG_R_20241040000_01D_30S_MO.crx.gz" in scan.stderr
    assert json.loads(scan.stdout)["counts"] == {"inserted": 0, "updated": 0, "unchanged": 49, "problem": 1, "transient": 0}
    kinds = {(n.version, n.hatanaka, n.compression)
             for n in (RinexName.parse(f["path"].rsplit("/", 1)[-1]) for f in json.loads(scan.stdout)["files"])}
    assert kinds == {(2, True, "Z"), (3, True, "gz"), (2, False, "gz"), (2, False, "bz2"), (3, False, "zip"),
                     (2, False, None), (3, True, None)}

    check = cli("scan", "check", "--json")
    findings = json.loads(check.stdout)["findings"]
    assert check.exit_code == 1
    assert {"station": "arg.rio2", "kind": "equipment", "first": "2024_103", "last": "2024_103",
            "detail": "antenna serial: RINEX '144090000X' != station info '1440900006'"} in findings

    ingest = cli("scan", "ingest", "--json")
    assert ingest.exit_code == 0, ingest.stderr
    assert json.loads(ingest.stdout)["counts"]["archived"] == 2
    assert json.loads(ingest.stdout)["counts"]["temporary"] == 1

    info = cli("scan", "stninfo", "station.info", "--json")
    assert info.exit_code == 0, info.stderr
    assert {o["status"] for o in json.loads(info.stdout)} == {"unchanged"}
