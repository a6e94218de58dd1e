"""schemathesis hooks for Tests/schemathesis/test_api_fuzz.py (loaded through
SCHEMATHESIS_HOOKS): they fit the served openapi.yaml to the server under test without
loosening any check.

- The served spec is generated from the server's config (Tests/support/collections.yaml):
  a path pair per collection, and `/events?collections=` naming them, so no name needs
  fitting any more.
- A `GET` of a collection or a document streams when `Accept` names
  `text/event-stream`, and OpenAPI ignores an `Accept` parameter, so schemathesis would
  never ask for those streams: the fuzzing phase sends that `Accept` on many of them.
  It comes first among the choices because Hypothesis favours the first one: listed
  second, a run once sent no streaming `GET /lists` that was answered 200 (2 of 151).
- A request with an undeclared method goes without the method override it may have
  taken from a declared operation's case (see `before_call`).
"""

import os

import schemathesis
import yaml
from hypothesis import strategies as st

HERE = os.path.dirname(os.path.abspath(__file__))
CONFIG = os.path.join(HERE, "..", "support", "collections.yaml")

with open(CONFIG, encoding="utf-8") as f:
    COLLECTIONS = sorted(yaml.safe_load(f)["collections"])


@schemathesis.hook.apply_to(method="GET", path_regex="^/(" + "|".join(COLLECTIONS) + ")(/|$)")
def flatmap_headers(context, headers):
    headers = dict(headers or {})
    return st.sampled_from(["text/event-stream", None]).map(
        lambda accept: headers if accept is None else {**headers, "Accept": accept})


@schemathesis.hook
def before_call(context, case, kwargs):
    """A request with an undeclared method (the unsupported_method check) is built from a
    declared operation's case: from a PUT's, a POST carrying that PUT's
    `X-HTTP-Method-Override` or `_method` stands for the PUT (Backbone.emulateHTTP, as
    the spec says) and is answered as one. Sent without them, it is the undeclared
    method the check means, and must be 405."""
    data = getattr(getattr(case.meta, "phase", None), "data", None)
    if getattr(getattr(data, "scenario", None), "value", None) != "unspecified_http_method":
        return
    if case.headers:
        case.headers = {k: v for k, v in case.headers.items() if k.lower() != "x-http-method-override"}
    if case.query:
        case.query = {k: v for k, v in case.query.items() if k != "_method"}
