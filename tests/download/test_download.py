"""geode download against local FTP, HTTP and SFTP servers on non-default ports, with a real database."""

from __future__ import annotations

import json

import pytest

from .helpers import DAY, TEMPLATE, html_page, rinex2_name, serve_rinex, truncated_gzip
from .servers import PASSWORD, USER, start_ftp, start_http, start_sftp

DAY2 = DAY + 1
RANGE = ("--date-range", DAY.yyyy_ddd, DAY2.yyyy_ddd)


def _run(cli, *args):
    return cli("download", *args, "--backoff", "0", "--timeout", "5", "--json")


@pytest.fixture
def http(site):
    server = start_http(site.served)
    yield server
    server.stop()


def test_files_land_in_data_in_and_every_attempt_is_recorded(cli, site, http, add_source):
    for day in (DAY, DAY2):
        serve_rinex(site.served, "algo", day)
    server_id = add_source("http", http)
    res = _run(cli, "igs.algo", *RANGE)
    assert res.exit_code == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["counts"]["downloaded"] == 2 and out["counts"]["failed"] == 0
    got = sorted(p.name for p in site.station_dir().iterdir())
    assert got == [rinex2_name("algo", DAY), rinex2_name("algo", DAY2)]
    for name, day in zip(got, (DAY, DAY2)):  # byte for byte what the server holds
        assert (site.station_dir() / name).read_bytes() == \
            (site.served / f"{day.year}/{day.doy:03d}" / name).read_bytes()
    attempts = site.attempts()
    assert [(a["doy"], a["outcome"], a["server_id"]) for a in attempts] == [(DAY.doy, "success", server_id),
                                                                             (DAY2.doy, "success", server_id)]
    assert attempts[0]["url"] == f"http://{http.fqdn}/{DAY.year}/{DAY.doy:03d}/{rinex2_name('algo', DAY)}"
    assert attempts[0]["bytes"] > 0
    assert not (site.repository / ".download_partial" / "igs.algo").exists()  # no leftovers


def test_rerun_transfers_nothing_and_archived_days_are_skipped(cli, site, http, add_source):
    for day in (DAY, DAY2, DAY2 + 1):
        serve_rinex(site.served, "algo", day)
    add_source("http", http)
    # DAY2+1 is already in the archive (GeoDE's rule: a rinex row with Completion >= 0.5)
    site.db.execute('INSERT INTO rinex ("NetworkCode", "StationCode", "ObservationYear", "ObservationMonth", '
                    '"ObservationDay", "ObservationDOY", "ObservationFYear", "Interval", "Completion", "Filename") '
                    "VALUES ('igs', 'algo', %s, %s, %s, %s, %s, 30, 0.9, 'x')",
                    ((DAY2 + 1).year, (DAY2 + 1).month, (DAY2 + 1).day, (DAY2 + 1).doy, (DAY2 + 1).fyear))
    args = ("igs.algo", "--date-range", DAY.yyyy_ddd, (DAY2 + 1).yyyy_ddd)
    first = _run(cli, *args)
    assert first.exit_code == 0, first.stderr
    assert json.loads(first.stdout)["counts"]["downloaded"] == 2
    requests_after_first = list(http.requests)
    assert len(requests_after_first) == 2  # the archived day was never asked for
    second = _run(cli, *args)
    assert second.exit_code == 0, second.stderr
    out = json.loads(second.stdout)
    assert out["counts"]["downloaded"] == 0 and out["counts"]["skipped"] == 3
    assert sorted(s["reason"] for s in out["skipped"]) == ["in archive", "in data_in", "in data_in"]
    assert http.requests == requests_after_first  # nothing transferred
    assert len(site.attempts()) == 2


