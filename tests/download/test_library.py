"""Library pieces without a database: templates, server names, validation, credentials, protocol clients."""

from __future__ import annotations

import io

import pytest

from geode.dates import GnssDate
from geode.errors import ConfigError, UsageError
from geode.sources import catalog, credentials, templates, validate
from geode.sources.protocols import NotFound, TransferError, open_client

from .helpers import DAY, html_page, rinex2_name, serve_rinex, truncated_gzip
from .servers import PASSWORD, USER, start_ftp, start_http, start_sftp


# --- templates ------------------------------------------------------------------------------------------------------

def test_template_expands_braced_and_bare_tags():
    day = GnssDate(2024, 5)
    assert templates.expand("/pub/${year}/${doy}/${station}${doy}0.${year2d}d.Z", day, "igs", "algo") == \
        "/pub/2024/005/algo0050.24d.Z"
    # GeoDE's manual writes $year; GeoDE's code ignored it. Both forms work here.
    assert templates.expand("/pub/$year/$doy/$STATION/$gpsweek$gpswkday", day, "igs", "algo") == \
        f"/pub/2024/005/ALGO/{day.gpsweek:04d}{day.gpswkday}"
    assert templates.expand("/${month}/${day}/${NETWORK}", day, "igs", "algo") == "/01/05/IGS"


def test_template_rinex3_long_name_needs_country():
    day = GnssDate(2024, 5)
    assert templates.expand("/${RINEX3_30}", day, "igs", "algo", 0, "can") == \
        "/ALGO00CAN_R_20240050000_01D_30S_MO.crx.gz"
    assert templates.expand("/${RINEX2}", day, "igs", "algo") == "/algo0050.24d.Z"
    with pytest.raises(templates.TemplateError, match="country code"):
        templates.expand("/${RINEX3_30}", day, "igs", "algo", 0, None)


def test_template_unknown_tag_is_an_error():
    with pytest.raises(templates.TemplateError, match="unknown tag"):
        templates.check("/pub/${yaer}/x")


# --- server names: the custom-port bug ------------------------------------------------------------------------------

@pytest.mark.parametrize("fqdn,proto,expected", [
    ("data.example.org", "FTP", ("data.example.org", 21)),
    ("data.example.org:2121", "FTP", ("data.example.org", 2121)),   # GeoDE gave port 1
    ("data.example.org:8080", "HTTP", ("data.example.org", 8080)),  # GeoDE gave 0, then the default
    ("data.example.org", "HTTPS", ("data.example.org", 443)),
    ("data.example.org", "SFTP", ("data.example.org", 22)),
    ("[::1]:2222", "SFTP", ("::1", 2222)),
])
def test_split_fqdn_keeps_custom_ports(fqdn, proto, expected):
    assert catalog.split_fqdn(fqdn, proto) == expected


@pytest.mark.parametrize("bad", ["host:", "host:abc", "host:70000", ":21", ""])
def test_split_fqdn_rejects_bad_ports(bad):
    with pytest.raises(UsageError):
        catalog.split_fqdn(bad if bad != "host:" else "host:x", "FTP")


# --- validation -----------------------------------------------------------------------------------------------------

def test_validation_accepts_rinex_and_rejects_html_truncated_and_empty(tmp_path):
    good = serve_rinex(tmp_path, "algo", DAY)
    assert validate.rejection(good) is None
    assert "HTML" in validate.rejection(html_page(tmp_path / "login.d.Z"))
    assert "truncated" in validate.rejection(truncated_gzip(tmp_path / "cut.o.gz", DAY))
    (tmp_path / "empty.d.Z").write_bytes(b"")
    assert validate.rejection(tmp_path / "empty.d.Z") == "empty file (0 bytes)"
    (tmp_path / "text.o").write_text("hello\n")
    assert "not a RINEX file" in validate.rejection(tmp_path / "text.o")


# --- credentials ----------------------------------------------------------------------------------------------------

def test_netrc_lookup_and_precedence(tmp_path, monkeypatch):
    rc = tmp_path / "netrc"
    rc.write_text(f"machine data.example.org login {USER} password {PASSWORD}\n")
    rc.chmod(0o600)
    assert credentials.lookup("data.example.org", str(rc)) == (USER, PASSWORD)
    assert credentials.lookup("other.example.org", str(rc)) == (None, None)
    monkeypatch.setenv("NETRC", str(rc))
    assert credentials.resolve("data.example.org", None, None, None) == (USER, PASSWORD)
    assert credentials.resolve("data.example.org", USER, "from-db", None) == (USER, "from-db")
    assert credentials.resolve("data.example.org", "someone", None, None) == ("someone", None)
    with pytest.raises(ConfigError, match="does not exist"):
        credentials.lookup("x", str(tmp_path / "missing"))


