"""Saves docs/todos.png: the example app with a few todos, in headless Chromium.

    python3 Tests/browser/screenshot.py [output.png]

Not a test (pytest does not collect it); it uses the suite's fixtures' classes."""

import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

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
        errors = browser.unexcused_errors()
        if errors:
            raise SystemExit(f"console errors: {errors}")
        print(out)
    finally:
        browser.quit()
        servers.stop_all()


if __name__ == "__main__":
    main()
