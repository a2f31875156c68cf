# Kontor: `make run` opens the app on the Demo Bank, `make test` runs every test.
# Both install what is missing first (Debian/Ubuntu: apt as root or through sudo; npm from the lock file;
# Rust crates with cargo). See README.md for other systems.

SHELL := /bin/bash
.DEFAULT_GOAL := run

ROOT       := $(abspath .)
TARGET     := $(ROOT)/target
TOOLS      := $(ROOT)/.tools
APP        := $(TARGET)/debug/kontor-app
FEATURES   := --features kontor-app/custom-protocol
SUDO       := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

APT_BUILD  := build-essential pkg-config libwebkit2gtk-4.1-dev libssl-dev libdbus-1-dev
APT_TEST   := xvfb xauth webkit2gtk-driver gnome-keyring libsecret-tools xdg-utils desktop-file-utils \
              fonts-dejavu-core dbus imagemagick
STAMP      := $(TARGET)/.stamps

# Every process `make test` starts inherits this marker, so the run can tell at its end whether it left any
# behind (tests/support/clean-state.sh). Sub-makes inherit the value through the environment.
KONTOR_TEST_RUN ?= $(shell date +%s%N)-$(shell echo $$PPID)
export KONTOR_TEST_RUN

# Upper bounds that turn a stuck test into a failure with a message instead of a run that never ends.
RUST_TEST_LIMIT := 40m
E2E_TEST_LIMIT  := 20m
E2E_TEST_EACH   := 240000

.PHONY: run test build deps deps-system deps-test-system deps-rust deps-ui deps-tools ui lint test-rust test-ui \
        test-e2e bindings icons fuzz deps-fuzz bundle bundle-deb bundle-appimage deps-appimage bench test-bundle test-million

## Dependencies ----------------------------------------------------------------------------------

