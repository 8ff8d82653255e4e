"""One client class per protocol, all with the same small surface:

    client = open_client(protocol, host, port, user, password, timeout)
    client.fetch(remote_path, fileobj) -> bytes written   # NotFound / TransferError
    client.close()

``NotFound`` is an answer (try the next source); ``TransferError`` is a broken connection or a server error
(reconnect and retry, bounded). Only the standard library, plus paramiko for SFTP.
"""

from __future__ import annotations

import base64
import errno
import ftplib
import http.client
import socket
import ssl
from typing import BinaryIO
from urllib.parse import quote, urljoin, urlsplit


class NotFound(Exception):
    """The server answered: no such file (or no access to it)."""


class TransferError(Exception):
    """The connection failed or broke, or the server had an error: worth a reconnect and a retry."""


class Client:
    def fetch(self, path: str, out: BinaryIO) -> int:  # pragma: no cover - interface
        raise NotImplementedError

    def close(self) -> None:  # pragma: no cover - interface
        pass


class _Counter:
    def __init__(self, out: BinaryIO):
        self.out, self.count = out, 0

    def __call__(self, chunk: bytes) -> None:
        self.out.write(chunk)
        self.count += len(chunk)


class FTPClient(Client):
    """FTP (passive), FTPA (active) and FTPS (explicit TLS, protected data channel)."""

    def __init__(self, protocol: str, host: str, port: int, user: str | None, password: str | None, timeout: float):
        if protocol == "FTPS":  # verified like HTTPS: system CAs (or SSL_CERT_FILE), host name checked
            self.ftp = ftplib.FTP_TLS(context=ssl.create_default_context(), timeout=timeout)
        else:
            self.ftp = ftplib.FTP(timeout=timeout)
        try:
            self.ftp.connect(host, port)
            self.ftp.login(user or "anonymous", password or ("anonymous@" if not user else ""))
            if protocol == "FTPS":
                self.ftp.prot_p()
            self.ftp.set_pasv(protocol != "FTPA")
        except ftplib.error_perm as exc:
            self.close()
            raise TransferError(f"login refused: {str(exc).strip()}") from None
        except (OSError, EOFError, ftplib.Error) as exc:
            self.close()
            raise TransferError(f"cannot connect: {_why(exc)}") from None

    def fetch(self, path: str, out: BinaryIO) -> int:
        counter = _Counter(out)
        try:
            self.ftp.retrbinary(f"RETR {path}", counter)
        except ftplib.error_perm as exc:  # 550 no such file, 553, ...
            if str(exc).startswith(("530", "532")):
                raise TransferError(f"not logged in: {str(exc).strip()}") from None
            raise NotFound(str(exc).strip()) from None
        except (OSError, EOFError, ftplib.Error) as exc:
            raise TransferError(_why(exc)) from None
        return counter.count

    def close(self) -> None:
        try:
            self.ftp.quit()
        except Exception:  # the connection may already be gone
            self.ftp.close()


class SFTPClient(Client):
    def __init__(self, host: str, port: int, user: str | None, password: str | None, timeout: float):
        import paramiko

        self.transport = None
        try:
            sock = socket.create_connection((host, port), timeout=timeout)
            self.transport = paramiko.Transport(sock)
            self.transport.banner_timeout = timeout
            self.transport.connect(username=user or "anonymous", password=password or "")
            self.sftp = paramiko.SFTPClient.from_transport(self.transport)
            self.sftp.get_channel().settimeout(timeout)
        except paramiko.AuthenticationException:
            self.close()
            raise TransferError("login refused") from None
        except (OSError, EOFError, paramiko.SSHException) as exc:
            self.close()
            raise TransferError(f"cannot connect: {_why(exc)}") from None

    def fetch(self, path: str, out: BinaryIO) -> int:
        import paramiko

        counter = _Counter(out)
        try:
            with self.sftp.open(path, "rb") as remote:
                remote.prefetch()
                while chunk := remote.read(1 << 16):
                    counter(chunk)
        except IOError as exc:
            if exc.errno in (errno.ENOENT, errno.EACCES):
                raise NotFound(exc.strerror or str(exc)) from None
            raise TransferError(_why(exc)) from None
        except (EOFError, paramiko.SSHException) as exc:
            raise TransferError(_why(exc)) from None
        return counter.count

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


