"""The browser suite's pieces: the real `backbone-sse` binary serving the example app
(and the test pages of Tests/browser/pages), driven in headless Chromium through
chromedriver and Selenium.

What the pages load is what a user gets: the example's shipped `index.html`, and the
client library as the server serves it at `/backbone-sse.js` (the copy bundled at
build time). `test_served_library_is_the_source` fails when that copy is stale.

While working on the library without rebuilding the server, set
`BACKBONE_SSE_CLIENT=source`: the pages are then copied to a temporary folder with
`/backbone-sse.js` rewritten to `/dev-client/backbone-sse.js`, served from
`Sources/BackboneSSE/Resources` (`BACKBONE_SSE_CLIENT=/some/folder` serves that
folder's copy instead). A development mode only; the shipped path is the default and
the one `make test` runs.

Every browser keeps its console (`goog:loggingPrefs`); after each test the console of
every browser the test used must hold no error, except the ones the test excused
precisely with `browser.excuse(...)` (see conftest.py).
"""

import os
import re
import shutil
import sys
import time

import requests
from selenium import webdriver
from selenium.common.exceptions import JavascriptException
from selenium.webdriver.chrome.service import Service

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "support"))  # also for screenshot.py, run outside pytest

import backbone_server  # noqa: E402
from backbone_server import BIN, LISTEN_RE, REPO, ServerSet  # noqa: E402,F401

EXAMPLE_CONFIG = os.path.join(REPO, "examples", "todos", "collections.yaml")
EXAMPLE_PUBLIC = os.path.join(REPO, "examples", "todos", "public")
PAGES = os.path.join(HERE, "pages")
LIBRARY_SOURCE = os.path.join(REPO, "Sources", "BackboneSSE", "Resources", "backbone-sse.js")
SYSTEM_JS = "/usr/share/javascript"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
CLIENT_MODE = os.environ.get("BACKBONE_SSE_CLIENT", "shipped")
# `source`, or a folder holding another backbone-sse.js (to check what the tests catch).
CLIENT_DIR = os.path.dirname(LIBRARY_SOURCE) if CLIENT_MODE == "source" else CLIENT_MODE
if CLIENT_MODE != "shipped":
    CLIENT_MODE = "source"

# The library test pages use the example's collection and one more, to check that
# several collections share one /events connection.
LIB_CONFIG = """\
collections:
  todos:
    timestamps: true
    indexes: [done, created, order]
    schema:
      type: object
      required: [title]
      properties:
        title: {type: string, minLength: 1, maxLength: 200}
        done:  {type: boolean, default: false}
        order: {type: integer, minimum: 0}
        tags:  {type: array, items: {type: string}}
  notes:
    schema:
      type: object
      required: [text]
      properties:
        text: {type: string, minLength: 1}
"""


# --- the server ---------------------------------------------------------------------


def _page_roots(work_dir):
    """The `--static` flags for the example (at /) and the test pages (at /pages)."""
    if CLIENT_MODE != "source":
        return ["--static", EXAMPLE_PUBLIC, "--static", f"/pages={PAGES}"]
    public = os.path.join(work_dir, "public")
    pages = os.path.join(work_dir, "pages")
    for src, dst in ((EXAMPLE_PUBLIC, public), (PAGES, pages)):
        if not os.path.isdir(dst):
            shutil.copytree(src, dst)
            for name in os.listdir(dst):
                if name.endswith(".html"):
                    path = os.path.join(dst, name)
                    with open(path) as f:
                        text = f.read()
                    with open(path, "w") as f:
                        f.write(text.replace('src="/backbone-sse.js"', 'src="/dev-client/backbone-sse.js"'))
    return ["--static", public, "--static", f"/pages={pages}",
            "--static", f"/dev-client={CLIENT_DIR}"]


class Server(backbone_server.Server):
    """One backbone-sse process on one data directory (`work_dir/data`), serving the
    example app and the test pages. The first start picks a free port; restarts pass
    that port explicitly, so open pages find the server again."""

    tail_lines = 30

    def __init__(self, work_dir, config_text=None, config_path=EXAMPLE_CONFIG, extra_args=()):
        super().__init__(work_dir, config_text=config_text, config_path=config_path,
                         data_dir=os.path.join(work_dir, "data"), keep_port=True,
                         extra_args=["--static", f"/js={SYSTEM_JS}"] + _page_roots(work_dir) + list(extra_args))

    # --- HTTP, as curl would -----------------------------------------------------

    def request(self, method, path, **kw):
        kw.setdefault("timeout", 15)
        return requests.request(method, self.url + path, **kw)

    def create(self, collection="todos", **doc):
        r = self.request("POST", f"/{collection}", json=doc)
        assert r.status_code == 201, (r.status_code, r.text)
        return r.json()

    def patch(self, path, **attrs):
        r = self.request("PATCH", path, json=attrs)
        assert r.status_code == 200, (r.status_code, r.text)
        return r.json()

    def delete(self, path):
        r = self.request("DELETE", path)
        assert r.status_code == 200, (r.status_code, r.text)

    def list(self, collection="todos", **params):
        r = self.request("GET", f"/{collection}", params=params)
        assert r.status_code == 200, (r.status_code, r.text)
        return r.json()


