"""Fixtures of the browser suite (the pieces themselves are in browser_support.py):
servers started for a session, a module or a test; two headless Chromium sessions,
`browser_a` and `browser_b`, shared by the whole run; and, after every test, the
console check: no error in any browser the test used, except the ones it excused
precisely (`Browser.excuse...`)."""

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))

from backbone_server import scratch_dir  # noqa: E402
from browser_support import Browser, Servers  # noqa: E402


@pytest.fixture(scope="session")
def work_dir():
    with scratch_dir("backbone-sse-browser-") as d:
        yield d


@pytest.fixture(scope="session")
def servers(work_dir):
    f = Servers(work_dir)
    yield f
    f.stop_all()


@pytest.fixture
def make_server(work_dir):
    """Function-scoped servers; stopped when the test ends, after the pages are left (a
    page still open would log its stream's failed reconnects)."""
    f = Servers(work_dir)
    yield f
    _leave_pages()
    f.stop_all()


# --- the browsers ---------------------------------------------------------------------

_browsers = {}


def _browser(name):
    b = _browsers.get(name)
    if b is None:
        b = _browsers[name] = Browser(name)
    return b


def _leave_pages():
    for b in _browsers.values():
        if b.used:
            try:
                if b.offline:
                    b.set_offline(False)
                b.driver.get("about:blank")  # closes the page's streams
            except Exception:
                pass


@pytest.fixture(scope="session", autouse=True)
def _quit_browsers():
    yield
    for b in _browsers.values():
        b.quit()
    _browsers.clear()


@pytest.fixture
def browser_a():
    return _browser("a")


@pytest.fixture
def browser_b():
    return _browser("b")


@pytest.fixture(autouse=True)
def _clean_console(request):
    """Before a test: forget what earlier tests left in the consoles. After: no error."""
    for b in _browsers.values():
        b.reset_test_state()
    yield
    failures = []
    _leave_pages()
    for b in _browsers.values():
        if not b.used:
            continue
        for e in b.unexcused_errors():
            failures.append(f"browser {b.name}: [{e.get('source')}] {e['message']}")
        if os.environ.get("SHOW_CONSOLE") == "1":
            for e in b.console:
                print(f"\n  console {b.name}: {e['level']} [{e.get('source')}] {e['message']}", end="")
    if failures and not getattr(request.node, "_failed_already", False):
        pytest.fail("console errors:\n" + "\n".join(failures), pytrace=False)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.when == "call" and rep.failed:
        item._failed_already = True
        for b in _browsers.values():
            if b.used:
                try:
                    entries = b.console + b.driver.get_log("browser")
                    b.console = entries
                    rep.sections.append((f"browser {b.name} console", "\n".join(
                        f"{e['level']} [{e.get('source')}] {e['message']}" for e in entries[-40:])))
                except Exception:
                    pass


