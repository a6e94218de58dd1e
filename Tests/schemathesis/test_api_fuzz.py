"""schemathesis, a third-party property-based tester, over the served /openapi.yaml.

One server (the real binary, an ephemeral port, a fresh data directory, the shared test
config Tests/support/collections.yaml, a 1 KiB `--max-body`) and one `schemathesis run`
against the spec it serves, with schemathesis.toml (budget, checks) and hooks.py (the
config's collection names). The run fails on any 5xx and on any answer the spec does not describe: status
code, content type, headers, body schema (event streams included, event by event).

Besides schemathesis's exit status, the test reads its NDJSON report and checks that the
run did test something: every operation but /openapi.yaml (schemathesis leaves out the
operation that serves the spec it reads), every check, and streams as well as JSON. The
counts are printed (pytest -s shows them).

The store is SQLite, or with `BACKBONE_SSE_STORE=mongodb` MongoDB (the test double of
Tests/mongo, or MONGODB_URI), as for Tests/integration: `make test` runs both.

Reproduce a failure with the seed printed in the output:
`SCHEMATHESIS_SEED=<seed> python3 -m pytest -s -p no:cacheprovider Tests/schemathesis`.
"""

import collections
import glob
import json
import os
import subprocess
import sys
import tempfile
import time
import tomllib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "support"))

from backbone_server import REPO, Server, scratch_dir  # noqa: E402

CONFIG = os.path.join(REPO, "Tests", "support", "collections.yaml")
CHECKS = {
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
}
# Checks schemathesis.toml also enables; they bite on the cases that concern them only
# (a method the path does not document; a read right after a create).
OCCASIONAL_CHECKS = {"unsupported_method", "allow_header_conformance", "ensure_resource_availability"}
# The spec's operations, less GET /openapi.yaml: schemathesis does not test the
# operation that serves the document it loaded (test_openapi.py checks that one). The
# served spec has a path pair per collection of the config.
COLLECTIONS = ("todos", "lists")
DOCUMENT_OPERATIONS = {f"{method} /{name}{suffix}" for name in COLLECTIONS for method, suffix in (
    ("GET", ""), ("POST", ""), ("GET", "/{id}"), ("PUT", "/{id}"), ("PATCH", "/{id}"), ("DELETE", "/{id}"))}
OPERATIONS = {"GET /healthz", "GET /metrics", "GET /backbone-sse.js", "GET /events"} | DOCUMENT_OPERATIONS
# The largest body, well below the default 1 MiB: schemathesis's bodies reach about
# 2 KiB, so some of them (about 1 in 200) are refused, and the 413 answers are checked
# against the spec too.
MAX_BODY = ("--max-body", "1KiB")
# The run's budget (schemathesis.toml's max-time); past it and some slack for loading
# the spec and reporting, the run is not bounded as it should be.
with open(os.path.join(HERE, "schemathesis.toml"), "rb") as f:
    WALL_LIMIT = tomllib.load(f)["max-time"] + 40


def schemathesis_run(url, report_dir, seed):
    cmd = [sys.executable, "-m", "schemathesis.cli", "--config-file", os.path.join(HERE, "schemathesis.toml"),
           "run", url + "/openapi.yaml", "--no-color", "--report", "ndjson", "--report-dir", report_dir]
    if seed:
        cmd += ["--seed", seed]
    env = {**os.environ, "SCHEMATHESIS_HOOKS": os.path.join(HERE, "hooks.py")}
    started = time.monotonic()
    done = subprocess.run(cmd, env=env, cwd=report_dir, capture_output=True, text=True, timeout=WALL_LIMIT + 60)
    return done, time.monotonic() - started


