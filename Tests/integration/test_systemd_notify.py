"""`Type=notify` (issue 16): under systemd (NOTIFY_SOCKET set) the server says READY=1
once it listens, RELOADING=1 then READY=1 around SIGHUP, and STOPPING=1 when it stops,
through libsystemd's sd_notify. The test plays systemd: a datagram socket of its own."""

import os
import signal
import socket
import time

import pytest


@pytest.fixture
def notify_socket(tmp_path, monkeypatch):
    path = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(10)
    monkeypatch.setenv("NOTIFY_SOCKET", path)
    yield sock
    sock.close()


def receive(sock):
    return dict(line.split("=", 1) for line in sock.recv(4096).decode().splitlines())


def test_the_server_tells_systemd_it_is_ready_reloading_and_stopping(make_server, notify_socket, monkeypatch):
    srv = make_server()
    monkeypatch.delenv("NOTIFY_SOCKET")
    ready = receive(notify_socket)
    assert ready["READY"] == "1" and ready["STATUS"] == f"listening on http://127.0.0.1:{srv.port}", ready
    assert srv.get("/readyz").status_code == 200  # ready meant it: it answers

    srv.proc.send_signal(signal.SIGHUP)
    reloading = receive(notify_socket)
    assert reloading["RELOADING"] == "1"
    assert abs(int(reloading["MONOTONIC_USEC"]) / 1e6 - time.monotonic()) < 5  # CLOCK_MONOTONIC, like systemd's
    after = receive(notify_socket)
    assert after["READY"] == "1" and after["STATUS"] == "config reloaded: no change", after

    srv.stop()
    assert receive(notify_socket) == {"STOPPING": "1"}


def test_outside_systemd_nothing_is_sent_and_libsystemd_is_not_loaded(make_server):
    assert "NOTIFY_SOCKET" not in os.environ
    srv = make_server()
    with open(f"/proc/{srv.proc.pid}/maps") as f:
        assert "libsystemd" not in f.read()