def test_missing_on_first_source_is_fetched_from_second(cli, site, add_source, tmp_path, monkeypatch):
    ftp_root, sftp_root = tmp_path / "ftp", tmp_path / "sftp"
    serve_rinex(ftp_root, "algo", DAY)  # the FTP server lacks DAY2
    serve_rinex(sftp_root, "algo", DAY2)
    ftp, sftp = start_ftp(ftp_root), start_sftp(sftp_root)
    rc = tmp_path / "netrc"
    rc.write_text(f"machine 127.0.0.1 login {USER} password {PASSWORD}\n")
    rc.chmod(0o600)
    try:
        ftp_id = add_source("ftp", ftp)
        sftp_id = add_source("sftp", sftp)  # credentials come from the netrc file
        monkeypatch.setenv("GEODE_SOURCES_NETRC", str(rc))
        res = _run(cli, "igs.algo", *RANGE)
        assert res.exit_code == 0, res.stderr
        assert sorted(p.name for p in site.station_dir().iterdir()) == [rinex2_name("algo", d) for d in (DAY, DAY2)]
        outcomes = [(a["doy"], a["server_id"], a["outcome"]) for a in site.attempts()]
        assert outcomes == [(DAY.doy, ftp_id, "success"), (DAY2.doy, ftp_id, "not_found"),
                            (DAY2.doy, sftp_id, "success")]
        assert ftp.requests and sftp.requests == [f"/{DAY2.year}/{DAY2.doy:03d}/{rinex2_name('algo', DAY2)}"]
    finally:
        ftp.stop()
        sftp.stop()


def test_html_truncated_and_empty_files_are_rejected_with_reasons(cli, site, http, add_source):
    days = [DAY, DAY + 1, DAY + 2]
    folder = lambda d: site.served / f"{d.year}/{d.doy:03d}"  # noqa: E731
    html_page(folder(days[0]) / rinex2_name("algo", days[0]))
    truncated_gzip(folder(days[1]) / rinex2_name("algo", days[1]), days[1])
    folder(days[2]).mkdir(parents=True)
    (folder(days[2]) / rinex2_name("algo", days[2])).write_bytes(b"")
    add_source("http", http)
    res = _run(cli, "igs.algo", "--date-range", days[0].yyyy_ddd, days[2].yyyy_ddd)
    assert res.exit_code == 1
    out = json.loads(res.stdout)
    assert out["counts"] == {"downloaded": 0, "not_found": 0, "failed": 3, "skipped": 0, "bytes": 0}
    reasons = [a["reason"] for a in site.attempts()]
    assert [a["outcome"] for a in site.attempts()] == ["rejected"] * 3
    assert "HTML page" in reasons[0] and "truncated" in reasons[1] and reasons[2] == "empty file (0 bytes)"
    assert "3 problem(s)" in res.stderr and "HTML page" in res.stderr
    assert not site.station_dir().exists() or not any(site.station_dir().iterdir())


def test_progress_counts_station_days_and_the_failures_the_summary_lists(cli, site, http, add_source, monkeypatch):
    days = [DAY, DAY + 1]
    for d in days:
        html_page(site.served / f"{d.year}/{d.doy:03d}" / rinex2_name("algo", d))
    add_source("http", http)
    monkeypatch.setenv("TTY_COMPATIBLE", "0")  # stderr is a log: plain progress lines
    monkeypatch.setenv("GEODE_PROGRESS_INTERVAL", "0")
    res = cli("download", "igs.algo", "--date-range", days[0].yyyy_ddd, days[1].yyyy_ddd, "--backoff", "0")
    assert res.exit_code == 1
    progress = [line for line in res.stderr.splitlines() if line.startswith("download: ")]
    assert progress and progress[-1].startswith("download: 2/2 station-days, 2 failed, "), res.stderr
    assert "2 problem(s)" in res.stderr and "2 failed" in res.stderr