# --- protocol clients against local servers -------------------------------------------------------------------------

@pytest.fixture(params=["HTTP", "FTP", "FTPA", "SFTP"])
def served(request, tmp_path):
    serve_rinex(tmp_path, "algo", DAY)
    start = {"HTTP": start_http, "FTP": start_ftp, "FTPA": start_ftp, "SFTP": start_sftp}[request.param]
    server = start(tmp_path)
    yield request.param, server
    server.stop()


def test_client_fetches_and_reports_missing(served):
    protocol, server = served
    client = open_client(protocol, "127.0.0.1", server.port, USER, PASSWORD, timeout=10)
    try:
        out = io.BytesIO()
        path = f"/{DAY.year}/{DAY.doy:03d}/{rinex2_name('algo', DAY)}"
        size = client.fetch(path, out)
        assert size == len(out.getvalue()) == (server.root / path.lstrip("/")).stat().st_size
        assert client.fetch(path, io.BytesIO()) == size
        if server.peers is not None:  # HTTP: both requests went over one kept-alive connection
            assert len(server.requests) == 2 and len(server.peers) == 1
        with pytest.raises(NotFound):
            client.fetch(f"/{DAY.year}/{DAY.doy:03d}/nope0010.24d.Z", io.BytesIO())
        assert client.fetch(path, io.BytesIO()) == size  # still usable after a miss
    finally:
        client.close()


def test_wrong_password_is_a_transfer_error_for_ftp_and_sftp(tmp_path):
    for start, proto in ((start_ftp, "FTP"), (start_sftp, "SFTP")):
        server = start(tmp_path)
        try:
            with pytest.raises(TransferError, match="refused"):
                open_client(proto, "127.0.0.1", server.port, USER, "wrong", timeout=10)
        finally:
            server.stop()


def test_http_basic_auth_and_dropped_connections(tmp_path):
    serve_rinex(tmp_path, "algo", DAY)
    path = f"/{DAY.year}/{DAY.doy:03d}/{rinex2_name('algo', DAY)}"
    server = start_http(tmp_path, require_auth=True)
    try:
        with pytest.raises(NotFound, match="401"):
            open_client("HTTP", "127.0.0.1", server.port, None, None, 10).fetch(path, io.BytesIO())
        assert open_client("HTTP", "127.0.0.1", server.port, USER, PASSWORD, 10).fetch(path, io.BytesIO()) > 0
    finally:
        server.stop()
    broken = start_http(tmp_path, drop=True)
    try:
        with pytest.raises(TransferError):
            open_client("HTTP", "127.0.0.1", broken.port, None, None, 10).fetch(path, io.BytesIO())
    finally:
        broken.stop()


def test_pooled_connection_closed_while_idle_is_replaced_without_a_penalty(tmp_path):
    from geode.sources import fetch
    from geode.sources.fetch import Candidate, DayJob, FetchOptions, ServerSpec, StationJob, fetch_station

    served = tmp_path / "served"
    serve_rinex(served, "algo", DAY)
    serve_rinex(served, "algo", DAY + 1)
    server = start_http(served)
    try:
        spec = ServerSpec(1, "HTTP", server.fqdn)

        def job(day):
            cand = Candidate(1, f"/{day.year}/{day.doy:03d}/{rinex2_name('algo', day)}")
            return StationJob("igs", "algo", str(tmp_path / "data_in"), [DayJob(day.year, day.doy, [cand])], [spec],
                              FetchOptions(retries=1, backoff=0))

        assert fetch_station(job(DAY)).days[0].status == "downloaded"
        (pooled,) = fetch._idle[fetch._pool_key(spec)]
        for conn in pooled.conns.values():
            conn.sock.close()  # as if the server had timed the idle connection out
        second = fetch_station(job(DAY + 1))
        # with retries=1 a counted failure would have ended in "failed"
        assert second.days[0].status == "downloaded"
        assert [a.outcome for a in second.attempts] == ["success"]
    finally:
        fetch.close_idle()
        server.stop()
