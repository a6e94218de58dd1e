"""The real `backbone-sse` binary as the Python suites run it (Tests/integration and
Tests/browser both import this; each conftest puts Tests/support on sys.path).

`Server` is one process on one data directory: it writes its config file (or takes
one), starts the binary on an ephemeral port (or, with `keep_port=True`, restarts on
the port of its first start, so that open pages find it again), reads the port from
the `listening on http://HOST:PORT` line of its stderr, waits for /healthz, and stops
with SIGTERM or kill -9 (both return the exit code). Each start's stderr goes to its
own file (`stderr.N.log` in the work directory); `stderr()` and `stderr_tail()` read
the current one. `running` lists every server currently running; whatever is still
running when the interpreter exits is stopped.

The suites subclass `Server` for their own HTTP helpers and `ServerSet` for their
factory fixtures.

The store: SQLite (`sqlite:DATA_DIR/app.sqlite`) by default; with
`BACKBONE_SSE_STORE=mongodb`, MongoDB (`--store mongodb://HOST:PORT/DB`, one database
per `Server`, kept across its restarts, a new one after `wipe()`): the server of
`MONGODB_URI` when that is set, else the MongoDB *test double* of Tests/mongo
(mockupdb + mongomock, in memory), started once for the session on 127.0.0.1.
"""

import atexit
import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid

import pytest
import requests

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
BIN = os.environ.get("BACKBONE_SSE_BIN", os.path.join(REPO, ".build", "debug", "backbone-sse"))

LISTEN_RE = re.compile(r"listening on http://([0-9.]+):(\d+)")
START_TIMEOUT = 20.0
CONFIG_NAME = "collections.yaml"
DB_NAME = "app.sqlite"

running = []  # every Server currently running (failure reports, crash checks, exit)

STORE = os.environ.get("BACKBONE_SSE_STORE", "sqlite")
assert STORE in ("sqlite", "mongodb"), f"BACKBONE_SSE_STORE must be sqlite or mongodb, not {STORE!r}"
MONGO_DOUBLE_SCRIPT = os.path.join(REPO, "Tests", "mongo", "mongo_double.py")


class _Service:
    """A helper process a test starts and controls: `start()` is the subclass's."""

    proc = None

    def restart(self):
        self.stop()
        return self.start()

    def pause(self):
        """SIGSTOP: connected but silent, like a server that hangs or a network that drops."""
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self):
        self.proc.send_signal(signal.SIGCONT)


class MongoDouble(_Service):
    """The MongoDB test double (Tests/mongo/mongo_double.py): not a MongoDB server; in
    memory, so everything is lost when it stops. `port=0` takes any free port;
    `restart()` starts it again, empty, on the same port."""

    def __init__(self, work_dir, port=0):
        self.work_dir = work_dir
        self.port = port
        self.proc = None
        self.generation = 0
        self.start()

    def start(self):
        assert self.proc is None, "already running"
        self.generation += 1
        port_file = os.path.join(self.work_dir, f"mongo-double.{self.generation}.port")
        log = open(os.path.join(self.work_dir, f"mongo-double.{self.generation}.log"), "wb")
        args = [sys.executable, MONGO_DOUBLE_SCRIPT, "--port", str(self.port), "--port-file", port_file]

        def ready():
            if os.path.exists(port_file):
                with open(port_file) as f:
                    text = f.read().strip()
                if text:
                    self.port = int(text)
                    return True
            return False

        self.proc = _start_until_ready(args, log, ready, f"the MongoDB test double on port {self.port}")
        return self

    def stop(self):
        if self.proc is None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    @property
    def uri(self):
        return f"mongodb://127.0.0.1:{self.port}"


class RedisServer(_Service):
    """A `redis-server` of the test's own on 127.0.0.1 (no persistence): `port=0` takes a
    free port, kept across `restart()`; `pause()`/`resume()` SIGSTOP/SIGCONT it (the
    socket stays open, nothing answers)."""

    def __init__(self, work_dir, port=0, password=None):
        exe = shutil.which("redis-server")
        if exe is None:
            pytest.fail("redis-server is not installed (scripts/install-deps.sh test installs it)")
        self.exe = exe
        self.work_dir = work_dir
        self.password = password
        self.port = port or _free_port()
        self.proc = None
        self.generation = 0
        self.start()

    def start(self):
        assert self.proc is None, "already running"
        self.generation += 1
        log = open(os.path.join(self.work_dir, f"redis.{self.generation}.log"), "wb")
        args = [self.exe, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                "--dir", self.work_dir]
        if self.password:
            args += ["--requirepass", self.password]
        self.proc = _start_until_ready(args, log, self.ping, f"redis-server on port {self.port}")
        return self

    def ping(self):
        import socket
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                if self.password:
                    s.sendall(f"AUTH {self.password}\r\n".encode())
                    s.recv(100)
                s.sendall(b"PING\r\n")
                return s.recv(100).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self):
        if self.proc is None:
            return
        self.proc.send_signal(signal.SIGCONT)
        self.proc.kill()
        self.proc.wait()
        self.proc = None

    @property
    def url(self):
        auth = f":{self.password}@" if self.password else ""
        return f"redis://{auth}127.0.0.1:{self.port}"


