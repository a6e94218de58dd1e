"""Helpers for the library test page (Tests/browser/pages/lib.html): its subscriptions
are kept in the page under a key; `snap` reads one (models, Backbone events seen)."""

import time
import urllib.parse


def open_lib_page(browser, server):
    browser.get(server.url + "/pages/lib.html")
    browser.wait("return !!(window.H && window.H.run && window.BackboneSSE)", message="the library test page")
    return browser


def decoded_query(url):
    return urllib.parse.unquote(urllib.parse.urlsplit(url).query)


def snap(page, key):
    return page.js("return H.snap(arguments[0])", key)


def wait_snap(page, key, predicate, timeout=5.0, message="state"):
    deadline = time.monotonic() + timeout
    while True:
        s = snap(page, key)
        if predicate(s):
            return s
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message}: {s}")
        time.sleep(0.03)


def ids(snapshot):
    return sorted(m["id"] for m in snapshot["models"])
