"""The example app (examples/todos/public) as a user drives it: typing, clicking,
double-clicking, hovering. Reads come from the page's DOM (what the user sees) and,
for the checks, from `window.todos` (the Backbone collection the app exposes)."""

import time

from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

# The rows the user sees, in order: id, title, done, and whether the row is shown.
ROWS_JS = """
return Array.prototype.map.call(document.querySelectorAll('#' + arguments[0] + ' > li'), function (li) {
  var row = {id: li.getAttribute('data-id'), title: li.querySelector('label').textContent,
             done: li.querySelector('.toggle').checked, completed: li.classList.contains('completed')};
  var by = li.querySelector('.by');  // who added it (the shared list, someone else's)
  if (by) row.by = by.textContent;
  return row;
});
"""

MODELS_JS = """
return todos.map(function (m) { return {id: m.id || null, title: m.get('title'), done: m.get('done'), v: m.get('_v')}; });
"""


# Timestamps for the propagation checks, taken in the pages (one machine, one clock):
# when the app sends a write, and every state of the list as the user sees it.
WATCH_JS = """
var rows = function () {
  return Array.prototype.map.call(document.querySelectorAll('#todo-list > li'), function (li) {
    return {id: li.getAttribute('data-id'), title: li.querySelector('label').textContent,
            done: li.querySelector('.toggle').checked, completed: li.classList.contains('completed')};
  });
};
window.__sent = [];
window.__shown = [[Date.now(), rows()]];
todos.on('request', function () { __sent.push(Date.now()); });
new MutationObserver(function () { __shown.push([Date.now(), rows()]); })
  .observe(document.getElementById('todo-list'), {childList: true, subtree: true, attributes: true, characterData: true});
"""


class TodoPage:
    def __init__(self, browser, server, list_id="todo-list", input_id="new-todo"):
        """The list of `list_id`, filled from `input_id` (the example's shared list is
        `shared-list` and `new-shared`)."""
        self.b = browser
        self.server = server
        self.list_id = list_id
        self.input_id = input_id

    @property
    def driver(self):
        return self.b.driver

    def open(self):
        self.b.get(self.server.url + "/")
        self.wait_live()
        self.b.js(WATCH_JS)
        return self

    def sent_since(self, t_ms):
        """When this page sent its writes (epoch ms), from t_ms on."""
        return [t for t in self.b.js("return window.__sent") if t >= t_ms]

    def first_shown(self, predicate, since_ms):
        """When this page first showed rows satisfying predicate, from since_ms on."""
        for t, rows in self.b.js("return window.__shown"):
            if t >= since_ms and predicate(rows):
                return t
        return None

    def wait_live(self, timeout=10.0):
        self.b.wait("return window.todos && document.getElementById('status').getAttribute('data-state') === 'live'",
                    timeout=timeout, message=f"page {self.b.name} live")

    def status(self):
        return self.b.js("var s = document.getElementById('status'); return [s.getAttribute('data-state'), s.textContent];")

    def rows(self):
        return self.b.js(ROWS_JS, self.list_id)

    def models(self):
        return self.b.js(MODELS_JS)

    def titles(self):
        return [r["title"] for r in self.rows()]

    # --- a user's actions ---

    def add(self, title):
        box = self.driver.find_element(By.ID, self.input_id)
        box.send_keys(title + Keys.ENTER)

    def row(self, title):
        for li in self.driver.find_elements(By.CSS_SELECTOR, f"#{self.list_id} > li"):
            if li.find_element(By.CSS_SELECTOR, "label").text == title:
                return li
        raise AssertionError(f"{self.b.name}: no row titled {title!r} in {self.titles()}")

    def toggle(self, title):
        self.row(title).find_element(By.CSS_SELECTOR, ".toggle").click()

    def edit(self, title, new_title):
        li = self.row(title)
        ActionChains(self.driver).double_click(li.find_element(By.CSS_SELECTOR, "label")).perform()
        box = li.find_element(By.CSS_SELECTOR, ".edit")
        box.send_keys(Keys.CONTROL, "a")
        box.send_keys(new_title + Keys.ENTER)

    def delete(self, title):
        li = self.row(title)
        ActionChains(self.driver).move_to_element(li).perform()  # the × shows on hover
        li.find_element(By.CSS_SELECTOR, ".destroy").click()

    def clear_completed(self):
        self.driver.find_element(By.ID, "clear-completed").click()

    def wait_rows(self, predicate, timeout=5.0, message="rows"):
        deadline = time.monotonic() + timeout
        while True:
            rows = self.rows()
            if predicate(rows):
                return rows
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.b.name}: timed out after {timeout}s waiting for {message}; rows: {rows}")
            time.sleep(0.02)

    def wait_titles(self, titles, timeout=5.0):
        want = list(titles)
        return self.wait_rows(lambda rows: [r["title"] for r in rows] == want, timeout=timeout,
                              message=f"titles {want}")
