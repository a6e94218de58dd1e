"""Saves docs/todos.png (the example app with a few todos) and docs/todos-conflict.png
(a title edited here and elsewhere at once, and a value the server refused), in
headless Chromium, through the app as a user drives it.

    python3 Tests/browser/screenshot.py [output.png]

Not a test (pytest does not collect it); it uses the suite's fixtures' classes."""

import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402

from browser_support import REPO, Browser, Servers  # noqa: E402
from todo_page import TodoPage  # noqa: E402


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(REPO, "docs", "todos.png")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    servers = Servers(tempfile.mkdtemp(prefix="backbone-sse-shot-"))
    browser = Browser("shot")
    try:
        srv = servers()
        page = TodoPage(browser, srv)
        browser.cdp("Emulation.setDeviceMetricsOverride", {"width": 760, "height": 540, "deviceScaleFactor": 1, "mobile": False})
        page.open()
        for title in ["Buy oat milk", "Call the plumber", "Write the release notes", "Water the plants"]:
            page.add(title)
        page.wait_titles(["Buy oat milk", "Call the plumber", "Write the release notes", "Water the plants"])
        page.toggle("Call the plumber")
        page.toggle("Water the plants")
        page.wait_rows(lambda rows: sum(r["done"] for r in rows) == 2)
        page.wait_live()
        browser.js("document.activeElement && document.activeElement.blur()")
        browser.cdp("Input.dispatchMouseEvent", {"type": "mouseMoved", "x": 5, "y": 530})  # no row hovered
        browser.driver.save_screenshot(out)

        # The conflict prompt: the title changed elsewhere while it was being edited here.
        browser.excuse_http_error(srv.url + "/todos/", 409)
        browser.excuse_http_error(srv.url + "/todos/", 422)
        milk = page.row("Buy oat milk")
        ActionChains(browser.driver).double_click(milk.find_element(By.CSS_SELECTOR, "label")).perform()
        box = milk.find_element(By.CSS_SELECTOR, ".edit")
        box.send_keys(Keys.END, " and bread")
        doc = next(d for d in srv.list() if d["title"] == "Buy oat milk")
        srv.patch(f"/todos/{doc['id']}", title="Buy soy milk")
        browser.wait("return todos.get(arguments[0]).get('title') === 'Buy soy milk'", doc["id"])
        box.send_keys(Keys.ENTER)
        browser.wait("return $('#todo-list li .conflict').length === 1", message="the conflict prompt")
        # A value the server refuses (the input's own limit keeps a user from typing it).
        notes = next(d for d in srv.list() if d["title"] == "Write the release notes")
        browser.js("todos.get(arguments[0]).save({title: 'x'.repeat(201)})", notes["id"])
        browser.wait("return $('#todo-list li .problem').length === 1", message="the refused value")
        browser.js("document.activeElement && document.activeElement.blur()")
        browser.driver.save_screenshot(os.path.join(os.path.dirname(out), "todos-conflict.png"))
        errors = browser.unexcused_errors()
        if errors:
            raise SystemExit(f"console errors: {errors}")
        print(out)
    finally:
        browser.quit()
        servers.stop_all()


if __name__ == "__main__":
    main()
