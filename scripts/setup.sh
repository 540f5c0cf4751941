#!/usr/bin/env bash
# Installs what the app and its tests need on a Debian machine. Sourced by scripts/run and
# scripts/test; every step is skipped when it is already done, so a second run takes seconds.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

as_root() {
  if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi
}

# Debian packages, installed only when one is missing.
apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
  done
  if ((${#missing[@]})); then
    say "installing Debian packages: ${missing[*]}"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
}

# The Rust toolchain comes from rustup (Debian's cargo is too old for Tauri 2).
require_rust() {
  if ! command -v cargo >/dev/null; then
    echo "cargo is missing: install Rust with rustup (https://rustup.rs), then run this again" >&2
    exit 1
  fi
}

# What the engine, CLI and simulator need to build.
setup_engine() {
  require_rust
  apt_install build-essential pkg-config libdbus-1-dev
}

# What the desktop app needs to build and run.
setup_desktop() {
  setup_engine
  apt_install libwebkit2gtk-4.1-dev libssl-dev libayatana-appindicator3-dev librsvg2-dev \
    libsoup-3.0-dev libjavascriptcoregtk-4.1-dev
  command -v npm >/dev/null || apt_install nodejs npm
  setup_ui
}

# npm packages from the committed lockfile, reinstalled only when the lockfile changed.
setup_ui() {
  local stamp="$repo/ui/node_modules/.lock-stamp"
  local want
  want=$(sha256sum "$repo/ui/package-lock.json" | cut -d' ' -f1)
  if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
    say "installing npm packages (npm ci)"
    (cd "$repo/ui" && npm ci --no-audit --no-fund --loglevel=error)
    echo "$want" >"$stamp"
  fi
}

# The browser-less end-to-end stack: Xvfb, WebKitWebDriver, D-Bus, and tauri-driver.
setup_e2e() {
  apt_install xvfb xauth webkit2gtk-driver dbus-x11 gnome-keyring chromium
  # tauri-driver has no --version; cargo's install record says which version is there.
  if ! command -v tauri-driver >/dev/null || ! cargo install --list 2>/dev/null | grep -q '^tauri-driver v2\.1\.0:'; then
    say "installing tauri-driver 2.1.0 (about a minute)"
    cargo install --quiet --locked tauri-driver --version 2.1.0
  fi
}

# The JVM pieces of the tests: a JDK and Maven for the search node.
setup_search_node() {
  command -v java >/dev/null || apt_install default-jdk-headless
  command -v mvn >/dev/null || apt_install maven
  apt_install curl python3
}