class Servers(ServerSet):
    def __call__(self, config_text=None, extra_args=(), **kw):
        s = self.add(Server(self.new_dir(), config_text=config_text, extra_args=extra_args, **kw))
        return s.start()


# --- the browsers ---------------------------------------------------------------------


class Browser:
    """A headless Chromium session with its console kept and checked."""

    def __init__(self, name):
        self.name = name
        opts = webdriver.ChromeOptions()
        opts.binary_location = CHROMIUM
        for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                    "--window-size=1000,900", "--no-first-run", "--disable-extensions",
                    "--disable-background-networking", "--disable-component-update"):
            opts.add_argument(arg)
        opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        self.driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
        self.driver.set_script_timeout(30)
        self.console = []     # every entry read so far in this test
        self.excused = []     # (predicate, reason)
        self.used = False
        self.offline = False

    # --- pages and scripts ---

    def get(self, url):
        self.used = True
        self.driver.get(url)

    def js(self, script, *args):
        self.used = True
        return self.driver.execute_script(script, *args)

    def run(self, name, args=None):
        """Runs `H.run(name, args)` of the library test page (a promise) and returns its
        value; a scenario that throws fails the test with the page's stack."""
        self.used = True
        out = self.driver.execute_async_script(
            "var done = arguments[arguments.length - 1];"
            "H.run(arguments[0], arguments[1]).then(done, function (e) { done({__error: String(e && e.stack || e)}); });",
            name, args or {})
        if isinstance(out, dict) and "__error" in out:
            raise AssertionError(f"page scenario {name} failed:\n{out['__error']}")
        return out

    def wait(self, script, *args, timeout=5.0, message=None):
        """Polls `script` (a JS function body returning a value) until it is truthy."""
        deadline = time.monotonic() + timeout
        last = None
        while True:
            try:
                last = self.js(script, *args)
            except JavascriptException as e:
                last = e
            if last and not isinstance(last, Exception):
                return last
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name}: timed out after {timeout}s waiting for {message or script!r}; last: {last!r}")
            time.sleep(0.05)

    def cdp(self, cmd, params=None):
        return self.driver.execute_cdp_cmd(cmd, params or {})

    def set_offline(self, offline):
        """DevTools network emulation: new connections fail, as on a machine that lost its
        network (open ones are left alone)."""
        self.offline = offline
        self.cdp("Network.enable")
        self.cdp("Network.emulateNetworkConditions",
                 {"offline": offline, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})

    # --- the console ---

    def read_console(self):
        entries = self.driver.get_log("browser")
        self.console.extend(entries)
        return entries

    def excuse(self, predicate, reason):
        """Excuse console errors for which `predicate(entry)` is true."""
        self.excused.append((predicate, reason))

    def excuse_http_error(self, url_part, status):
        """The line Chromium prints for every XHR answered with an error status."""
        pattern = re.compile(re.escape(url_part) + r"\S* - Failed to load resource: the server responded with a status of "
                             + str(status) + r" ")
        self.excuse(lambda e: e.get("source") == "network" and pattern.search(e["message"]) is not None,
                    f"HTTP {status} for {url_part}")

    def excuse_stream_failures(self, server, start_ms, end_ms, reasons):
        """The line Chromium prints when an EventSource (re)connection to `server` fails
        (any stream URL of that server), for the given net:: reasons, within the window
        (epoch milliseconds, give or take one second)."""
        pattern = re.compile(r"^" + re.escape(server.url) + r"/(events\?collections=[a-z0-9_,%-]+|[a-z][a-z0-9_-]*\?\S+)"
                             r" - Failed to load resource: net::(" + "|".join(reasons) + r")$")

        def excused(e):
            return e.get("source") == "network" and pattern.match(e["message"]) is not None \
                and start_ms - 1000 <= e["timestamp"] <= end_ms + 1000

        self.excuse(excused, f"stream reconnects while the server restarted ({', '.join(reasons)})")

    def unexcused_errors(self):
        self.read_console()
        bad = []
        for e in self.console:
            if e.get("level") != "SEVERE":
                continue
            if not any(pred(e) for pred, _ in self.excused):
                bad.append(e)
        return bad

    def reset_test_state(self):
        if self.offline:  # a test that failed half-way
            try:
                self.set_offline(False)
            except Exception:
                pass
        try:
            self.read_console()
        except Exception:
            pass
        self.console = []
        self.excused = []
        self.used = False

    def quit(self):
        try:
            self.driver.quit()
        except Exception:
            pass


# --- helpers ----------------------------------------------------------------------


def now_ms():
    return int(time.time() * 1000)


def wait_until(fn, timeout=5.0, interval=0.05, message="condition"):
    deadline = time.monotonic() + timeout
    last = None
    while True:
        last = fn()
        if last:
            return last
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message}; last: {last!r}")
        time.sleep(interval)