define apt_install
	@missing=$$(for p in $(1); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  if ! command -v apt-get >/dev/null; then echo "Missing system packages: $$missing (see README.md for your system)"; exit 1; fi; \
	  echo "Installing system packages: $$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi
endef

deps-system:
	$(call apt_install,$(APT_BUILD))

deps-test-system:
	$(call apt_install,$(APT_BUILD) $(APT_TEST))

deps-rust:
	@command -v cargo >/dev/null || { echo "Rust is missing: install it from https://rustup.rs (stable), then run make again."; exit 1; }
	@cargo fmt --version >/dev/null 2>&1 || rustup component add rustfmt
	@cargo clippy --version >/dev/null 2>&1 || rustup component add clippy

deps-ui: ui/node_modules/.package-lock.json

ui/node_modules/.package-lock.json: ui/package-lock.json ui/package.json
	@command -v npm >/dev/null || { echo "Node.js 20.19+ with npm is missing: install it (https://nodejs.org or your package manager)."; exit 1; }
	@# not `npm ci`: npm leaves other platforms' optional binaries out of the lock (npm/cli#4828), so ci refuses it
	cd ui && npm install --no-audit --no-fund
	@git diff --quiet -- ui/package-lock.json 2>/dev/null || { echo "ui/package-lock.json changed during install: commit the updated lock"; exit 1; }
	@touch $@

# tauri-driver 2.x (the 3.0 alphas are not for Tauri 2) into .tools/, built once.
deps-tools: $(TOOLS)/bin/tauri-driver

$(TOOLS)/bin/tauri-driver:
	cargo install tauri-driver --version '^2' --locked --root $(TOOLS)

# cargo-fuzz into .tools/, built once; the fuzz targets themselves need a nightly toolchain.
deps-fuzz: $(TOOLS)/bin/cargo-fuzz

$(TOOLS)/bin/cargo-fuzz:
	cargo install cargo-fuzz --locked --root $(TOOLS)

deps: deps-system deps-rust deps-ui

## Build -----------------------------------------------------------------------------------------

ui: deps-ui
	cd ui && npm run build

build: deps ui
	cargo build --workspace $(FEATURES)

run: build
	@if [ -z "$${DBUS_SESSION_BUS_ADDRESS:-}" ] && [ ! -S "$${XDG_RUNTIME_DIR:-/nonexistent}/bus" ]; then \
	  echo "Note: this shell has no D-Bus session bus (xvfb-run, SSH or a container), so Kontor cannot reach the"; \
	  echo "      system keyring and will offer a passphrase instead. Started inside a desktop session, it keeps"; \
	  echo "      the vault key in the keyring (GNOME Keyring, KWallet)."; \
	fi
	$(APP)

## Tests -----------------------------------------------------------------------------------------

lint: deps-rust ui
	cargo fmt --all -- --check
	tests/support/check-layers-selftest.sh
	tests/support/check-layers.sh
	@# the core must never depend on tauri
	@if cargo tree -p kontor-core -e normal --prefix none | grep -q '^tauri'; then echo "kontor-core depends on tauri"; exit 1; fi
	cargo clippy --workspace --all-targets $(FEATURES) -- -D warnings

test-ui: deps-ui
	cd ui && npm run check && npm run lint && npm test

# Rust tests and the WebDriver tests run in a private desktop session: a D-Bus session bus, an unlocked
# gnome-keyring (the real Secret Service), Xvfb, and throwaway XDG and data directories.
test-rust: deps-test-system deps-rust ui
	timeout --kill-after=30s $(RUST_TEST_LIMIT) tests/support/desktop-session.sh cargo test --workspace $(FEATURES) \
	  || { s=$$?; [ $$s = 124 ] && echo "The Rust tests did not finish within $(RUST_TEST_LIMIT)."; exit $$s; }

# Each WebDriver test file runs in its own process; a test that takes longer than E2E_TEST_EACH ms fails,
# and --test-force-exit ends a file's process once its tests are done even if something still holds it open.
test-e2e: deps-test-system deps-tools build
	timeout --kill-after=30s $(E2E_TEST_LIMIT) tests/support/desktop-session.sh \
	  node --test --test-concurrency=1 --test-timeout=$(E2E_TEST_EACH) --test-force-exit tests/webdriver/ \
	  || { s=$$?; [ $$s = 124 ] && echo "The WebDriver tests did not finish within $(E2E_TEST_LIMIT)."; exit $$s; }

# The snapshot comes first, so a change made by any step (an install that rewrites the lock, a test that
# writes into the checkout) fails the run; so does a process the run left behind.
test:
	@tests/support/clean-state.sh snapshot $(STAMP)/before-test
	$(MAKE) deps-test-system deps-rust deps-ui deps-tools
	$(MAKE) lint
	$(MAKE) test-ui
	$(MAKE) test-rust
	$(MAKE) test-e2e
	@tests/support/clean-state.sh check $(STAMP)/before-test

## Release: bundles, the install test, benchmarks -----------------------------------------------

TAURI      := ui/node_modules/.bin/tauri
DEB_DIR    := $(TARGET)/release/bundle/deb
APPIMAGE_DIR := $(TARGET)/release/bundle/appimage
# The FUSE 2 library the AppImage runtime mounts with: libfuse2t64 from Debian 13 and Ubuntu 24.04 on.
LIBFUSE2    = $(shell apt-cache show libfuse2t64 >/dev/null 2>&1 && echo libfuse2t64 || echo libfuse2)
MILLION_TEST_LIMIT := 60m

# The release build ([profile.release]) and the .deb. tauri build builds the UI (beforeBuildCommand), then
# runs `cargo build --release --bins` with custom-protocol at the workspace root, which builds every default
# member's programs: the app and the CLI, which the .deb ships as /usr/bin/kontor (bundle.linux.deb.files in
# tauri.conf.json). A separate `cargo build -p kontor-cli` would build the CLI a second time under other
# features (and link it again with fat LTO). The desktop entry (packaging/kontor.desktop) passes the URL (%u).
# Everything below uses these binaries.
bundle-deb: deps
	$(TAURI) build --bundles deb
	@ls -l $(DEB_DIR)/*.deb

# The .deb, then the .AppImage from the same release binaries. tauri's own AppImage step needs linuxdeploy and
# AppImage's AppRun, which it downloads from GitHub and no package registry carries; our packer
# (packaging/appimage/pack.sh, whose header says what it bundles and why) uses only registry parts: the AppImage
# runtime from the crates.io crate `appimage` (fetched by cargo, sha256-checked), mksquashfs and patchelf.
bundle: bundle-deb deps-appimage
	packaging/appimage/pack.sh
	@ls -l $(DEB_DIR)/*.deb $(APPIMAGE_DIR)/*.AppImage

# Packs the .AppImage again from the release build already in target/release (no rebuild).
bundle-appimage: deps-appimage
	packaging/appimage/pack.sh

deps-appimage:
	$(call apt_install,squashfs-tools patchelf)

# Installs the .deb on this machine (dpkg -i, as root or through sudo), starts the installed app in a private
# desktop session, hands it a kontor:// URL through xdg-open and the installed desktop entry, and removes the
# package again; runs the .AppImage (mounted through FUSE: libfuse.so.2) in the same kind of session to its
# first screen and through xdg-open. Not part of `make test`: it needs the release build and changes the
# system's packages.
test-bundle: deps-test-system deps-tools bundle
	$(call apt_install,$(LIBFUSE2))
	KONTOR_SUDO="$(SUDO)" timeout --kill-after=30s $(E2E_TEST_LIMIT) tests/support/desktop-session.sh \
	  node --test --test-concurrency=1 --test-timeout=$(E2E_TEST_EACH) --test-force-exit tests/bundle/

# Issue 9's WebDriver test on a vault of 1,000,000 transactions (seeded with the release CLI first, which
# takes minutes; KONTOR_MILLION_ROWS chooses another size). Screenshots under target/e2e/million-*. xdotool
# answers the save dialog of the CSV export as a user would (types the path, presses Enter).
test-million: deps-test-system deps-tools bundle-deb
	$(call apt_install,xdotool)
	KONTOR_APP_BIN=$(TARGET)/release/kontor-app KONTOR_CLI_BIN=$(TARGET)/release/kontor \
	  timeout --kill-after=30s $(MILLION_TEST_LIMIT) tests/support/desktop-session.sh \
	  node --test --test-concurrency=1 --test-timeout=3000000 --test-force-exit tests/million/

# Every benchmark of issues 9 and 13 into BENCHMARKS.md (tests/bench/run.mjs says what and how), on the
# binaries of `make bundle` (whose release build also builds crates/bench's programs); the report gives the
# sizes of both bundles.
bench: deps-test-system bundle
	tests/bench/run.sh

## Fuzzing --------------------------------------------------------------------------------------

FUZZ_SECONDS ?= 600
FUZZ_TARGETS := tan provider callback answer
CARGO_FUZZ   := PATH="$(TOOLS)/bin:$$PATH" cargo +nightly fuzz

# Each target in turn for FUZZ_SECONDS on one core, then its corpus (fuzz/corpus/<target>, replayed on stable by
# the fuzz_corpus tests) minimised. No sanitizer: the code under test is safe Rust (unsafe_code = "forbid"), and
# overflow checks and debug assertions are on. A crash stops the run; its input is in fuzz/artifacts/<target>/.
fuzz: deps-rust deps-fuzz
	@rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
	$(CARGO_FUZZ) build -s none
	@for target in $(FUZZ_TARGETS); do \
	  echo "== fuzz $$target for $(FUZZ_SECONDS) s"; \
	  $(CARGO_FUZZ) run -s none $$target -- -max_total_time=$(FUZZ_SECONDS) -jobs=1 -workers=1 \
	    -print_final_stats=1 || { tail -n 40 fuzz-0.log 2>/dev/null; exit 1; }; \
	  tail -n 12 fuzz-0.log 2>/dev/null; rm -f fuzz-0.log; \
	  $(CARGO_FUZZ) cmin -s none $$target || exit 1; \
	done

## Maintenance -----------------------------------------------------------------------------------

bindings: deps-rust
	KONTOR_UPDATE_BINDINGS=1 cargo test -p kontor-core --test bindings

icons:
	rsvg-convert -w 1024 -h 1024 icons/icon.svg -o icons/icon.png
	for s in 32 64 128 256; do rsvg-convert -w $$s -h $$s icons/icon.svg -o icons/$${s}x$${s}.png; done
	cp icons/256x256.png icons/128x128@2x.png
	convert icons/32x32.png icons/64x64.png icons/128x128.png icons/256x256.png icons/icon.ico
