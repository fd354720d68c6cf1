# Warta: `make run` starts the desktop app on a demo office; `make test` is everything CI checks.
# Both begin with `make deps`, which installs whatever a fresh Debian/Ubuntu machine with Rust and
# Node lacks, and does nothing when it is all there.

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

CARGO_BIN := $(or $(CARGO_HOME),$(HOME)/.cargo)/bin
export PATH := $(CARGO_BIN):$(PATH)

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_PACKAGES := libwebkit2gtk-4.1-dev libxdo-dev libssl-dev libayatana-appindicator3-dev \
	librsvg2-dev webkit2gtk-driver xvfb xauth pkg-config build-essential \
	cmake nasm poppler-utils ffmpeg libheif-examples libreoffice-writer-nogui \
	gnome-keyring dbus-daemon libdbus-1-dev python3-venv dunst \
	wordpress wordpress-theme-twentytwentythree mariadb-server php-cli php-mysql php-gd php-xml \
	php-mbstring php-curl

APP := target/debug/warta-app
DEV_DATA := $(CURDIR)/.warta-dev
BINDINGS := ui/src/lib/bindings

.PHONY: help deps deps-apt deps-rust deps-node ui app run test e2e fuzz api-fuzz api-fuzz-deps bench bench-app bench-media bench-upload bench-load bench-guard

# Seconds of fuzzing per target in `make test` (and `make fuzz`).
FUZZ_SECONDS ?= 30
# Seconds of API fuzzing with schemathesis in `make test` (and `make api-fuzz`), all passes.
API_FUZZ_SECONDS ?= 90
SCHEMATHESIS_VERSION := 4.32.5
API_FUZZ_VENV := target/api-fuzz/venv

help:
	@echo "make run    build and start the desktop app on a demo office (data in .warta-dev/)"
	@echo "make test   formatting, lints, unit and integration tests, binding drift, end-to-end"
	@echo "make deps | ui | app | e2e | fuzz | api-fuzz | bench (bench-app, bench-media, bench-upload, bench-load, bench-guard)"

deps: deps-apt deps-rust deps-node

deps-apt:
	@missing=""; \
	for pkg in $(APT_PACKAGES); do \
		dpkg -s "$$pkg" >/dev/null 2>&1 || missing="$$missing $$pkg"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "==> installing system packages:$$missing"; \
		$(SUDO) apt-get update; \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y $$missing; \
	fi

deps-rust:
	@cargo fmt --version >/dev/null 2>&1 || { echo "==> rustup component add rustfmt"; rustup component add rustfmt; }
	@cargo clippy --version >/dev/null 2>&1 || { echo "==> rustup component add clippy"; rustup component add clippy; }
	@if ! command -v tauri-driver >/dev/null; then \
		echo "==> cargo install tauri-driver"; \
		cargo install tauri-driver --locked; \
	fi

# npm ci only when node_modules is missing or older than the lock file.
deps-node:
	@if [ ! -d ui/node_modules ] || [ ui/package-lock.json -nt ui/node_modules ]; then \
		echo "==> npm ci (ui/)"; \
		cd ui && npm ci && touch node_modules; \
	fi

ui: deps-node
	cd ui && npm run build

app: ui
	cargo build -p warta-app

run: deps app
	mkdir -p "$(DEV_DATA)"
	$(APP) --demo --data "$(DEV_DATA)"

# The UI is built before clippy because warta-app embeds ui/dist at compile time.
test: deps
	cargo fmt --all -- --check
	$(MAKE) ui
	cargo clippy --workspace --all-targets -- -D warnings
	cd ui && npm run check
	cd ui && npm test
	scripts/with-keyring cargo test --workspace
	fuzz/run.sh $(FUZZ_SECONDS)
	$(MAKE) api-fuzz
	@if ! git diff --quiet -- $(BINDINGS) \
		|| [ -n "$$(git ls-files --others --exclude-standard -- $(BINDINGS))" ]; then \
		git status --short -- $(BINDINGS); \
		echo "TypeScript bindings are out of date: commit $(BINDINGS)"; \
		exit 1; \
	fi
	$(MAKE) e2e