class HTTPClient(Client):
    """HTTP(S) over one kept-alive connection; Basic auth; redirects followed (credentials only to the same
    host, or to a host that has its own netrc entry, via ``credentials_for``)."""

    MAX_REDIRECTS = 5

    def __init__(self, protocol: str, host: str, port: int, user: str | None, password: str | None, timeout: float,
                 credentials_for=None):
        self.scheme, self.host, self.port, self.timeout = protocol.lower(), host, port, timeout
        self.auth = {host: (user, password)} if user and password else {}
        self.credentials_for = credentials_for
        self.conns: dict[tuple[str, str, int], http.client.HTTPConnection] = {}

    def _conn(self, scheme: str, host: str, port: int) -> http.client.HTTPConnection:
        key = (scheme, host, port)
        if key not in self.conns:
            if scheme == "https":
                self.conns[key] = http.client.HTTPSConnection(host, port, timeout=self.timeout,
                                                              context=ssl.create_default_context())
            else:
                self.conns[key] = http.client.HTTPConnection(host, port, timeout=self.timeout)
        return self.conns[key]

    def _headers(self, host: str) -> dict[str, str]:
        headers = {"User-Agent": "geode-download", "Accept-Encoding": "identity"}
        creds = self.auth.get(host)
        if creds is None and self.credentials_for is not None and host != self.host:
            creds = self.credentials_for(host)
            self.auth[host] = creds
        if creds and creds[0] and creds[1]:
            token = base64.b64encode(f"{creds[0]}:{creds[1]}".encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        return headers

    def fetch(self, path: str, out: BinaryIO) -> int:
        scheme, host, port, target = self.scheme, self.host, self.port, quote(path, safe="/:@!$&'()*+,;=-._~%")
        for _ in range(self.MAX_REDIRECTS + 1):
            conn = self._conn(scheme, host, port)
            try:
                conn.request("GET", target, headers=self._headers(host))
                resp = conn.getresponse()
                if resp.status in (301, 302, 303, 307, 308):
                    location = resp.getheader("Location") or ""
                    resp.read()
                    url = urlsplit(urljoin(f"{scheme}://{host}:{port}{target}", location))
                    scheme, host = url.scheme, url.hostname or host
                    port = url.port or (443 if scheme == "https" else 80)
                    target = url.path + (f"?{url.query}" if url.query else "")
                    continue
                if 200 <= resp.status < 300:
                    return self._stream(resp, out)
                resp.read()
                if resp.status >= 500:
                    raise TransferError(f"HTTP {resp.status} {resp.reason}")
                raise NotFound(f"HTTP {resp.status} {resp.reason}")
            except (OSError, http.client.HTTPException) as exc:
                self._drop(scheme, host, port)
                raise TransferError(_why(exc)) from None
        raise NotFound(f"more than {self.MAX_REDIRECTS} redirects")

    @staticmethod
    def _stream(resp: http.client.HTTPResponse, out: BinaryIO) -> int:
        counter = _Counter(out)
        while chunk := resp.read1(1 << 16):  # what has arrived; IncompleteRead when the body is cut short
            counter(chunk)
        resp.read()  # marks the response finished, so the kept-alive connection can carry the next request
        expected = resp.getheader("Content-Length")
        if expected and expected.isdigit() and int(expected) != counter.count:
            raise TransferError(f"transfer cut short: {counter.count} of {expected} bytes")
        return counter.count

    def _drop(self, scheme: str, host: str, port: int) -> None:
        conn = self.conns.pop((scheme, host, port), None)
        if conn is not None:
            conn.close()

    def close(self) -> None:
        for conn in self.conns.values():
            conn.close()
        self.conns.clear()


def open_client(protocol: str, host: str, port: int, user: str | None, password: str | None, timeout: float = 20.0,
                credentials_for=None) -> Client:
    protocol = protocol.upper()
    if protocol in ("FTP", "FTPA", "FTPS"):
        return FTPClient(protocol, host, port, user, password, timeout)
    if protocol == "SFTP":
        return SFTPClient(host, port, user, password, timeout)
    if protocol in ("HTTP", "HTTPS"):
        return HTTPClient(protocol, host, port, user, password, timeout, credentials_for)
    raise ValueError(f"unknown protocol {protocol!r}")


def _why(exc: BaseException) -> str:
    text = str(exc).strip()
    if isinstance(exc, socket.timeout):
        return "timed out"
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