def _start_until_ready(args, log, ready, what):
    """Starts `args` (output to `log`, closed here) until `ready()` says so; again when
    it exits at once (the port of a restart may still be held for a moment)."""
    try:
        for attempt in range(50):
            proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
            deadline = time.monotonic() + START_TIMEOUT
            while time.monotonic() < deadline and proc.poll() is None:
                if ready():
                    return proc
                time.sleep(0.05)
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            time.sleep(0.2)
        raise RuntimeError(f"{what} did not start")
    finally:
        log.close()


def _free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


_mongo_double = None


def mongo_server():
    """`mongodb://HOST:PORT` (no database) of the MongoDB the servers use."""
    global _mongo_double
    real = os.environ.get("MONGODB_URI")
    if real:
        return real.rstrip("/")
    if _mongo_double is None:
        _mongo_double = MongoDouble(tempfile.mkdtemp(prefix="mongo-double-"))
    return _mongo_double.uri


class Server:
    """One backbone-sse process on one data directory; can be restarted on it.

    - `work_dir`: the config file written from `config_text`, the stderr logs, the
      process's working directory.
    - `data_dir`: the store (`app.sqlite`); `work_dir` itself unless given.
    - `config_text` or `config_path`: the collections config (text wins).
    - `extra_args`: more flags for `serve` (--static, --cors-origin, --max-limit, ...).
    - `keep_port`: restarts pass the first start's port explicitly.
    """

    tail_lines = 40  # stderr_tail's default

    def __init__(self, work_dir, config_text=None, config_path=None, extra_args=(), data_dir=None,
                 keep_port=False):
        self.work_dir = work_dir
        self.data_dir = data_dir or work_dir
        os.makedirs(self.work_dir, exist_ok=True)
        os.makedirs(self.data_dir, exist_ok=True)
        if config_text is not None:
            config_path = os.path.join(work_dir, CONFIG_NAME)
            with open(config_path, "w") as f:
                f.write(config_text)
        assert config_path is not None, "a Server needs config_text or config_path"
        self.config_path = config_path
        self.db_path = os.path.join(self.data_dir, DB_NAME)
        self.mongo_database = self._new_mongo_database()
        # A MongoDB server of the test's own (`mongodb://HOST:PORT`) instead of the shared one.
        self.mongo_server = None
        self.extra_args = list(extra_args)
        self.keep_port = keep_port
        self.proc = None
        self.port = None
        self.generation = 0
        self.log_path = None
        self._log = None
        self.session = requests.Session()

    # --- process control -------------------------------------------------------

    @staticmethod
    def _new_mongo_database():
        return "bsse_" + uuid.uuid4().hex[:12]

    @property
    def store(self):
        """The --store argument: this server's SQLite file, or its MongoDB database."""
        if STORE == "mongodb":
            server = self.mongo_server or mongo_server()
            if "?" in server:  # options after the database
                base, options = server.split("?", 1)
                return f"{base.rstrip('/')}/{self.mongo_database}?{options}"
            return f"{server}/{self.mongo_database}"
        return f"sqlite:{self.db_path}"

    def command(self):
        port = self.port if self.keep_port and self.port else 0
        # No per-address cap by default: the suites open thousands of streams from
        # 127.0.0.1. A test that checks the cap passes its own (the last flag wins).
        return [BIN, "serve", "--config", self.config_path, "--port", str(port),
                "--store", self.store, "--max-connections-per-ip", "0"] + self.extra_args

    def start(self):
        assert self.proc is None, "already running"
        if not os.access(BIN, os.X_OK):
            pytest.fail(f"backbone-sse binary not found at {BIN} (run swift build, or set BACKBONE_SSE_BIN)")
        self.generation += 1
        self.log_path = os.path.join(self.work_dir, f"stderr.{self.generation}.log")
        self._log = open(self.log_path, "wb")
        cmd = self.command()
        for attempt in range(100):
            try:
                self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self._log, stderr=self._log,
                                             cwd=self.work_dir)
                break
            except OSError as e:  # ETXTBSY: the binary is being rebuilt right now
                if e.errno != 26 or attempt == 99:
                    raise
                time.sleep(0.3)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            m = LISTEN_RE.search(self.stderr())
            if m:
                port = int(m.group(2))
                if self.keep_port:
                    assert self.port in (None, port), f"restarted on port {port}, not {self.port}"
                self.port = port
                break
            if self.proc.poll() is not None:
                raise RuntimeError(f"backbone-sse exited with {self.proc.returncode} at start:\n{self.stderr()}")
            time.sleep(0.02)
        else:
            self.kill()
            raise RuntimeError(f"backbone-sse did not report its port in {START_TIMEOUT}s:\n{self.stderr()}")
        running.append(self)
        self.session = requests.Session()
        # The start-up line comes after the daemon is listening; check anyway.
        self.wait_healthy()
        return self

    def wait_healthy(self, timeout=10.0):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            try:
                r = requests.get(self.url + "/healthz", timeout=2)
                if r.status_code == 200:
                    return r
                last = r.status_code
            except requests.RequestException as e:
                last = e
            time.sleep(0.05)
        raise AssertionError(f"server not healthy: {last}\n{self.stderr_tail()}")

    def stop(self, timeout=15.0):
        """Clean shutdown: SIGTERM, wait for exit. Returns the exit code."""
        if self.proc is None:
            return None
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            self._forget()
            raise AssertionError(f"server did not exit within {timeout}s of SIGTERM\n{self.stderr_tail()}")
        self._forget()
        return code

    def kill(self):
        """kill -9: no chance to flush or clean up. Returns the exit code."""
        if self.proc is None:
            return None
        self.proc.send_signal(signal.SIGKILL)
        code = self.proc.wait()
        self._forget()
        return code

    def restart(self, hard=False):
        """Stop (SIGTERM, or SIGKILL with hard=True) and start again on the same data."""
        code = self.kill() if hard else self.stop()
        self.start()
        return code

    def wipe(self):
        """Removes the store (the server must be stopped): a new store, a new epoch. The
        config file and the stderr logs stay."""
        assert self.proc is None, "stop the server before wiping its data"
        self.mongo_database = self._new_mongo_database()
        if self.data_dir != self.work_dir:
            shutil.rmtree(self.data_dir)
            os.makedirs(self.data_dir)
            return
        keep = {os.path.abspath(self.config_path)}
        for name in os.listdir(self.data_dir):
            path = os.path.join(self.data_dir, name)
            if os.path.abspath(path) in keep or re.fullmatch(r"stderr\.\d+\.log", name):
                continue
            if os.path.isdir(path):
                shutil.rmtree(path)
            else:
                os.remove(path)

    def _forget(self):
        self.session.close()
        self.proc = None
        if self in running:
            running.remove(self)
        if self._log:
            self._log.close()
            self._log = None

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    # --- diagnostics -----------------------------------------------------------

    def stderr(self):
        if not self.log_path or not os.path.exists(self.log_path):
            return ""
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stderr_tail(self, lines=None):
        return "\n".join(self.stderr().splitlines()[-(lines or self.tail_lines):])

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"