class Report:
    """What the NDJSON report of a run holds: every case with its answer and checks."""

    def __init__(self, path):
        self.cases = 0
        self.statuses = collections.defaultdict(collections.Counter)  # operation -> (status, media) -> n
        self.checks_run = collections.Counter()
        self.checks_failed = collections.Counter()
        self.stop_reason = None
        with open(path, encoding="utf-8") as f:
            for line in f:
                event = json.loads(line)
                if "ScenarioFinished" in event:
                    self._scenario(event["ScenarioFinished"]["recorder"])
                elif "EngineFinished" in event:
                    self.stop_reason = event["EngineFinished"]["stop_reason"]

    def _scenario(self, recorder):
        cases = recorder.get("cases", {})
        for case_id, interaction in recorder.get("interactions", {}).items():
            self.cases += 1
            case = cases[case_id]["value"]
            response = interaction.get("response")
            if response is None:
                continue
            media = (response["headers"].get("content-type") or [""])[0].split(";")[0]
            self.statuses[f"{case['method']} {case['path']}"][(response["status_code"], media)] += 1
        for results in recorder.get("checks", {}).values():
            for result in results:
                self.checks_run[result["name"]] += 1
                if result["status"] != "success":
                    self.checks_failed[result["name"]] += 1

    def summary(self):
        lines = [f"{self.cases} cases; checks run {dict(self.checks_run)}; failed {dict(self.checks_failed)}"]
        for operation in sorted(self.statuses):
            answers = ", ".join(f"{status} {media or '-'}: {n}" for (status, media), n in sorted(self.statuses[operation].items()))
            lines.append(f"  {operation}: {answers}")
        return "\n".join(lines)


def why_it_died(server):
    """The lines of a crashed server's stderr that say why (a crash report is thousands
    of lines of thread backtraces, the cause near its top), else its tail."""
    causes = [line for line in server.stderr().splitlines()
              if any(word in line for word in ("Fatal error", "precondition failed", "crashed", "error"))]
    return "\n".join(causes[:20]) or server.stderr_tail()


def test_schemathesis_finds_nothing_the_spec_does_not_describe():
    seed = os.environ.get("SCHEMATHESIS_SEED")
    with scratch_dir("backbone-sse-schemathesis-") as work:
        server = Server(os.path.join(work, "server"), config_path=CONFIG, extra_args=MAX_BODY)
        server.start()
        report_dir = tempfile.mkdtemp(prefix="report-", dir=work)
        try:
            done, took = schemathesis_run(server.url, report_dir, seed)
        finally:
            alive = server.running
            exit_code = server.stop() if alive else server.proc.poll()
        output = done.stdout + done.stderr
        reports = glob.glob(os.path.join(report_dir, "*.ndjson"))
        assert len(reports) == 1, f"no NDJSON report from schemathesis:\n{output[-5000:]}"
        report = Report(reports[0])
        print(f"\nschemathesis: {took:.0f} s, stop reason {report.stop_reason}\n{report.summary()}")
        print("\n".join(line for line in output.splitlines() if line.strip())[-3000:])

        assert alive, f"the server died during the run (exit {exit_code}):\n{why_it_died(server)}\n{output[-8000:]}"
        assert done.returncode == 0, f"schemathesis exit {done.returncode}:\n{output[-20000:]}"
        assert not report.checks_failed, report.summary()
        # It tested what it should: nothing above passes vacuously.
        assert took < WALL_LIMIT, f"the run took {took:.0f} s"
        assert set(report.statuses) >= OPERATIONS, f"untested: {OPERATIONS - set(report.statuses)}"
        assert CHECKS <= set(report.checks_run) <= CHECKS | OCCASIONAL_CHECKS, dict(report.checks_run)
        assert report.cases >= 1000, report.summary()
        streamed = {op for op, answers in report.statuses.items()
                    if any(status == 200 and media == "text/event-stream" for status, media in answers)}
        assert streamed >= {"GET /events"} | {f"GET /{name}{suffix}" for name in COLLECTIONS for suffix in ("", "/{id}")}, \
            report.summary()
        for operation in (f"{method} /{name}{suffix}" for name in COLLECTIONS
                          for method, suffix in (("POST", ""), ("PUT", "/{id}"), ("PATCH", "/{id}"))):
            assert any(200 <= status < 300 for status, _ in report.statuses[operation]), report.summary()
        assert exit_code == 0, f"the server did not stop cleanly (exit {exit_code}):\n{server.stderr_tail()}"
