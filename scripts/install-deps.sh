#!/usr/bin/env bash
# Installs the Debian and PyPI packages a target needs, only when something is missing.
# Usage: scripts/install-deps.sh build|test|bench
set -euo pipefail
what="${1:-build}"

debs=(pkg-config libmicrohttpd-dev libsqlite3-dev libmongoc-dev libbson-dev libhiredis-dev)
pips=()
case "$what" in
  run) debs+=(libjs-backbone libjs-underscore libjs-jquery) ;;
  test) debs+=(curl redis-server libjs-backbone libjs-underscore libjs-jquery chromium chromium-driver
              openssl nginx-light caddy  # TLS in front: Tests/integration/test_{nginx,caddy}_tls.py
              systemd)  # systemd-analyze: Tests/integration/test_systemd_unit.py
        pips+=(pytest requests openapi-spec-validator PyYAML selenium mockupdb mongomock "schemathesis>=4.32"
              "openapi-python-client==0.29.1") ;;  # a client generated from the served spec: Tests/integration/test_openapi.py
  bench) debs+=(wrk curl gcc nginx-light libnginx-mod-nchan redis-server python3-matplotlib); pips+=(requests mockupdb mongomock) ;;  # nginx + Nchan: the peer of bench/streams; the MongoDB double: bench/mongo; matplotlib: bench/curves/plot.py
esac

missing=()
for p in "${debs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "installing Debian packages: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if ((${#pips[@]})); then
  python3 - "${pips[@]}" <<'PY' || python3 -m pip install -q --disable-pip-version-check "${pips[@]}"
import importlib, importlib.metadata, sys
names = {"pytest": "pytest", "requests": "requests", "openapi-spec-validator": "openapi_spec_validator", "PyYAML": "yaml", "selenium": "selenium", "mockupdb": "mockupdb", "mongomock": "mongomock", "schemathesis>=4.32": "schemathesis", "openapi-python-client==0.29.1": "openapi_python_client"}
# Tests/schemathesis needs 4.32's config keys (max-stream-events): an older one is upgraded.
oldest = {"schemathesis": (4, 32)}
def too_old(module):
    return module in oldest and tuple(int(x) for x in importlib.metadata.version(module).split(".")[:2]) < oldest[module]
missing = [p for p in sys.argv[1:] if importlib.util.find_spec(names.get(p, p)) is None or too_old(names.get(p, p))]
sys.exit(1 if missing else 0)
PY
fi
