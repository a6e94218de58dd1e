"""nginx with TLS in front of the real server (issue 16, item 5): the shipped
examples/nginx/tls.conf, with only its documented placeholders replaced by this test's
ports and files, so that what is tested is the file users copy.

The test makes its own CA and a certificate for `localhost` (openssl CLI), runs nginx
as a non-root process with its own prefix in a temporary folder, and checks through
HTTPS, verifying against that CA: REST as backbone-sse.js sends it, a stream whose
events arrive at once (not buffered), `Last-Event-ID` resume, cross-origin writes
refused and same-origin ones let through, the plain-HTTP redirect. Skipped, saying why,
only when nginx cannot start at all."""

import os
import pwd
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time

import pytest
import requests

from conftest import REPO, ServerFactory, unique
from sse_client import SSEParser, SSEStream, build_request

TLS_CONF = os.path.join(REPO, "examples", "nginx", "tls.conf")
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
        assert old in text, f"placeholder {old!r} is no longer in tls.conf"
        text = text.replace(old, new)
    return text


class NginxTLS:
    def __init__(self, backend_port, max_body):
        self.dir = tempfile.mkdtemp(prefix="bsse-nginx-tls-")
        self.ca, chain, key = make_certificates(self.dir)
        self.https_port, self.http_port = free_port(), free_port()
        with open(TLS_CONF) as f:
            conf = render(f.read(), {
                "example.com": HOST,
                "listen 443 ssl": f"listen 127.0.0.1:{self.https_port} ssl",
                "listen 80;": f"listen 127.0.0.1:{self.http_port};",
                "/etc/ssl/backbone-sse/fullchain.pem": chain,
                "/etc/ssl/backbone-sse/privkey.pem": key,
                "server 127.0.0.1:8080;": f"server 127.0.0.1:{backend_port};",
                "client_max_body_size 1m;": f"client_max_body_size {max_body};",
            })
        self.conf = os.path.join(self.dir, "tls.conf")
        with open(self.conf, "w") as f:
            f.write(conf)
        self.prefix = os.path.join(self.dir, "prefix") + "/"
        os.makedirs(self.prefix)
        # Not as root: CI runs the suite as root, so nginx gets `nobody`'s ids and owns
        # its folder (certificate and key included), as an unprivileged service would.
        self.user = None
        if os.geteuid() == 0:
            self.user = pwd.getpwnam("nobody")
            for root, dirs, files in os.walk(self.dir):
                for n in [root] + [os.path.join(root, x) for x in files + dirs]:
                    os.chown(n, self.user.pw_uid, self.user.pw_gid)
        self.log = open(os.path.join(self.dir, "nginx.log"), "wb")
        self.proc = None

    def start(self):
        kw = {}
        if self.user:
            kw = {"user": self.user.pw_uid, "group": self.user.pw_gid, "extra_groups": []}
        self.proc = subprocess.Popen(["nginx", "-e", "stderr", "-p", self.prefix, "-c", self.conf],
                                     stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log, **kw)
        deadline = time.monotonic() + 10
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
        """SIGQUIT: nginx's graceful stop; it must exit."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGQUIT)
        try:
            return self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("nginx did not stop within 10 s of SIGQUIT")
        finally:
            self.log.close()

    def output(self):
        with open(os.path.join(self.dir, "nginx.log"), "rb") as f:
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
    """sse_client's stream over TLS to nginx, verified against the test's CA, with the
    Host a browser would send."""

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


@pytest.fixture(scope="module")
def proxied(session_dir):
    """(server, nginx) for the module: one backbone-sse and nginx with tls.conf in front."""
    if shutil.which("nginx") is None or shutil.which("openssl") is None:
        pytest.skip("nginx or openssl is not installed (scripts/install-deps.sh test installs both)")
    factory = ServerFactory(session_dir)
    srv = factory("--max-body", "1MiB")
    proxy = NginxTLS(srv.port, "1m")
    try:
        if not proxy.start():
            proxy.stop()
            pytest.skip(f"nginx could not start:\n{proxy.output()}")
        yield srv, proxy
        assert proxy.stop() == 0, proxy.output()
        assert socket.socket().connect_ex(("127.0.0.1", proxy.https_port)) != 0, "nginx still listening"
    finally:
        if proxy.proc and proxy.proc.poll() is None:
            proxy.proc.kill()
        factory.stop_all()
        shutil.rmtree(proxy.dir, ignore_errors=True)


def sync_headers(proxy):
    """The headers of a Backbone.sync request from a page served through the proxy:
    jQuery's Accept and X-Requested-With, backbone-sse.js's X-Client-Id, the browser's
    Origin."""
    return {"Accept": "application/json, text/javascript, */*; q=0.01", "X-Requested-With": "XMLHttpRequest",
            "X-Client-Id": "tab-tls", "Origin": proxy.origin}


def test_rest_round_trip_through_tls(proxied):
    srv, proxy = proxied
    s, h = proxy.session(), sync_headers(proxy)
    title = unique("tls")
    r = s.post(proxy.origin + "/todos", json={"title": title}, headers=h, timeout=10)
    assert r.status_code == 201, r.text
    doc = r.json()
    assert r.headers["Strict-Transport-Security"].startswith("max-age=")
    assert r.headers.get("X-Request-Id"), r.headers  # nginx's $request_id, kept by the server
    r = s.get(proxy.origin + f"/todos/{doc['id']}", headers=h, timeout=10)
    assert r.status_code == 200 and r.json()["title"] == title
    r = s.patch(proxy.origin + f"/todos/{doc['id']}", json={"done": True, "_v": doc["_v"]}, headers=h, timeout=10)
    assert r.status_code == 200 and r.json()["done"] is True and r.json()["_v"] == doc["_v"] + 1, r.text
    r = s.delete(proxy.origin + f"/todos/{doc['id']}", headers=h, timeout=10)
    assert r.status_code == 200, r.text
    assert s.get(proxy.origin + f"/todos/{doc['id']}", timeout=10).status_code == 404
    # The request reached the server from nginx, with nginx's request id in its log line.
    assert r.headers["X-Request-Id"] in srv.stderr()


def test_a_stream_is_not_buffered_and_resumes_with_last_event_id(proxied):
    srv, proxy = proxied
    s = proxy.session()
    with TLSStream(proxy, "/todos") as stream:
        assert stream.status == 200, stream.head
        assert stream.head.header("Content-Type").startswith("text/event-stream")
        hello = stream.hello()
        first = []
        for i in range(3):
            sent = time.monotonic()
            r = s.post(proxy.origin + "/todos", json={"title": unique(f"live{i}")}, timeout=10)
            assert r.status_code == 201
            ev = stream.next(timeout=5)
            # Within about a second of the write: nginx passes each event on as it comes.
            assert time.monotonic() - sent < 1.0, f"event {i} took {time.monotonic() - sent:.2f} s through nginx"
            assert ev.event == "create" and ev.json["id"] == r.json()["id"]
            first.append(ev)
    assert hello.id != first[0].id
    # Written while no stream was open: a reconnect from the last id gets exactly these.
    missed = [s.post(proxy.origin + "/todos", json={"title": unique("missed")}, timeout=10).json()["id"]
              for _ in range(2)]
    with TLSStream(proxy, "/todos", headers={"Last-Event-ID": first[-1].id}) as again:
        assert again.status == 200
        got = again.take_until(lambda e: e.event == "create" and e.json["id"] == missed[-1], timeout=5)
        creates = [e.json["id"] for e in got if e.event == "create"]
        assert creates == missed, got


def test_cross_origin_write_is_refused_and_same_origin_passes(proxied):
    srv, proxy = proxied
    s = proxy.session()
    r = s.post(proxy.origin + "/todos", json={"title": unique("evil")},
               headers={"Origin": "https://evil.example"}, timeout=10)
    assert r.status_code == 403 and r.json()["error"]["code"] == "cross_origin", r.text
    # The browser's Origin on this page: https://localhost:PORT; the server sees that Host.
    r = s.post(proxy.origin + "/todos", json={"title": unique("same")}, headers={"Origin": proxy.origin}, timeout=10)
    assert r.status_code == 201, r.text


def test_plain_http_redirects_to_https(proxied):
    srv, proxy = proxied
    r = requests.get(f"http://127.0.0.1:{proxy.http_port}/todos?done=false", headers={"Host": HOST},
                     allow_redirects=False, timeout=10)
    assert r.status_code == 301
    # On 443 in production; the test's HTTPS port is another, which the file does not know.
    assert r.headers["Location"] == f"https://{HOST}/todos?done=false"


def test_a_body_over_the_limit_is_refused_by_nginx(proxied):
    srv, proxy = proxied
    r = proxy.session().post(proxy.origin + "/todos", data=b"{" + b" " * (1024 * 1024 + 10) + b"}",
                             headers={"Content-Type": "application/json"}, timeout=10)
    assert r.status_code == 413
    assert "nginx" in r.text  # nginx's own page: the body never reached the server
