# Sourced by run.sh and test.sh: installs what building Marque needs when it is missing, and
# points cargo's target directory outside the clone so that RocksDB is built once.
#
# Needs: a Rust toolchain (1.95 or newer, with rustfmt and clippy) and, from Debian, clang and
# libclang-dev (RocksDB's bindings) and a C++ compiler (RocksDB itself).

set -euo pipefail

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/marque-target}"

# Runs a command as root: directly when we are root, else through sudo.
as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        echo "error: need root (or sudo) to run: $*" >&2
        exit 1
    fi
}

# Installs the Debian packages named that are not installed yet.
ensure_debian_packages() {
    local missing=()
    local pkg
    for pkg in "$@"; do
        if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed"; then
            missing+=("$pkg")
        fi
    done
    if [ "${#missing[@]}" -gt 0 ]; then
        echo "installing ${missing[*]}" >&2
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
    fi
}

ensure_build_dependencies() {
    if command -v dpkg-query >/dev/null 2>&1; then
        local packages=(clang libclang-dev)
        command -v c++ >/dev/null 2>&1 || packages+=(g++)
        ensure_debian_packages "${packages[@]}"
    elif ! command -v clang >/dev/null 2>&1; then
        echo "warning: not a Debian system and no clang found: install clang and libclang yourself" >&2
    fi
    if ! command -v cargo >/dev/null 2>&1; then
        echo "error: no Rust toolchain: install one with rustup (https://rustup.rs), Rust 1.95 or newer" >&2
        exit 1
    fi
}

# rustfmt and clippy, for test.sh.
ensure_rust_components() {
    if ! cargo fmt --version >/dev/null 2>&1 || ! cargo clippy --version >/dev/null 2>&1; then
        if command -v rustup >/dev/null 2>&1; then
            rustup component add rustfmt clippy
        else
            echo "error: cargo fmt and cargo clippy are needed (rustup component add rustfmt clippy)" >&2
            exit 1
        fi
    fi
}

# The clients and peers the tests drive: Python's standard library (smtplib, imaplib, poplib),
# curl, swaks, fetchmail, getmail6, mbsync (isync), offlineimap3, neomutt, postfix (a peer MTA),
# postgresql (a throwaway cluster per test process for the PostgreSQL backend)
# from Debian; schemathesis from PyPI for the admin API's property tests.
ensure_test_tools() {
    if command -v dpkg-query >/dev/null 2>&1; then
        ensure_debian_packages python3 curl swaks fetchmail getmail6 isync offlineimap3 neomutt postfix sieve-connect python3-dkim python3-nacl chromium pebble openssl postgresql
        # Node.js for the browser tests: Debian's nodejs and npm, unless a Node.js that brings
        # its own npm (e.g. NodeSource's, which conflicts with Debian's npm) is there already.
        command -v node >/dev/null 2>&1 || ensure_debian_packages nodejs
        command -v npm >/dev/null 2>&1 || ensure_debian_packages npm
    fi
    # The web panel's browser tests: playwright-core (pinned in tests/panel/package-lock.json)
    # drives Debian's chromium.
    if [ ! -d "$(dirname "${BASH_SOURCE[0]}")/../../tests/panel/node_modules/playwright-core" ]; then
        echo "installing the panel's browser test driver (npm ci in tests/panel)" >&2
        (cd "$(dirname "${BASH_SOURCE[0]}")/../../tests/panel" && npm ci --no-audit --no-fund)
    fi
    if ! command -v schemathesis >/dev/null 2>&1; then
        echo "installing schemathesis" >&2
        python3 -m pip install --quiet "schemathesis==4.32.5"
        # pyenv installs commands behind shims that must be regenerated.
        if command -v pyenv >/dev/null 2>&1; then pyenv rehash; fi
    fi
}

# The reference servers the side-by-side benchmarks (benches/) compare against, not needed by
# the tests: Postfix (smtp-source, and the MTA) delivering over LMTP to Dovecot for `--bench
# smtp`; Dovecot's IMAP server for `--bench imap`. Benchmarks are run by hand, not by CI.
ensure_bench_tools() {
    if command -v dpkg-query >/dev/null 2>&1; then
        ensure_debian_packages postfix dovecot-imapd dovecot-lmtpd
    fi
}
