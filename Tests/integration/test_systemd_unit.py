"""deploy/systemd/backbone-sse.service (issue 16, item 5).

systemd is not PID 1 where the tests run (a container, or CI's fresh machine), so the
unit cannot be started for real. What is checked instead:

- `systemd-analyze verify` (systemd's own parser and checks: every key known, every
  value valid, ExecStart/ExecReload executables present) on a copy whose only change is
  the binary's path, /usr/local/bin/backbone-sse → the binary under test (verify fails
  on an executable that is missing); any warning fails the test.
- `systemd-analyze security --offline=yes`: the exposure score of the hardening.
- The unit's own ExecStart command line, run as systemd would run it: under the
  kernel's PR_SET_MDWE (what MemoryDenyWriteExecute=yes enforces, so a Swift runtime or
  library that needed writable code would fail here) and with a NOTIFY_SOCKET, checking
  the sd_notify protocol Type=notify relies on: READY=1 once it listens, RELOADING=1
  then READY=1 around a SIGHUP (ExecReload), STOPPING=1 on SIGTERM, exit 0 well
  within TimeoutStopSec.
"""

import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time

import pytest
import requests

from conftest import BIN, REPO, CONFIG_YAML, Server, ServerFactory
from sse_client import open_stream

UNIT = os.path.join(REPO, "deploy", "systemd", "backbone-sse.service")
INSTALLED_BIN = "/usr/local/bin/backbone-sse"


def unit_text():
    with open(UNIT) as f:
        return f.read()


def unit_values(key):
    """Every value of `key` in the unit (continuation lines joined)."""
    text = unit_text().replace("\\\n", " ")
    return [m.group(1).strip() for m in re.finditer(rf"(?m)^{re.escape(key)}=(.*)$", text)]


def unit_copy(tmp_path):
    """The unit with the installed binary's path replaced by the binary under test."""
    text = unit_text()
    assert INSTALLED_BIN + " " in text
    path = tmp_path / "backbone-sse.service"
    path.write_text(text.replace(INSTALLED_BIN + " ", BIN + " "))
    return str(path)


needs_analyze = pytest.mark.skipif(shutil.which("systemd-analyze") is None,
                                   reason="systemd-analyze is not installed (scripts/install-deps.sh test installs systemd)")


@needs_analyze
def test_systemd_analyze_verify_finds_nothing(tmp_path):
    p = subprocess.run(["systemd-analyze", "verify", "--man=no", unit_copy(tmp_path)],
                       capture_output=True, text=True, timeout=60)
    # Unknown keys and bad values are warnings with exit status 0: any output fails.
    assert p.returncode == 0 and p.stdout.strip() == "" and p.stderr.strip() == "", p.stdout + p.stderr


