"""nginx with TLS in front of the real server (issue 16, item 5): the shipped
examples/nginx/tls.conf, with only its documented placeholders replaced by this test's
ports and files (tls_proxy.py: its own CA, nginx as `nobody` with its own prefix).
Through HTTPS: REST as backbone-sse.js sends it, a stream whose events arrive at once,
`Last-Event-ID` resume, cross-origin writes refused and same-origin ones let through,
the plain-HTTP redirect, the body limit. Skipped, saying why, only when nginx cannot
start at all."""

import re
import shutil
import signal

import pytest

import tls_proxy
from conftest import ServerFactory
from tls_proxy import HOST


class NginxTLS(tls_proxy.TLSProxy):
    shipped = "examples/nginx/tls.conf"
    name = "nginx"
    stop_signal = signal.SIGQUIT  # nginx's graceful stop

    def placeholders(self, chain, key, backend_port):
        return {
            "example.com": HOST,
            "listen 443 ssl": f"listen 127.0.0.1:{self.https_port} ssl",
            "listen 80;": f"listen 127.0.0.1:{self.http_port};",
            "/etc/ssl/backbone-sse/fullchain.pem": chain,
            "/etc/ssl/backbone-sse/privkey.pem": key,
            "server 127.0.0.1:8080;": f"server 127.0.0.1:{backend_port};",
        }

    def command(self):
        return ["nginx", "-e", "stderr", "-p", self.prefix, "-c", self.conf]


@pytest.fixture(scope="module")
def proxied(session_dir):
    if shutil.which("nginx") is None or shutil.which("openssl") is None:
        pytest.skip("nginx or openssl is not installed (scripts/install-deps.sh test installs both)")
    yield from tls_proxy.run_proxy(NginxTLS, ServerFactory(session_dir), pytest)


def test_rest_round_trip_through_tls(proxied):
    srv, proxy = proxied
    tls_proxy.check_rest_round_trip(srv, proxy)
    # nginx's own $request_id, which the server keeps (proxy_set_header X-Request-Id).
    r = proxy.session().get(proxy.origin + "/livez", timeout=10)
    assert re.fullmatch(r"[0-9a-f]{32}", r.headers["X-Request-Id"]), r.headers


def test_a_stream_is_not_buffered_and_resumes_with_last_event_id(proxied):
    tls_proxy.check_stream_unbuffered_and_resumed(*proxied)


def test_cross_origin_write_is_refused_and_same_origin_passes(proxied):
    tls_proxy.check_cross_origin(*proxied)


def test_plain_http_redirects_to_https(proxied):
    srv, proxy = proxied
    # To 443, the production port: the file does not know the test's HTTPS port.
    tls_proxy.check_redirect(proxy, f"https://{HOST}/todos?done=false")


def test_a_body_over_the_limit_is_refused_by_nginx(proxied):
    tls_proxy.check_body_limit(*proxied)


def test_a_stream_over_http2(proxied):
    tls_proxy.check_http2_stream(*proxied)
