"""FTPS (explicit TLS, protected data channel) against a local pyftpdlib TLS server on a non-default port.

The server refuses to log in or to move data without TLS, so every transfer here went over TLS on both channels.
The certificate is self-signed for 127.0.0.1; the client trusts it only through SSL_CERT_FILE, as for HTTPS.
"""

from __future__ import annotations

import io
import json

import pytest

from geode.sources.protocols import NotFound, TransferError, open_client

from .helpers import DAY, rinex2_name, serve_rinex
from .servers import PASSWORD, USER, self_signed_certificate, start_ftp

PATH = f"/{DAY.year}/{DAY.doy:03d}/{rinex2_name('algo', DAY)}"


@pytest.fixture
def certificate(tmp_path):
    return self_signed_certificate(tmp_path)


@pytest.fixture
def ftps(tmp_path, certificate):
    root = tmp_path / "served-ftps"
    serve_rinex(root, "algo", DAY)
    server = start_ftp(root, tls=certificate)
    yield server
    server.stop()


@pytest.fixture
def trusted(certificate, monkeypatch):
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))  # trust the test certificate, nothing unverified


def test_ftps_client_fetches_and_reports_missing(ftps, trusted):
    client = open_client("FTPS", "127.0.0.1", ftps.port, USER, PASSWORD, timeout=10)
    try:
        out = io.BytesIO()
        size = client.fetch(PATH, out)
        assert out.getvalue() == (ftps.root / PATH.lstrip("/")).read_bytes()
        assert size == len(out.getvalue()) > 0
        with pytest.raises(NotFound):
            client.fetch(f"/{DAY.year}/{DAY.doy:03d}/nope{DAY.doy:03d}0.24d.Z", io.BytesIO())
        assert client.fetch(PATH, io.BytesIO()) == size  # the connection is still good after a miss
    finally:
        client.close()
    assert [r.rsplit("/", 1)[-1] for r in ftps.requests] == \
        [rinex2_name("algo", DAY), f"nope{DAY.doy:03d}0.24d.Z", rinex2_name("algo", DAY)]


def test_ftps_client_refuses_an_untrusted_certificate(ftps, monkeypatch):
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    with pytest.raises(TransferError, match="certificate verify failed"):
        open_client("FTPS", "127.0.0.1", ftps.port, USER, PASSWORD, timeout=10)
    assert ftps.requests == []  # nothing was asked for over an unverified connection


def test_ftps_wrong_password_is_refused(ftps, trusted):
    with pytest.raises(TransferError, match="refused"):
        open_client("FTPS", "127.0.0.1", ftps.port, USER, "wrong", timeout=10)


def test_download_over_ftps_lands_the_file_in_data_in(cli, site, add_source, certificate, trusted, tmp_path,
                                                      monkeypatch):
    serve_rinex(site.served, "algo", DAY)
    rc = tmp_path / "netrc"
    rc.write_text(f"machine 127.0.0.1 login {USER} password {PASSWORD}\n")
    rc.chmod(0o600)
    monkeypatch.setenv("GEODE_SOURCES_NETRC", str(rc))
    server = start_ftp(site.served, tls=certificate, anonymous=False)  # only the netrc login gets in
    try:
        server_id = add_source("ftps", server)
        res = cli("download", "igs.algo", "--date-range", DAY.yyyy_ddd, DAY.yyyy_ddd, "--backoff", "0",
                  "--timeout", "5", "--json")
        assert res.exit_code == 0, (res.exit_code, res.stdout, res.stderr)
        assert json.loads(res.stdout)["counts"]["downloaded"] == 1
        name = rinex2_name("algo", DAY)
        assert [p.name for p in site.station_dir().iterdir()] == [name]
        assert (site.station_dir() / name).read_bytes() == (site.served / PATH.lstrip("/")).read_bytes()
        attempts = site.attempts()
        assert [(a["doy"], a["server_id"], a["outcome"]) for a in attempts] == [(DAY.doy, server_id, "success")]
        assert attempts[0]["url"] == f"ftps://{server.fqdn}{PATH}"
        assert PASSWORD not in res.stdout + res.stderr
    finally:
        server.stop()
