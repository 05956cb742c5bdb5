#!/usr/bin/env bash
# Runs the whole test suite on SQLite, and on PostgreSQL too when TIERDESK_TEST_PG_URL is set or
# Debian's PostgreSQL server is installed (a throwaway cluster is started on 127.0.0.1).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${TIERDESK_TEST_PG_URL:-}" ] && ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  pg_dir=$(mktemp -d /tmp/tierdesk-pg.XXXXXX)
  trap 'bash scripts/test-postgres.sh stop "$pg_dir"' EXIT
  TIERDESK_TEST_PG_URL=$(bash scripts/test-postgres.sh start "$pg_dir")
  export TIERDESK_TEST_PG_URL
fi
[ -n "${TIERDESK_TEST_PG_URL:-}" ] || echo "test.sh: no PostgreSQL; its tests are skipped"
cargo test --workspace --all-targets -- --test-threads="${TEST_THREADS:-4}"