def test_dropping_server_is_retried_then_reported_and_other_stations_go_on(cli, site, add_source):
    serve_rinex(site.served, "drao", DAY)
    broken, good = start_http(site.served, drop=True), start_http(site.served)
    try:
        add_source("http", broken, stations=("igs.algo",))
        add_source("http", good, stations=("igs.drao",))
        res = _run(cli, "igs.algo", "igs.drao", "--date-range", DAY.yyyy_ddd, DAY.yyyy_ddd, "--retries", "3")
        assert res.exit_code == 1
        assert len(broken.requests) == 3  # bounded retries, then given up
        errors = [a for a in site.attempts() if a["stn"] == "algo"]
        assert [a["outcome"] for a in errors] == ["error"] * 3
        assert "after 3 attempt(s)" in res.stderr and "igs.algo" in res.stderr
        assert [p.name for p in site.station_dir("igs.drao").iterdir()] == [rinex2_name("drao", DAY)]
    finally:
        broken.stop()
        good.stop()


def test_not_found_everywhere_is_not_a_failure(cli, site, http, add_source):
    add_source("http", http)
    res = _run(cli, "igs.algo", "--date-range", DAY.yyyy_ddd, DAY.yyyy_ddd)
    assert res.exit_code == 0, res.stderr
    assert json.loads(res.stdout)["counts"]["not_found"] == 1
    assert [a["outcome"] for a in site.attempts()] == ["not_found"]
    shown = cli("download", "attempts", "igs.algo", "--json")
    assert shown.exit_code == 0, shown.stderr
    assert [(r["station"], r["doy"], r["outcome"]) for r in json.loads(shown.stdout)] == \
        [("igs.algo", DAY.doy, "not_found")]
    assert json.loads(cli("download", "attempts", "igs.drao", "--json").stdout) == []
    table = cli("download", "attempts")
    assert table.exit_code == 0 and "not_found" in table.stdout


def test_format_script_converts_before_data_in(cli, site, http, add_source, monkeypatch, tmp_path):
    import gzip

    # the source publishes gzipped plain RINEX under a .gz name; the format script unpacks it
    src = serve_rinex(tmp_path / "plain", "algo", DAY)
    from geode.rinex.compression import read_plain

    target = site.served / f"{DAY.year}/{DAY.doy:03d}/algo{DAY.doy:03d}0.{DAY.year2d}o.gz"
    target.parent.mkdir(parents=True)
    target.write_bytes(gzip.compress(read_plain(src)))
    scripts = tmp_path / "scripts"
    scripts.mkdir()
    script = scripts / "gunzipper.sh"
    script.write_text('#!/bin/sh\nset -e\nname=$(basename "$2" .gz)\ngunzip -c "$1" > "$3/$name"\n')
    script.chmod(0o755)
    monkeypatch.setenv("GEODE_ARCHIVE_FORMAT_SCRIPTS_PATH", str(scripts))
    add_source("http", http, path="/${year}/${doy}/${station}${doy}0.${year2d}o.gz", format="gunzipper")
    res = _run(cli, "igs.algo", "--date-range", DAY.yyyy_ddd, DAY.yyyy_ddd)
    assert res.exit_code == 0, res.stderr
    out = site.station_dir() / f"algo{DAY.doy:03d}0.{DAY.year2d}o"
    assert [p.name for p in site.station_dir().iterdir()] == [out.name]
    assert out.read_bytes() == read_plain(src)


def test_sources_list_masks_passwords_and_remove_guards_servers(cli, site, http, add_source):
    server_id = add_source("http", http, username="someone")
    site.db.execute("UPDATE sources_servers SET password = 'hunter2' WHERE server_id = %s", (server_id,))
    res = cli("download", "sources", "list", "--json")
    assert res.exit_code == 0, res.stderr
    assert "hunter2" not in res.stdout
    out = json.loads(res.stdout)
    assert out["servers"][0]["password"] == "****" and out["servers"][0]["fqdn"] == http.fqdn
    assert out["stations"] == [{"network": "igs", "station": "algo", "try_order": 1, "server_id": server_id,
                                "path": None, "format": None}]
    table = cli("download", "sources", "list")
    assert "hunter2" not in table.stdout + table.stderr and "****" in table.stdout
    refused = cli("download", "sources", "remove", "--server", str(server_id))
    assert refused.exit_code == 1 and "igs.algo" in refused.stderr
    assert cli("download", "sources", "remove", "igs.algo").exit_code == 0
    assert cli("download", "sources", "remove", "--server", str(server_id)).exit_code == 0
    assert json.loads(cli("download", "sources", "list", "--json").stdout) == {"servers": [], "stations": []}


