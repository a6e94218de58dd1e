"""`Type=notify` (issue 16): under systemd (NOTIFY_SOCKET set) the server says READY=1
once it listens, RELOADING=1 then READY=1 around SIGHUP, and STOPPING=1 when it stops,
through libsystemd's sd_notify. The test plays systemd: a datagram socket of its own."""

import os
import re
import signal
import socket
import time

import pytest


@pytest.fixture
def notify_socket(tmp_path, monkeypatch):
    path = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(30)
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

    log = srv.stderr()
    assert srv.stop() == 0, log
    assert receive(notify_socket) == {"STOPPING": "1"}


def blocked_signals(pid, tid):
    with open(f"/proc/{pid}/task/{tid}/status") as f:
        mask = int(re.search(r"^SigBlk:\s*([0-9a-f]+)$", f.read(), re.M).group(1), 16)
    return {s for s in (signal.SIGHUP, signal.SIGINT, signal.SIGTERM) if mask & (1 << (s - 1))}


def test_no_thread_of_the_server_can_be_killed_by_the_signals_it_waits_for(server):
    """The main thread takes SIGHUP, SIGINT and SIGTERM with sigwait; a thread started
    before they were blocked (the store's, the MongoDB driver's) would take a SIGHUP
    instead, and its default action ends the process."""
    pid = server.proc.pid
    threads = [tid for tid in os.listdir(f"/proc/{pid}/task") if tid != str(pid)]  # the main one is in sigwait
    assert threads
    blocked = {tid: blocked_signals(pid, tid) for tid in threads}
    assert all(s == {signal.SIGHUP, signal.SIGINT, signal.SIGTERM} for s in blocked.values()), blocked


def test_outside_systemd_nothing_is_sent_and_libsystemd_is_not_loaded(make_server):
    assert "NOTIFY_SOCKET" not in os.environ
    srv = make_server()
    with open(f"/proc/{srv.proc.pid}/maps") as f:
        assert "libsystemd" not in f.read()
