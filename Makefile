# BackboneSSE: `make run` serves the example app, `make test` runs every test.
SWIFT ?= swift
CONFIG ?= examples/todos/collections.yaml
HOST ?= 127.0.0.1
PORT ?= 8080
DATA ?= data
# The Swift runtime linked in: only the pages used are resident (idle RSS 25.6 MB
# against 30.7 MB with the shared libraries).
RELEASE = -c release --static-swift-stdlib

.PHONY: run run-auth build release test lint format unit-test integration-test integration-test-mongo schemathesis-test browser-test bench bench-mongo deps clean

deps:
	@scripts/install-deps.sh build

build: deps
	$(SWIFT) build

# The same script as the container recipe and the README's install steps.
release:
	SWIFT=$(SWIFT) scripts/build-release.sh

run: release
	@scripts/install-deps.sh run
	mkdir -p $(DATA)
	.build/release/backbone-sse serve --config $(CONFIG) --host $(HOST) --port $(PORT) \
		--store sqlite:$(DATA)/app.sqlite --static examples/todos/public --static /js=/usr/share/javascript

# The example with sign-in (README "Who may do what"): each user's own todos and a shared
# list, with development tokens signed by a key made for this run (or yours, exported).
run-auth: release
	@scripts/install-deps.sh run
	mkdir -p $(DATA)
	BACKBONE_SSE_JWT_SECRET="$${BACKBONE_SSE_JWT_SECRET:-$$(head -c 32 /dev/urandom | base64)}" \
	.build/release/backbone-sse serve --config examples/todos/collections-auth.yaml --host $(HOST) --port $(PORT) \
		--store sqlite:$(DATA)/app-auth.sqlite --dev-tokens --static examples/todos/public --static /js=/usr/share/javascript

test:
	@scripts/install-deps.sh test
	$(SWIFT) build
	$(SWIFT) test
	SWIFT=$(SWIFT) FUZZ_SECONDS=20 Fuzz/run.sh
	python3 -m pytest -q -p no:cacheprovider Tests/integration
	BACKBONE_SSE_STORE=mongodb python3 -m pytest -q -p no:cacheprovider Tests/integration
	python3 -m pytest -q -p no:cacheprovider Tests/schemathesis
	BACKBONE_SSE_STORE=mongodb python3 -m pytest -q -p no:cacheprovider Tests/schemathesis
	python3 -m pytest -q -p no:cacheprovider Tests/browser
	python3 -m pytest -q -p no:cacheprovider Tests/mongo

# The formatter config is .swift-format; `make format` rewrites the tree to it.
SWIFT_SOURCES = Package.swift Sources Tests Fuzz/Package.swift Fuzz/Sources
lint:
	$(SWIFT) format lint --strict --recursive $(SWIFT_SOURCES)

format:
	$(SWIFT) format --in-place --recursive $(SWIFT_SOURCES)

# The libFuzzer targets (docs/fuzzing.md): an ASan build in .build-fuzz, each target
# run for FUZZ_SECONDS, then the JSON parser checked against Python's json.
FUZZ_SECONDS ?= 60
.PHONY: fuzz
fuzz: deps
	SWIFT=$(SWIFT) FUZZ_SECONDS=$(FUZZ_SECONDS) Fuzz/run.sh

unit-test: deps
	$(SWIFT) test

integration-test:
	@scripts/install-deps.sh test
	$(SWIFT) build
	python3 -m pytest -q Tests/integration

# The integration suite with --store mongodb:// (the MongoDB test double, or MONGODB_URI).
integration-test-mongo:
	@scripts/install-deps.sh test
	$(SWIFT) build
	BACKBONE_SSE_STORE=mongodb python3 -m pytest -q Tests/integration

# schemathesis over the served openapi.yaml, on each store (60 s each; -s prints the counts).
schemathesis-test:
	@scripts/install-deps.sh test
	$(SWIFT) build
	python3 -m pytest -q -s -p no:cacheprovider Tests/schemathesis
	BACKBONE_SSE_STORE=mongodb python3 -m pytest -q -s -p no:cacheprovider Tests/schemathesis

browser-test:
	@scripts/install-deps.sh test
	$(SWIFT) build
	python3 -m pytest -q -p no:cacheprovider Tests/browser

# bench/curves/run.sh: the curves of issue 18 (docs/bench/*.png), about 12 minutes.
# The README's figures: bench/run.sh (REST, idle RSS), then the cost curves (reads by
# size, writes by writers, streams by N beside Nchan: docs/bench/*.png), then the rest.
bench:
	@scripts/install-deps.sh bench
	$(SWIFT) build $(RELEASE)
	BENCH_STREAMS=0 bench/run.sh
	bench/curves/run.sh
	python3 bench/export_import.py
	python3 bench/mongo/roundtrips.py
	BACKBONE_SSE_BIN=.build/release/backbone-sse python3 bench/slow_clients.py -n 16000 --hold 10 --watch 20
	python3 bench/slow_lists.py
	python3 bench/prune_pause.py
	python3 bench/pubsub.py
	bench/auth/run.sh
	BENCH_STREAMS_AUTH=1 bench/streams/run.sh

# MongoDB commands per request (against the test double, or MONGODB_URI).
bench-mongo:
	@scripts/install-deps.sh bench
	$(SWIFT) build $(RELEASE)
	python3 bench/mongo/roundtrips.py

clean:
	rm -rf .build