# Fuzzes warta-render's sanitiser, FUZZ_SECONDS per target (cargo-fuzz on stable, no sanitizer);
# fails on a crash or on output that is not inert.
fuzz: deps-apt
	fuzz/run.sh $(FUZZ_SECONDS)

# schemathesis, pinned, in a virtualenv under target/ (created once, replaced when the pin changes).
api-fuzz-deps: deps-apt
	@if ! $(API_FUZZ_VENV)/bin/st --version 2>/dev/null | grep -qx "st, version $(SCHEMATHESIS_VERSION)"; then \
		echo "==> schemathesis $(SCHEMATHESIS_VERSION) in $(API_FUZZ_VENV)"; \
		rm -rf $(API_FUZZ_VENV); \
		python3 -m venv $(API_FUZZ_VENV); \
		$(API_FUZZ_VENV)/bin/pip install --quiet --disable-pip-version-check "schemathesis==$(SCHEMATHESIS_VERSION)"; \
	fi

# Every API route fuzzed from the OpenAPI document against a demo hub, API_FUZZ_SECONDS in all;
# fails on a 5xx or a response the document does not describe.
api-fuzz: api-fuzz-deps
	scripts/with-keyring tests/api-fuzz/run.sh $(API_FUZZ_SECONDS)

# The real window, driven through tauri-driver and WebKitWebDriver on a virtual X display.
e2e: app
	cargo build -p warta-cli
	mkdir -p target/e2e
	WARTA_APP="$(CURDIR)/$(APP)" scripts/with-keyring xvfb-run -a --server-args="-screen 0 1440x960x24" node --test --test-concurrency=1 --test-reporter=spec tests/e2e/workflow.test.mjs tests/e2e/connection.test.mjs tests/e2e/team.test.mjs tests/e2e/incidents.test.mjs

BENCH_MEDIA_APT := libvips-tools imagemagick

bench: bench-app bench-media bench-upload bench-load bench-guard

# The website guard (issue 6): 1,000 watched pages on a loopback site checked in one round by the
# hub's guard, time and peak memory (VmHWM), against fetching the same pages only. The table is
# printed and written to target/bench-guard.md.
bench-guard:
	cargo build --release -p warta-guardbench
	"$${CARGO_TARGET_DIR:-$(CURDIR)/target}/release/warta-guardbench" run 1000

# Team-mode load (issue 5): hub creates and the SOP-A mix (photos as the outbox sends them, and
# through the attach button) at 64 clients beside WordPress (the
# test harness's PHP + MariaDB) and a bare axum + rusqlite server, then my-tasks and search at
# 100,000 items and 1,000,000 audit entries. LOAD_SECONDS per phase (default 10). The table is
# printed and written to target/bench-load.md.
bench-load: deps-apt
	cargo build --release -p warta-cli -p warta-loadbench
	scripts/with-keyring "$${CARGO_TARGET_DIR:-$(CURDIR)/target}/release/warta-loadbench" run

# Photo renditions against vipsthumbnail and ImageMagick: 200 generated 12 MP photos (cached in
# target/bench-media/), 1 and 2 workers; the table is printed and written to target/bench-media.md.
bench-media: deps-apt
	@missing=""; for pkg in $(BENCH_MEDIA_APT); do dpkg -s "$$pkg" >/dev/null 2>&1 || missing="$$missing $$pkg"; done; \
	if [ -n "$$missing" ]; then echo "==> installing$$missing"; $(SUDO) apt-get update; \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y $$missing; fi
	cargo run --release -p warta-bench -- run

# A 2 GiB video through `warta import` (resumable upload) to a `warta serve` child process, next to
# a plain copy and `curl -T` to the same hub; peak RSS of both processes must stay under 100 MB.
# The video is made once in target/bench-upload/; the table goes to target/bench-upload.md.
bench-upload: deps-apt
	cargo build --release -p warta-cli -p warta-bench
	WARTA_BIN="$${CARGO_TARGET_DIR:-$(CURDIR)/target}/release/warta" \
		"$${CARGO_TARGET_DIR:-$(CURDIR)/target}/release/warta-bench" upload

# Cold start and idle memory of the desktop app (3 launches under Xvfb).
bench-app: app
	xvfb-run -a --server-args="-screen 0 1440x960x24" node tests/e2e/startup-bench.mjs
