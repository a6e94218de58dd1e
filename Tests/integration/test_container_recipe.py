"""deploy/container/Containerfile and scripts/build-release.sh (issue 16, item 5).

No container engine runs where the tests run (CI's machine, this container: a docker
client without a daemon), so the image is never built here. What is checked instead:

- one build path: the Containerfile's build stage, `make release` and the README all
  run scripts/build-release.sh, and the script parses (`bash -n`; a release build takes
  too long for the suite);
- the recipe's shape: multi-stage, a Debian slim runtime on the build's Debian release,
  a non-root user, a data volume, a HEALTHCHECK on /readyz;
- the runtime packages: every shared library the two executables under test load,
  outside the Swift runtime (linked in by the release build), is in a package the
  runtime stage installs or one that debian:bookworm-slim already has;
- the image's command and its HEALTHCHECK, run for real: the CMD's flags against the
  binary (paths moved into the test's folder, the port made free), and the
  HEALTHCHECK's own command against it: 0 when /readyz answers 200, else not.
"""

import json
import os
import re
import subprocess

import pytest

from conftest import BIN, CONFIG_YAML, REPO, Server, ServerFactory

CONTAINERFILE = os.path.join(REPO, "deploy", "container", "Containerfile")
SCRIPT = os.path.join(REPO, "scripts", "build-release.sh")
# In debian:bookworm-slim already (apt itself needs them).
IN_SLIM = {"libc6", "libgcc-s1", "libstdc++6", "zlib1g", "libsystemd0"}


def instructions():
    """(INSTRUCTION, arguments) of the Containerfile, continuation lines joined."""
    with open(CONTAINERFILE) as f:
        text = f.read()
    text = re.sub(r"\\\n(\s*#.*\n)*", " ", text)
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def values(word):
    return [rest for w, rest in instructions() if w == word]


def test_one_build_script_for_make_the_container_and_the_readme():
    assert subprocess.run(["bash", "-n", SCRIPT]).returncode == 0
    assert os.access(SCRIPT, os.X_OK)
    assert any(r.startswith("scripts/build-release.sh") for r in values("RUN")), values("RUN")
    with open(os.path.join(REPO, "Makefile")) as f:
        release = re.search(r"(?m)^release:.*\n((?:\t.*\n)+)", f.read()).group(1)
    assert "scripts/build-release.sh" in release
    with open(os.path.join(REPO, "README.md")) as f:
        assert "scripts/build-release.sh" in f.read()
    with open(SCRIPT) as f:
        assert "--static-swift-stdlib" in f.read()


def test_the_recipe_is_multi_stage_non_root_with_a_volume_and_a_healthcheck():
    froms = values("FROM")
    assert len(froms) == 2 and froms[0].endswith("AS build"), froms
    # Build and run on one Debian release: the -dev packages built against are the
    # libraries the runtime stage installs.
    assert "bookworm" in " ".join(values("ARG")) and froms[1] == "debian:bookworm-slim"
    users = values("USER")
    assert users and users[-1] not in ("root", "0"), users
    assert values("VOLUME") == ["/data"]
    (health,) = values("HEALTHCHECK")
    assert "/readyz" in health
    assert "COPY --from=build /out/ /usr/local/bin/" in [f"COPY {c}" for c in values("COPY")]


def runtime_packages():
    run = " ".join(values("RUN"))
    m = re.search(r"apt-get install -y --no-install-recommends (.*?) &&", run)
    assert m, run
    return set(m.group(1).split())


@pytest.mark.parametrize("name", ["backbone-sse", "backbone-sse-mongodb"])
def test_the_runtime_stage_installs_every_library_the_executables_load(name):
    binary = os.path.join(os.path.dirname(BIN), name)
    needed = re.findall(r"\(NEEDED\)\s+Shared library: \[(.+?)\]",
                        subprocess.run(["readelf", "-d", binary], capture_output=True, text=True, check=True).stdout)
    # The Swift runtime is in the executable itself with --static-swift-stdlib.
    needed = [n for n in needed
              if not n.startswith(("libswift", "libFoundation", "lib_Foundation", "libdispatch", "libBlocksRuntime"))]
    # One dpkg -S for all ("package[:arch]: /path" lines; a library no package has: none).
    p = subprocess.run(["dpkg", "-S", *[f"*/{n}" for n in needed]], capture_output=True, text=True)
    owners = {}
    for line in p.stdout.splitlines():
        package, _, path = line.partition(": ")
        owners.setdefault(os.path.basename(path), set()).add(package.split(":")[0])
    packages = runtime_packages()
    for soname in needed:
        found = owners.get(soname, set())
        assert found & (packages | IN_SLIM), f"{name} loads {soname} ({found or 'no package'}): not in the image"
    # Each a Debian package (of this machine's release, the runtime stage's).
    p = subprocess.run(["apt-cache", "show", *sorted(packages)], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr


class ImageCommand(Server):
    """The image's ENTRYPOINT + CMD, its paths moved into the test's folder."""

    def command(self):
        args = json.loads(values("ENTRYPOINT")[0]) + json.loads(values("CMD")[0])
        assert args[0] == "/usr/local/bin/backbone-sse"
        args[0] = BIN
        args[args.index("--config") + 1] = self.config_path
        args[args.index("--store") + 1] = f"sqlite:{self.db_path}"
        args[args.index("--port") + 1] = "0"
        args[args.index("--host") + 1] = "127.0.0.1"
        return args


def healthcheck(port):
    """The HEALTHCHECK's command (exec form), aimed at `port` instead of 8080."""
    cmd = values("HEALTHCHECK")[0]
    exec_form = json.loads(cmd[cmd.index("CMD ") + 4:])
    exec_form = [a.replace("/127.0.0.1/8080", f"/127.0.0.1/{port}") for a in exec_form]
    return subprocess.run(exec_form, capture_output=True, text=True, timeout=10)


def test_the_image_command_serves_and_its_healthcheck_sees_it(session_dir):
    factory = ServerFactory(session_dir)
    srv = factory.add(ImageCommand(factory.new_dir(), config_text=CONFIG_YAML))
    try:
        srv.start()
        assert srv.stderr().splitlines()[0].startswith("{")  # --log-format json
        p = healthcheck(srv.port)
        assert p.returncode == 0, p.stderr
        srv.stop()
        assert healthcheck(srv.port).returncode != 0  # nothing listening: unhealthy
    finally:
        factory.stop_all()


def test_the_healthcheck_script_parses():
    """The HEALTHCHECK runs `bash -c` with one script, JSON-escaped in the file."""
    cmd = values("HEALTHCHECK")[0]
    script = json.loads(cmd[cmd.index("CMD ") + 4:])[2]
    assert subprocess.run(["bash", "-n", "-c", script]).returncode == 0, script