@needs_analyze
def test_the_hardening_scores_low_exposure(tmp_path):
    p = subprocess.run(["systemd-analyze", "security", "--offline=yes", unit_copy(tmp_path)],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stdout + p.stderr
    m = re.search(r"Overall exposure level for \S+: (\d+\.\d+) (\w+)", p.stdout)
    assert m, p.stdout
    # 0 is a unit that can do nothing, 10 one that can do anything; systemd labels up
    # to 1.9 "OK". This unit scored 1.2 with systemd 252.
    assert float(m.group(1)) <= 2.0, p.stdout


def test_the_unit_fits_the_server():
    assert unit_values("Type") == ["notify"]
    assert unit_values("ExecReload") == ["/bin/kill -HUP $MAINPID"]
    # The server drains for up to 5 s after SIGTERM: systemd must wait longer.
    assert int(unit_values("TimeoutStopSec")[0]) > 5
    # The SQLite file is in the StateDirectory (the only place the service may write).
    state = unit_values("StateDirectory")[0]
    args = shlex.split(unit_values("ExecStart")[0])
    assert args[args.index("--store") + 1].startswith(f"sqlite:/var/lib/{state}/")
    # Streams are sockets: more than the default --max-streams (10,000).
    assert int(unit_values("LimitNOFILE")[0]) > 10000
    assert unit_values("MemoryDenyWriteExecute") == ["yes"]


def _mdwe_supported():
    """PR_SET_MDWE (Linux 6.3): tried in a child, so this process stays as it was."""
    code = "import ctypes,sys; sys.exit(ctypes.CDLL(None).prctl(65, 1, 0, 0, 0) != 0)"
    return subprocess.run([sys.executable, "-c", code]).returncode == 0


# Sets PR_SET_MDWE(PR_MDWE_REFUSE_EXEC_GAIN), kept across execve, then becomes the
# server (same pid, so signals and NOTIFY_SOCKET work as under systemd).
MDWE_EXEC = ("import ctypes, os, sys\n"
             "assert ctypes.CDLL(None).prctl(65, 1, 0, 0, 0) == 0\n"
             "os.execv(sys.argv[1], sys.argv[1:])\n")


class UnitServer(Server):
    """The unit's ExecStart, with its paths moved into the test's folder."""

    def __init__(self, work_dir):
        super().__init__(work_dir, config_text=CONFIG_YAML)

    def command(self):
        args = shlex.split(unit_values("ExecStart")[0])
        assert args[0] == INSTALLED_BIN
        args[0] = BIN
        args[args.index("--config") + 1] = self.config_path
        args[args.index("--store") + 1] = f"sqlite:{self.db_path}"
        args[args.index("--port") + 1] = "0"
        return [sys.executable, "-c", MDWE_EXEC] + args


class Notifications:
    """The NOTIFY_SOCKET end, as systemd holds it: a datagram socket."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.seen = []

    def wait_for(self, field, timeout=10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                message = self.sock.recv(4096).decode()
            except socket.timeout:
                break
            self.seen.append(message)
            if field in message.split("\n"):
                return message
        raise AssertionError(f"no {field} within {timeout} s; received {self.seen}")


@pytest.mark.skipif(not _mdwe_supported(), reason="the kernel has no PR_SET_MDWE (Linux 6.3 or later)")
def test_the_units_command_runs_as_systemd_would(session_dir, tmp_path, monkeypatch):
    notify = Notifications(str(tmp_path / "notify"))
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "notify"))
    factory = ServerFactory(session_dir)
    srv = factory.add(UnitServer(factory.new_dir()))
    try:
        srv.start()
        notify.wait_for("READY=1")
        # The logs journald gets: one JSON object per line.
        first = srv.stderr().splitlines()[0]
        assert first.startswith("{") and '"listening on http://' in first, first
        # REST and a stream work with no writable-and-executable memory.
        with open_stream(srv.port, "/todos") as stream:
            stream.hello()
            r = requests.post(srv.url + "/todos", json={"title": "mdwe"}, timeout=10)
            assert r.status_code == 201, r.text
            assert stream.next(timeout=5).event == "create"
        assert requests.get(srv.url + "/readyz", timeout=10).status_code == 200
        # systemctl reload: ExecReload sends SIGHUP; systemd waits for READY=1 again.
        srv.proc.send_signal(signal.SIGHUP)
        notify.wait_for("RELOADING=1")
        notify.wait_for("READY=1")
        assert requests.get(srv.url + "/livez", timeout=10).status_code == 200
        # systemctl stop: SIGTERM, STOPPING=1, exit 0 well within TimeoutStopSec.
        started = time.monotonic()
        srv.proc.send_signal(signal.SIGTERM)
        notify.wait_for("STOPPING=1")
        assert srv.proc.wait(timeout=int(unit_values("TimeoutStopSec")[0])) == 0, srv.stderr_tail()
        assert time.monotonic() - started < 6
    finally:
        factory.stop_all()
        notify.sock.close()


@pytest.mark.skipif(not _mdwe_supported(), reason="the kernel has no PR_SET_MDWE (Linux 6.3 or later)")
def test_the_mongodb_sibling_loads_under_mdwe():
    """libmongoc initialises OpenSSL, SASL and ICU when it is loaded; none of them may
    need writable code either."""
    sibling = os.path.join(os.path.dirname(BIN), "backbone-sse-mongodb")
    p = subprocess.run([sys.executable, "-c", MDWE_EXEC, sibling, "--version"], capture_output=True, text=True,
                       timeout=30)
    assert p.returncode == 0 and "libmongoc" in p.stdout, p.stdout + p.stderr