def test_sources_test_connects_and_fetches(cli, site, http, add_source):
    serve_rinex(site.served, "algo", DAY)
    server_id = add_source("http", http)
    ok = cli("download", "sources", "test", str(server_id), "--station", "igs.algo", "--date", DAY.yyyy_ddd, "--json")
    assert ok.exit_code == 0, ok.stderr
    assert "valid RINEX" in dict(json.loads(ok.stdout)["checks"])["fetch"]
    missing = cli("download", "sources", "test", str(server_id), "--station", "igs.algo", "--date",
                  (DAY + 5).yyyy_ddd)
    assert missing.exit_code == 1 and "404" in missing.stdout


@pytest.mark.parametrize("args,code,text", [
    (("igs.algo",), 2, "exactly one of"),
    (("igs.algo", "--date-range", "2024_100"), 2, "requires 2 arguments"),
    (("igs.algo", "--window", "2", "--date-range", "2024_100", "2024_100"), 2, "exactly one of"),
    (("igs.nope", "--window", "1"), 2, "nope"),
    (("igs.algo", "--date-range", "2024_100", "2024_500"), 2, "day of year"),
])
def test_usage_errors_are_one_line(cli, site, args, code, text):
    res = cli("download", *args)
    assert res.exit_code == code
    assert text in res.stderr and len(res.stderr.strip().splitlines()) == 1


def test_bad_server_definitions_are_refused(cli, site):
    res = cli("download", "sources", "add", "--protocol", "gopher", "--fqdn", "x", "--path", TEMPLATE)
    assert res.exit_code == 2 and "unknown protocol" in res.stderr
    res = cli("download", "sources", "add", "--protocol", "ftp", "--fqdn", "x:99999", "--path", TEMPLATE)
    assert res.exit_code == 2 and "port" in res.stderr
    res = cli("download", "sources", "add", "--protocol", "ftp", "--fqdn", "x", "--path", "/${yaer}/f")
    assert res.exit_code == 2 and "unknown tag" in res.stderr
    assert site.db.query("SELECT * FROM sources_servers") == []


def test_station_without_sources_is_reported_and_missing_repository_is_a_config_error(cli, site, monkeypatch):
    res = cli("download", "igs.algo", "--date-range", DAY.yyyy_ddd, DAY.yyyy_ddd)
    assert res.exit_code == 1 and "no sources defined" in res.stderr
    monkeypatch.delenv("GEODE_ARCHIVE_REPOSITORY")
    res = cli("download", "igs.algo", "--date-range", DAY.yyyy_ddd, DAY.yyyy_ddd)
    assert res.exit_code == 78 and "repository" in res.stderr


def test_days_outside_station_information_are_skipped_as_inactive(cli, site, http, add_source):
    for day in (DAY, DAY2):
        serve_rinex(site.served, "algo", day)
    site.db.execute("INSERT INTO receivers (\"ReceiverCode\") VALUES ('TRIMBLE NETR9')")
    site.db.execute("INSERT INTO antennas (\"AntennaCode\", \"RadomeCode\") VALUES ('TRM59800.00', 'NONE')")
    # the station's equipment record ends at the start of DAY2: DAY2 is not a day it observed
    site.db.execute('INSERT INTO stationinfo ("NetworkCode", "StationCode", "ReceiverCode", "AntennaCode", '
                    '"RadomeCode", "DateStart", "DateEnd") VALUES (\'igs\', \'algo\', \'TRIMBLE NETR9\', '
                    "'TRM59800.00', 'NONE', %s, %s)", (DAY.datetime, DAY2.datetime))
    add_source("http", http)
    res = _run(cli, "igs.algo", *RANGE)
    assert res.exit_code == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["counts"]["downloaded"] == 1
    assert [(s["doy"], s["reason"]) for s in out["skipped"]] == [(DAY2.doy, "inactive")]
    assert len(http.requests) == 1


