"""A TLS proxy in front of the real server, for test_nginx_tls.py and test_caddy_tls.py:
each runs a shipped example file (examples/nginx/tls.conf, examples/caddy/Caddyfile)
with only its documented placeholders replaced, so that what is tested is the file
users copy, and both run the same checks (`check_*` below) through HTTPS.

- `make_certificates`: a CA of the test's own and a certificate for `localhost` signed
  by it (openssl CLI); every client here verifies against that CA only.
- `TLSProxy`: the proxy process, in a temporary folder of its own, run as `nobody` when
  the suite runs as root (CI does), as an unprivileged service would be. A subclass
  says which file, which placeholders and which command.
- `TLSStream`: sse_client's stream over TLS, with the Host a browser sends.
"""

import os
import pwd
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time

import requests

from conftest import REPO, unique
from sse_client import SSEParser, SSEStream, build_request

HOST = "localhost"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def make_certificates(d):
    """A CA, and a certificate for localhost signed by it (what a real chain looks like,
    and what Python's strict verification accepts). Returns (ca, chain, key) paths."""
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=backbone-sse test CA", cwd=d)
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", "privkey.pem", "-out", "leaf.csr", "-subj", f"/CN={HOST}", cwd=d)
    with open(os.path.join(d, "leaf.ext"), "w") as f:
        f.write(f"subjectAltName=DNS:{HOST},IP:127.0.0.1\nbasicConstraints=critical,CA:FALSE\n"
                "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n")
    openssl("x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", "fullchain.pem", "-days", "2", "-extfile", "leaf.ext", cwd=d)
    return tuple(os.path.join(d, n) for n in ("ca.pem", "fullchain.pem", "privkey.pem"))


def render(text, replacements):
    """The shipped file with each placeholder replaced; each must be there (a renamed
    placeholder fails here rather than leaving the default in the tested file)."""
    for old, new in replacements.items():
        assert old in text, f"placeholder {old!r} is no longer in the file"
        text = text.replace(old, new)
    return text


