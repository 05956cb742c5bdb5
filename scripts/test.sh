#!/usr/bin/env bash
# Runs the whole test suite on SQLite and PostgreSQL.
# Starts a throwaway PostgreSQL cluster on 127.0.0.1 when TIERDESK_TEST_PG_URL is not set and
# Debian's PostgreSQL server binaries are installed (/usr/lib/postgresql/*/bin).
set -euo pipefail
cd "$(dirname "$0")/.."

pg_dir=""
cleanup() {
  if [ -n "$pg_dir" ]; then
    su postgres -c "$pg_bin/pg_ctl -D $pg_dir/data -m immediate stop" >/dev/null 2>&1 || true
    rm -rf "$pg_dir"
  fi
}
trap cleanup EXIT

if [ -z "${TIERDESK_TEST_PG_URL:-}" ]; then
  pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -n "$pg_bin" ] && [ -x "$pg_bin/initdb" ]; then
    port=${TIERDESK_TEST_PG_PORT:-55433}
    pg_dir=$(mktemp -d /tmp/tierdesk-pg.XXXXXX)
    chmod 755 "$pg_dir"
    if [ "$(id -u)" = 0 ]; then
      chown postgres "$pg_dir"
      run_pg() { su postgres -c "$*"; }
    else
      run_pg() { bash -c "$*"; }
    fi
    run_pg "$pg_bin/initdb -D $pg_dir/data -A trust -U postgres" >/dev/null
    run_pg "$pg_bin/pg_ctl -D $pg_dir/data -l $pg_dir/log -w -o '-p $port -k $pg_dir -c listen_addresses=127.0.0.1 -c max_connections=400 -c fsync=off' start" >/dev/null
    export TIERDESK_TEST_PG_URL="postgres://postgres@127.0.0.1:$port/postgres"
    echo "test.sh: started PostgreSQL at $TIERDESK_TEST_PG_URL"
  else
    echo "test.sh: no PostgreSQL server found; PostgreSQL tests will be skipped (set TIERDESK_REQUIRE_PG=1 to fail instead)"
  fi
fi

cargo test --workspace --all-targets -- --test-threads="${TEST_THREADS:-4}"
