"""The example app with sign-in, as `make run-auth` serves it
(examples/todos/collections-auth.yaml, `serve --dev-tokens`), in two browsers: the page
asks who you are, two users each see only their own todos, both see the shared list
live with who added each item, and a page whose tokens expire every few seconds goes on
as if nothing happened."""

import os
import time
import uuid

import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from browser_support import REPO
from todo_page import TodoPage

AUTH_EXAMPLE_CONFIG = os.path.join(REPO, "examples", "todos", "collections-auth.yaml")
# The variable the example's config names; `make run-auth` makes one per run.
os.environ.setdefault("BACKBONE_SSE_JWT_SECRET", "browser-suite-example-" + uuid.uuid4().hex)


def start(make_server):
    return make_server(config_path=AUTH_EXAMPLE_CONFIG, extra_args=["--dev-tokens"])


def sign_in(browser, srv, name, query=""):
    """Opens the app as nobody, is asked who it is, signs in as `name`: the page reloads
    signed in, with both lists live."""
    browser.excuse_http_error(srv.url + "/todos", 401)  # the anonymous first fetch
    browser.get(srv.url + "/" + query)
    browser.wait("return !document.getElementById('sign-in').hidden", message="the sign-in form")
    browser.driver.find_element(By.ID, "user-name").send_keys(name + Keys.ENTER)
    browser.wait("return document.getElementById('user').textContent === arguments[0]", name, message="signed in")
    page = TodoPage(browser, srv)
    page.wait_live()
    browser.wait("return window.shared && !document.getElementById('sharedapp').hidden", message="the shared list")
    return page, TodoPage(browser, srv, list_id="shared-list", input_id="new-shared")


def as_pairs(rows):
    return [(r["title"], r.get("by")) for r in rows]


def token(srv, name):
    r = requests.post(srv.url + "/auth/dev-token", json={"sub": name}, timeout=10)
    assert r.status_code == 201, r.text
    return {"Authorization": "Bearer " + r.json()["token"]}


def test_two_users_see_their_own_todos_and_share_one_list(make_server, browser_a, browser_b):
    srv = start(make_server)
    alice, alice_shared = sign_in(browser_a, srv, "alice")
    bob, bob_shared = sign_in(browser_b, srv, "bob")

    alice.add("alice's own")
    bob.add("bob's own")
    alice_shared.add("from alice")
    bob_shared.wait_rows(lambda rows: as_pairs(rows) == [("from alice", "alice")], message="alice's shared item")
    bob_shared.add("from bob")
    alice_shared.wait_rows(lambda rows: as_pairs(rows) == [("from alice", None), ("from bob", "bob")],
                           message="bob's shared item, marked as his")

    # Ticked by bob (anyone signed in may update it), seen by alice.
    bob_shared.toggle("from alice")
    alice_shared.wait_rows(lambda rows: [r["done"] for r in rows] == [True, False], message="bob's tick")

    # The shared changes came after the private ones on the same streams: had a private
    # todo leaked, it would be there by now.
    assert alice.titles() == ["alice's own"]
    assert bob.titles() == ["bob's own"]
    # Only its author may delete a shared item: no × on someone else's.
    row = bob_shared.row("from alice")
    assert "foreign" in row.get_attribute("class")
    assert not row.find_element(By.CSS_SELECTOR, ".destroy").is_displayed()

    # What the server holds agrees: each user's list is their own.
    mine = requests.get(srv.url + "/todos", headers=token(srv, "alice"), timeout=10).json()
    assert [(d["title"], d["owner"]) for d in mine] == [("alice's own", "alice")]
    assert requests.get(srv.url + "/todos", timeout=10).status_code == 401

    # Signing out forgets the name: the page asks again.
    browser_a.driver.find_element(By.ID, "sign-out").click()
    browser_a.wait("return !document.getElementById('sign-in').hidden", message="asked again after signing out")


def test_short_lived_tokens_are_renewed_without_the_user_noticing(make_server, browser_a, browser_b):
    srv = start(make_server)
    carol, carol_shared = sign_in(browser_a, srv, "carol", query="?token_ttl=3")
    _, dave_shared = sign_in(browser_b, srv, "dave")

    time.sleep(3.5)  # carol's first token has expired, and with it her first stream
    dave_shared.add("after the expiry")
    carol_shared.wait_rows(lambda rows: as_pairs(rows) == [("after the expiry", "dave")], message="dave's item")
    carol.add("written with a renewed token")
    carol.wait_titles(["written with a renewed token"])
    mine = requests.get(srv.url + "/todos", headers=token(srv, "carol"), timeout=10).json()
    assert [d["title"] for d in mine] == ["written with a renewed token"]
    assert carol.status()[0] == "live"
    # The page asked for tokens more than once: each expiry was met with a new one.
    issued = browser_a.js("return performance.getEntriesByType('resource')"
                          ".filter(function (e) { return e.name.indexOf('/auth/dev-token') >= 0; }).length")
    assert issued >= 2
