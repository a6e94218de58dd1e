"""schemathesis hooks for Tests/schemathesis/test_api_fuzz.py (loaded through
SCHEMATHESIS_HOOKS): they fit the served, generic openapi.yaml to the server under test
without loosening any check.

- `{collection}` (and the names of `/events?collections=`) is any name matching a
  pattern in the spec, since the config file declares the collections. Random names
  would only ever get 404, so the positive cases take the names of the test config
  (Tests/support/collections.yaml); negative cases still send other names, for which
  404 is documented.
- A `GET` of a collection or a document streams when `Accept` names
  `text/event-stream`, and OpenAPI ignores an `Accept` parameter, so schemathesis would
  never ask for those streams: the fuzzing phase sends that `Accept` on half of them.
"""

import os

import schemathesis
import yaml
from hypothesis import strategies as st

HERE = os.path.dirname(os.path.abspath(__file__))
CONFIG = os.path.join(HERE, "..", "support", "collections.yaml")

with open(CONFIG, encoding="utf-8") as f:
    COLLECTIONS = sorted(yaml.safe_load(f)["collections"])


@schemathesis.hook
def before_load_schema(context, raw_schema):
    parameters = raw_schema["components"]["parameters"]
    parameters["collection"]["schema"] = {"type": "string", "enum": COLLECTIONS}
    parameters["collections"]["schema"]["items"] = {"type": "string", "enum": COLLECTIONS}


@schemathesis.hook.apply_to(method="GET", path_regex=r"^/\{collection\}")
def flatmap_headers(context, headers):
    headers = dict(headers or {})
    return st.sampled_from([None, "text/event-stream"]).map(
        lambda accept: headers if accept is None else {**headers, "Accept": accept})