class ServerSet:
    """The servers a fixture started; `stop_all()` stops those still running."""

    def __init__(self, base_dir):
        self.base_dir = base_dir
        self.servers = []

    def new_dir(self):
        return tempfile.mkdtemp(prefix="srv-", dir=self.base_dir)

    def add(self, server):
        self.servers.append(server)
        return server

    def stop_all(self):
        for s in self.servers:
            if s.running:
                try:
                    s.stop(timeout=10)
                except AssertionError:
                    pass
            elif s.proc is not None:
                s._forget()


@contextlib.contextmanager
def scratch_dir(prefix):
    """A temporary folder for a session's servers; removed at the end unless
    KEEP_TEST_DATA=1."""
    d = tempfile.mkdtemp(prefix=prefix)
    try:
        yield d
    finally:
        if os.environ.get("KEEP_TEST_DATA") != "1":
            shutil.rmtree(d, ignore_errors=True)


@atexit.register
def _stop_running():
    for s in list(running):
        try:
            if s.running:
                s.stop(timeout=5)
            else:
                s._forget()
        except Exception:
            try:
                s.kill()
            except Exception:
                pass
    if _mongo_double is not None:
        _mongo_double.stop()


def sqlite_only(reason):
    """Skips a test when the servers run on MongoDB: `reason` says why it is SQLite's."""
    return pytest.mark.skipif(STORE != "sqlite", reason=f"SQLite only: {reason}")


def not_on_the_double(reason):
    """Skips a test on the MongoDB test double (a real server named by MONGODB_URI runs
    it): `reason` says what the double does not do as MongoDB does."""
    return pytest.mark.skipif(STORE != "sqlite" and not os.environ.get("MONGODB_URI"),
                              reason=f"not on the MongoDB test double: {reason}")
