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

.PHONY: run test build deps deps-system deps-test-system deps-rust deps-ui deps-tools ui lint test-rust test-ui \
        test-e2e bindings icons

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

deps: deps-system deps-rust deps-ui

## Build -----------------------------------------------------------------------------------------

ui: deps-ui
	cd ui && npm run build

build: deps ui
	cargo build --workspace $(FEATURES)

run: build
	$(APP)

## Tests -----------------------------------------------------------------------------------------

lint: deps-rust ui
	cargo fmt --all -- --check
	@# the core must never depend on tauri
	@if cargo tree -p kontor-core -e normal --prefix none | grep -q '^tauri'; then echo "kontor-core depends on tauri"; exit 1; fi
	cargo clippy --workspace --all-targets $(FEATURES) -- -D warnings

test-ui: deps-ui
	cd ui && npm run check && npm run lint && npm test

# Rust tests and the WebDriver tests run in a private desktop session: a D-Bus session bus, an unlocked
# gnome-keyring (the real Secret Service), Xvfb, and throwaway XDG and data directories.
test-rust: deps-test-system deps-rust ui
	tests/support/desktop-session.sh cargo test --workspace $(FEATURES)

test-e2e: deps-test-system deps-tools build
	tests/support/desktop-session.sh node --test --test-concurrency=1 tests/webdriver/

test: deps-test-system deps-rust deps-ui deps-tools
	$(MAKE) lint
	$(MAKE) test-ui
	$(MAKE) test-rust
	$(MAKE) test-e2e

## Maintenance -----------------------------------------------------------------------------------

bindings: deps-rust
	KONTOR_UPDATE_BINDINGS=1 cargo test -p kontor-core --test bindings

icons:
	rsvg-convert -w 1024 -h 1024 icons/icon.svg -o icons/icon.png
	for s in 32 64 128 256; do rsvg-convert -w $$s -h $$s icons/icon.svg -o icons/$${s}x$${s}.png; done
	cp icons/256x256.png icons/128x128@2x.png
	convert icons/32x32.png icons/64x64.png icons/128x128.png icons/256x256.png icons/icon.ico
