#!/usr/bin/env bash
# Starts Marque: builds it (installing what is missing first) and runs `marque serve` with the
# arguments given, on the embedded default when there is no --config: data in ./data, listeners
# on 127.0.0.1 high ports (SMTP 2525, IMAP 2143, HTTP 8080, ...), a self-signed certificate.
#
#   ./deploy/scripts/run.sh                              # everything, embedded default
#   ./deploy/scripts/run.sh --config config/marque.toml  # your configuration
#   ./deploy/scripts/run.sh --only smtp,imap             # a subset of the services
#
# It builds with the same (dev) profile as the tests, so RocksDB is compiled only once.
set -euo pipefail
cd "$(dirname "$0")/../.."
. deploy/scripts/setup.sh
ensure_build_dependencies
exec cargo run -p marque -- serve "$@"
