#!/usr/bin/env bash
# Runs every check: formatting, clippy with warnings as errors, and all tests of the workspace
# (installing what is missing first). CI runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/../.."
. deploy/scripts/setup.sh
ensure_build_dependencies
ensure_rust_components
ensure_test_tools
echo "target directory: $CARGO_TARGET_DIR" >&2
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
cargo test --workspace
# The end-to-end tests once more with the real binary on PostgreSQL (the test platform starts a
# throwaway server on loopback).
MARQUE_TEST_STORE=postgres cargo test -p marque --test flow --test e2e_reseller --test white_label