def test_human_summary_goes_to_stdout_and_notices_to_stderr(cli, site, http, add_source):
    serve_rinex(site.served, "algo", DAY)
    add_source("http", http)
    res = cli("download", "igs.algo", "--date-range", DAY.yyyy_ddd, DAY.yyyy_ddd)
    assert res.exit_code == 0, res.stderr
    assert "igs.algo" in res.stdout and "downloaded" in res.stdout and rinex2_name("algo", DAY) in res.stdout
    assert "1 downloaded" in res.stderr and "0 failed" in res.stderr


def test_https_with_netrc_credentials(cli, site, add_source, tmp_path, monkeypatch):
    from .servers import self_signed_certificate

    serve_rinex(site.served, "algo", DAY)
    cert, key = self_signed_certificate(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # trust the test certificate, and nothing is left unverified
    rc = tmp_path / "netrc"
    rc.write_text(f"machine 127.0.0.1 login {USER} password {PASSWORD}\n")
    rc.chmod(0o600)
    monkeypatch.setenv("GEODE_SOURCES_NETRC", str(rc))
    server = start_http(site.served, require_auth=True, tls=(cert, key))
    try:
        add_source("https", server)
        res = _run(cli, "igs.algo", "--date-range", DAY.yyyy_ddd, DAY.yyyy_ddd)
        assert res.exit_code == 0, res.stderr
        assert [p.name for p in site.station_dir().iterdir()] == [rinex2_name("algo", DAY)]
        assert site.attempts()[0]["url"].startswith(f"https://{server.fqdn}/")
        assert PASSWORD not in res.stdout + res.stderr
    finally:
        server.stop()


def test_broken_first_source_falls_over_to_the_second(cli, site, add_source):
    for day in (DAY, DAY2):
        serve_rinex(site.served, "algo", day)
    broken, good = start_http(site.served, drop=True), start_http(site.served)
    try:
        broken_id, good_id = add_source("http", broken), add_source("http", good)
        res = _run(cli, "igs.algo", *RANGE, "--retries", "2")
        assert res.exit_code == 0, res.stderr
        assert sorted(p.name for p in site.station_dir().iterdir()) == [rinex2_name("algo", d) for d in (DAY, DAY2)]
        assert [(a["doy"], a["server_id"], a["outcome"]) for a in site.attempts()] == [
            (DAY.doy, broken_id, "error"), (DAY.doy, broken_id, "error"), (DAY.doy, good_id, "success"),
            (DAY2.doy, broken_id, "error"), (DAY2.doy, broken_id, "error"), (DAY2.doy, good_id, "success")]
    finally:
        broken.stop()
        good.stop()


def test_one_connection_serves_every_station_of_an_inline_run(cli, site, http, add_source):
    for stn in ("algo", "drao"):
        for day in (DAY, DAY2):
            serve_rinex(site.served, stn, day)
    add_source("http", http, stations=("igs.algo", "igs.drao"))
    res = _run(cli, "igs.all", *RANGE, "--noparallel")
    assert res.exit_code == 0, res.stderr
    assert json.loads(res.stdout)["counts"]["downloaded"] == 4
    assert len(http.requests) == 4 and len(http.peers) == 1  # logged in once, not once per station
    from geode.sources import fetch

    assert fetch._idle == {}  # the run closed it at the end