class TLSProxy:
    """Subclasses set `shipped` (the example file, relative to the repository), `name`,
    and implement `placeholders(chain, key, backend_port)` and `command()`."""

    shipped = name = None
    stop_signal = signal.SIGTERM
    stop_timeout = 10

    def __init__(self, backend_port):
        self.dir = tempfile.mkdtemp(prefix=f"bsse-{self.name}-tls-")
        self.ca, chain, key = make_certificates(self.dir)
        self.https_port, self.http_port = free_port(), free_port()
        with open(os.path.join(REPO, self.shipped)) as f:
            text = render(f.read(), self.placeholders(chain, key, backend_port))
        self.conf = os.path.join(self.dir, os.path.basename(self.shipped))
        with open(self.conf, "w") as f:
            f.write(text)
        self.prefix = os.path.join(self.dir, "prefix") + "/"
        os.makedirs(self.prefix)
        # Not as root: CI runs the suite as root, so the proxy gets `nobody`'s ids and
        # owns its folder (certificate and key included).
        self.user = None
        if os.geteuid() == 0:
            self.user = pwd.getpwnam("nobody")
            for root, dirs, files in os.walk(self.dir):
                for n in [root] + [os.path.join(root, x) for x in files + dirs]:
                    os.chown(n, self.user.pw_uid, self.user.pw_gid)
        self.log_path = os.path.join(self.dir, f"{self.name}.log")
        self.log = open(self.log_path, "wb")
        self.proc = None

    def env(self):
        return dict(os.environ, HOME=self.prefix)

    def start(self):
        """True once the HTTPS port accepts; False when the proxy exits or never listens."""
        kw = {"user": self.user.pw_uid, "group": self.user.pw_gid, "extra_groups": []} if self.user else {}
        self.proc = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log,
                                     cwd=self.prefix, env=self.env(), **kw)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                socket.create_connection(("127.0.0.1", self.https_port), timeout=1).close()
                return True
            except OSError:
                time.sleep(0.05)
        return False

    def stop(self):
        """The proxy's graceful stop; it must exit, with status 0."""
        try:
            if self.proc is None or self.proc.poll() is not None:
                return self.proc.returncode if self.proc else None
            self.proc.send_signal(self.stop_signal)
            try:
                return self.proc.wait(timeout=self.stop_timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError(f"{self.name} did not stop within {self.stop_timeout} s of {self.stop_signal.name}")
        finally:
            self.log.close()

    def cleanup(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)

    def output(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    @property
    def origin(self):
        return f"https://{HOST}:{self.https_port}"

    def session(self):
        """Verifying against the test's CA only: without trust_env, REQUESTS_CA_BUNDLE
        in the environment would take the place of `verify`."""
        s = requests.Session()
        s.trust_env = False
        s.verify = self.ca
        return s


class TLSStream(SSEStream):
    """sse_client's stream over TLS to the proxy, verified against the test's CA, with
    the Host a browser would send."""

    def __init__(self, proxy, path, headers=None, timeout=10.0):
        self.port, self.path = proxy.https_port, path
        context = ssl.create_default_context(cafile=proxy.ca)
        raw = socket.create_connection(("127.0.0.1", proxy.https_port), timeout=timeout)
        self.sock = context.wrap_socket(raw, server_hostname=HOST)
        self.sock.settimeout(timeout)
        self.sock.sendall(build_request(path, headers, host=f"{HOST}:{proxy.https_port}"))
        self.parser = SSEParser()
        self.decoder = None
        self.closed = False
        self.events, self._queue = [], []
        self.bytes_received = 0
        self._raw, self.head, self.body = b"", None, b""
        self._read_head(timeout)


def run_proxy(proxy_class, factory, pytest, server_args=()):
    """A generator for a module fixture: yields (server, proxy); stops both after."""
    srv = factory("--max-body", "1MiB", *server_args)
    proxy = proxy_class(srv.port)
    try:
        if not proxy.start():
            proxy.stop()
            pytest.skip(f"{proxy.name} could not start:\n{proxy.output()}")
        yield srv, proxy
        assert proxy.stop() == 0, proxy.output()
        with socket.socket() as s:
            assert s.connect_ex(("127.0.0.1", proxy.https_port)) != 0, f"{proxy.name} still listening"
    finally:
        proxy.cleanup()
        factory.stop_all()


# --- the checks both proxies pass ---------------------------------------------------


def sync_headers(proxy):
    """The headers of a Backbone.sync request from a page served through the proxy:
    jQuery's Accept and X-Requested-With, backbone-sse.js's X-Client-Id, the browser's
    Origin."""
    return {"Accept": "application/json, text/javascript, */*; q=0.01", "X-Requested-With": "XMLHttpRequest",
            "X-Client-Id": "tab-tls", "Origin": proxy.origin}


def check_rest_round_trip(srv, proxy):
    s, h = proxy.session(), sync_headers(proxy)
    title = unique("tls")
    r = s.post(proxy.origin + "/todos", json={"title": title}, headers=h, timeout=10)
    assert r.status_code == 201, r.text
    doc = r.json()
    assert r.headers["Strict-Transport-Security"].startswith("max-age=")
    r = s.get(proxy.origin + f"/todos/{doc['id']}", headers=h, timeout=10)
    assert r.status_code == 200 and r.json()["title"] == title
    r = s.patch(proxy.origin + f"/todos/{doc['id']}", json={"done": True, "_v": doc["_v"]}, headers=h, timeout=10)
    assert r.status_code == 200 and r.json()["done"] is True and r.json()["_v"] == doc["_v"] + 1, r.text
    r = s.delete(proxy.origin + f"/todos/{doc['id']}", headers=h, timeout=10)
    assert r.status_code == 200, r.text
    assert s.get(proxy.origin + f"/todos/{doc['id']}", timeout=10).status_code == 404
    # The request reached the server through the proxy: its id is in the server's log.
    assert r.headers["X-Request-Id"] in srv.stderr()


def check_stream_unbuffered_and_resumed(srv, proxy):
    s = proxy.session()
    with TLSStream(proxy, "/todos") as stream:
        assert stream.status == 200, stream.head
        assert stream.head.header("Content-Type").startswith("text/event-stream")
        stream.hello()
        seen = []
        for i in range(3):
            sent = time.monotonic()
            r = s.post(proxy.origin + "/todos", json={"title": unique(f"live{i}")}, timeout=10)
            assert r.status_code == 201
            ev = stream.next(timeout=5)
            # Within about a second of the write: the proxy passes each event on as it comes.
            took = time.monotonic() - sent
            assert took < 1.0, f"event {i} took {took:.2f} s through {proxy.name}"
            assert ev.event == "create" and ev.json["id"] == r.json()["id"]
            seen.append(ev)
    # Written while no stream was open: a reconnect from the last id gets exactly these.
    missed = [s.post(proxy.origin + "/todos", json={"title": unique("missed")}, timeout=10).json()["id"]
              for _ in range(2)]
    with TLSStream(proxy, "/todos", headers={"Last-Event-ID": seen[-1].id}) as again:
        assert again.status == 200
        got = again.take_until(lambda e: e.event == "create" and e.json["id"] == missed[-1], timeout=5)
        assert [e.json["id"] for e in got if e.event == "create"] == missed, got


def check_cross_origin(srv, proxy):
    s = proxy.session()
    r = s.post(proxy.origin + "/todos", json={"title": unique("evil")},
               headers={"Origin": "https://evil.example"}, timeout=10)
    assert r.status_code == 403 and r.json()["error"]["code"] == "cross_origin", r.text
    # The browser's Origin on this page: https://localhost:PORT; the server sees that Host.
    r = s.post(proxy.origin + "/todos", json={"title": unique("same")}, headers={"Origin": proxy.origin}, timeout=10)
    assert r.status_code == 201, r.text


def check_redirect(proxy, expected_location):
    r = requests.get(f"http://127.0.0.1:{proxy.http_port}/todos?done=false", headers={"Host": HOST},
                     allow_redirects=False, timeout=10)
    assert r.status_code in (301, 308), (r.status_code, r.text)
    assert r.headers["Location"] == expected_location, r.headers


def check_body_limit(srv, proxy, statuses=(413,), reaches_server=False):
    """A body over --max-body is refused. A proxy that reads whole bodies first (nginx)
    refuses it itself; one that streams them (Caddy) passes the start on, and the
    server's own --max-body refuses it."""
    def refused_by_server():
        return srv.stderr().count('"http.status":413') + srv.stderr().count("http.status=413")
    before = refused_by_server()
    r = proxy.session().post(proxy.origin + "/todos", data=b"{" + b" " * (1024 * 1024 + 10) + b"}",
                             headers={"Content-Type": "application/json"}, timeout=10)
    assert r.status_code in statuses, r.status_code
    # The server logs a request once libmicrohttpd is done with it, which can be just
    # after the proxy has passed the answer on: wait for the line a little.
    expected = before + (1 if reaches_server else 0)
    deadline = time.monotonic() + 5
    while refused_by_server() < expected and time.monotonic() < deadline:
        time.sleep(0.05)
    assert refused_by_server() == expected, srv.stderr_tail()


def check_http2_stream(srv, proxy):
    """Browsers speak HTTP/2 to the proxy when it offers it (then a page's streams do not
    count against HTTP/1.1's six connections per site): a stream over HTTP/2 (curl)."""
    p = subprocess.run(["curl", "--http2", "-sN", "--max-time", "2", "--cacert", proxy.ca,
                        "--resolve", f"{HOST}:{proxy.https_port}:127.0.0.1", "-H", "Accept: text/event-stream",
                        "-w", "\nhttp_version=%{http_version}\n", proxy.origin + "/todos"],
                       capture_output=True, text=True, timeout=10, env={"PATH": os.environ.get("PATH", "")})
    # curl exits 28 when --max-time ends the stream, as intended.
    assert p.returncode == 28, (p.returncode, p.stderr)
    assert "event: hello" in p.stdout and "http_version=2" in p.stdout, p.stdout
