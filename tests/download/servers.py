"""Local FTP and FTPS (pyftpdlib), HTTP (http.server) and SFTP (paramiko) servers on 127.0.0.1, non-default ports,
each serving one folder, for the download tests and the benchmark."""

from __future__ import annotations

import http.server
import os
import socket
import threading
from dataclasses import dataclass
from pathlib import Path

from tests.fixtures.services import free_port

USER, PASSWORD = "gnss", "s3cret-pw"


@dataclass
class Running:
    port: int
    root: Path
    stop: callable
    requests: list  # paths asked for, in order (what was transferred or tried)
    peers: set = None  # HTTP only: client ports seen (one per connection)

    @property
    def fqdn(self) -> str:
        return f"127.0.0.1:{self.port}"


# --- HTTP ----------------------------------------------------------------------------------------------------------

def start_http(root: Path, *, drop: bool = False, require_auth: bool = False, stall: bool = False,
               tls: tuple[Path, Path] | None = None) -> Running:
    """``drop``: close every connection without an answer (a broken server). ``stall``: send the headers and
    half of the file, then hang (a transfer to interrupt). ``tls``: (certificate, key) to serve HTTPS."""
    requests: list[str] = []
    peers: set[int] = set()
    import base64

    expected = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()

    class Handler(http.server.SimpleHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def __init__(self, *a, **kw):
            super().__init__(*a, directory=str(root), **kw)

        def do_GET(self):
            requests.append(self.path)
            peers.add(self.client_address[1])
            if drop:
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            if require_auth and self.headers.get("Authorization") != expected:
                self.send_response(401)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if stall:
                data = (root / self.path.lstrip("/")).read_bytes()
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data[: len(data) // 2])
                self.wfile.flush()
                threading.Event().wait(60)
                return
            super().do_GET()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    server.daemon_threads = True
    if tls:
        import ssl

        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*map(str, tls))
        server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def stop():
        server.shutdown()
        server.server_close()

    return Running(server.server_address[1], root, stop, requests, peers)


def self_signed_certificate(folder: Path, name: str = "ca") -> tuple[Path, Path]:
    """(certificate, key) for 127.0.0.1, valid for a day, made with the ``cryptography`` package (no openssl
    CLI); point SSL_CERT_FILE at it so clients trust it."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                       critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert, key_file = folder / f"{name}-cert.pem", folder / f"{name}-key.pem"
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert, key_file


# --- FTP -----------------------------------------------------------------------------------------------------------

def start_ftp(root: Path, *, tls: tuple[Path, Path] | None = None, anonymous: bool = True) -> Running:
    """``tls``: (certificate, key) to serve FTPS (explicit TLS); the server then refuses to log in or to move
    data without TLS on the control and the data channel. ``anonymous=False``: only USER/PASSWORD log in."""
    from pyftpdlib.authorizers import DummyAuthorizer
    from pyftpdlib.handlers import FTPHandler
    from pyftpdlib.servers import ThreadedFTPServer

    if tls:
        from pyftpdlib.handlers import TLS_FTPHandler as FTPHandler  # needs pyOpenSSL

    requests: list[str] = []
    authorizer = DummyAuthorizer()
    authorizer.add_user(USER, PASSWORD, str(root), perm="elr")
    if anonymous:
        authorizer.add_anonymous(str(root), perm="elr")

    class Handler(FTPHandler):
        def handle_auth_failed(self, msg, password):
            # answer at once: pyftpdlib's delayed answer can be lost by its threaded server under load
            self.respond("530 Authentication failed.")
            self.username = ""

        def ftp_RETR(self, file):
            requests.append(file)
            return super().ftp_RETR(file)

    Handler.authorizer = authorizer
    Handler.passive_ports = None
    if tls:
        Handler.certfile, Handler.keyfile = map(str, tls)
        Handler.tls_control_required = Handler.tls_data_required = True
    server = ThreadedFTPServer(("127.0.0.1", free_port()), Handler)
    # pyftpdlib keeps the exit flag on the class, shared by every server: a stopped server's loop sets it as it
    # winds down and ends the next server's sessions after their banner. Each server gets its own.
    server._exit, server._lock = threading.Event(), threading.Lock()
    thread = threading.Thread(target=server.serve_forever, kwargs={"timeout": 0.2, "blocking": True}, daemon=True)
    thread.start()

    def stop():
        server.close_all()

    return Running(server.address[1], root, stop, requests)


# --- SFTP ----------------------------------------------------------------------------------------------------------

_HOST_KEY = None


def start_sftp(root: Path) -> Running:
    import paramiko

    global _HOST_KEY
    if _HOST_KEY is None:
        _HOST_KEY = paramiko.RSAKey.generate(2048)
    requests: list[str] = []

    class Auth(paramiko.ServerInterface):
        def check_auth_password(self, username, password):
            ok = username == USER and password == PASSWORD
            return paramiko.AUTH_SUCCESSFUL if ok else paramiko.AUTH_FAILED

        def get_allowed_auths(self, username):
            return "password"

        def check_channel_request(self, kind, chanid):
            return paramiko.OPEN_SUCCEEDED

    class Handle(paramiko.SFTPHandle):
        def stat(self):
            return paramiko.SFTPAttributes.from_stat(os.fstat(self.readfile.fileno()))

    class Files(paramiko.SFTPServerInterface):
        def _local(self, path: str) -> Path:
            return root / os.path.normpath("/" + path).lstrip("/")

        def stat(self, path):
            try:
                return paramiko.SFTPAttributes.from_stat(os.stat(self._local(path)))
            except OSError as exc:
                return paramiko.SFTPServer.convert_errno(exc.errno)

        lstat = stat

        def list_folder(self, path):
            local = self._local(path)
            try:
                return [paramiko.SFTPAttributes.from_stat(os.stat(local / n), n) for n in os.listdir(local)]
            except OSError as exc:
                return paramiko.SFTPServer.convert_errno(exc.errno)

        def open(self, path, flags, attr):
            requests.append(path)
            try:
                fobj = open(self._local(path), "rb")
            except OSError as exc:
                return paramiko.SFTPServer.convert_errno(exc.errno)
            handle = Handle(flags)
            handle.filename, handle.readfile = path, fobj
            return handle

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", free_port()))
    listener.listen(16)
    transports: list = []
    stopping = threading.Event()

    def serve():
        while not stopping.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            transport = paramiko.Transport(conn)
            transport.add_server_key(_HOST_KEY)
            transport.set_subsystem_handler("sftp", paramiko.SFTPServer, Files)
            transport.start_server(server=Auth())
            transports.append(transport)

    threading.Thread(target=serve, daemon=True).start()

    def stop():
        stopping.set()
        listener.close()
        for t in transports:
            t.close()

    return Running(listener.getsockname()[1], root, stop, requests)
