"""Caddy with TLS in front of the real server: the shipped examples/caddy/Caddyfile,
with only its documented placeholders replaced (tls_proxy.py), through the same checks
as nginx's tls.conf. Caddy is Debian's package (bookworm: 2.6.2); skipped, saying why,
when it is not installed or cannot start."""

import os
import shutil

import pytest

import tls_proxy
from conftest import ServerFactory
from tls_proxy import HOST


class CaddyTLS(tls_proxy.TLSProxy):
    shipped = "examples/caddy/Caddyfile"
    name = "caddy"
    # Caddy 2.6 notices a client that closed a stream only when it next writes to it
    # (the server's next `ping`); until then a stop waits, up to grace_period (10 s).
    stop_timeout = 20

    def placeholders(self, chain, key, backend_port):
        return {
            "http_port 80": f"http_port {self.http_port}",
            "https_port 443": f"https_port {self.https_port}",
            "admin localhost:2019": f"admin 127.0.0.1:{tls_proxy.free_port()}",
            "example.com {": f"{HOST} {{",
            "/etc/ssl/backbone-sse/fullchain.pem": chain,
            "/etc/ssl/backbone-sse/privkey.pem": key,
            "reverse_proxy 127.0.0.1:8080": f"reverse_proxy 127.0.0.1:{backend_port}",
        }

    def env(self):
        # Caddy keeps its state (autosave.json, certificates) under these: the test's folder.
        return dict(os.environ, HOME=self.prefix, XDG_DATA_HOME=self.prefix, XDG_CONFIG_HOME=self.prefix)

    def command(self):
        return ["caddy", "run", "--adapter", "caddyfile", "--config", self.conf]


@pytest.fixture(scope="module")
def proxied(session_dir):
    if shutil.which("caddy") is None or shutil.which("openssl") is None:
        pytest.skip("caddy or openssl is not installed (scripts/install-deps.sh test installs both)")
    # A ping every 2 s: Caddy lets go of the streams the tests closed before it stops.
    yield from tls_proxy.run_proxy(CaddyTLS, ServerFactory(session_dir), pytest, server_args=("--heartbeat", "2"))


def test_rest_round_trip_through_tls(proxied):
    tls_proxy.check_rest_round_trip(*proxied)


def test_a_stream_is_not_buffered_and_resumes_with_last_event_id(proxied):
    tls_proxy.check_stream_unbuffered_and_resumed(*proxied)


def test_cross_origin_write_is_refused_and_same_origin_passes(proxied):
    tls_proxy.check_cross_origin(*proxied)


def test_plain_http_redirects_to_https(proxied):
    srv, proxy = proxied
    # Caddy's automatic redirect (308): to 443, as the site address names no port.
    tls_proxy.check_redirect(proxy, f"https://{HOST}/todos?done=false")


def test_a_body_over_the_limit_is_refused_by_caddy(proxied):
    # Caddy streams bodies on: the server's --max-body refuses this one (413), and Caddy
    # 2.6 (Debian 12's), whose request_body limit cuts the body it is forwarding, answers
    # 502; later Caddy answers 413. Nothing is stored either way.
    tls_proxy.check_body_limit(*proxied, statuses=(413, 502), reaches_server=True)


def test_a_stream_over_http2(proxied):
    tls_proxy.check_http2_stream(*proxied)
