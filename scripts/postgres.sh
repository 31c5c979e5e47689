#!/usr/bin/env bash
# Start a PostgreSQL server for ragseal's tests and print its URL (stdout, one line).
#
#   scripts/postgres.sh            install (Debian's package) if absent, start, print the URL
#   scripts/postgres.sh stop       stop the server this script started
#
# The cluster lives in a folder of its own (RAGSEAL_PG_DIR, default
# /var/tmp/ragseal-pg), owned by the `postgres` user, listening on 127.0.0.1
# only (RAGSEAL_PG_PORT, default 54329) and on a socket in that folder. It is
# idempotent: a running server is reused. A test role and database
# (ragseal_test) are created once. The password is a fixed test value: this
# server is for tests on this machine, never for data.
set -euo pipefail
DIR="${RAGSEAL_PG_DIR:-/var/tmp/ragseal-pg}"
PORT="${RAGSEAL_PG_PORT:-54329}"
ROLE=ragseal_test
DB=ragseal_test
PASS=ragseal-test-only
URL="postgresql://${ROLE}:${PASS}@127.0.0.1:${PORT}/${DB}"

say() { echo "scripts/postgres.sh: $*" >&2; }

pg_bin() {
  local found
  found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
  [[ -n "$found" ]] && echo "$found"
}

if [[ -z "$(pg_bin)" ]]; then
  [[ $(id -u) -eq 0 ]] || { say "PostgreSQL is not installed; run as root or apt-get install postgresql"; exit 1; }
  say "installing Debian's postgresql"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >&2
fi
BIN="$(pg_bin)"
as_pg() {
  if [[ $(id -un) == postgres ]]; then "$@"; else runuser -u postgres -- "$@"; fi
}

if [[ "${1:-}" == "stop" ]]; then
  [[ -f "$DIR/data/postmaster.pid" ]] && as_pg "$BIN/pg_ctl" -D "$DIR/data" -m fast -w stop >&2
  exit 0
fi

mkdir -p "$DIR"
chown postgres:postgres "$DIR" 2>/dev/null || true
chmod 0700 "$DIR"
if [[ ! -f "$DIR/data/PG_VERSION" ]]; then
  say "initdb in $DIR/data"
  as_pg "$BIN/initdb" -D "$DIR/data" -U postgres --auth-local=peer --auth-host=scram-sha-256 \
    -E UTF8 --locale=C.UTF-8 >/dev/null
fi
if ! as_pg "$BIN/pg_ctl" -D "$DIR/data" status >/dev/null 2>&1; then
  as_pg "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $PORT -k $DIR -c max_connections=200 -c fsync=off" \
    start >&2 || { say "the server did not start; see $DIR/server.log"; tail -20 "$DIR/server.log" >&2; exit 1; }
fi
psql_pg() { as_pg "$BIN/psql" -h "$DIR" -p "$PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -qtA "$@"; }
if [[ "$(psql_pg -c "SELECT 1 FROM pg_roles WHERE rolname = '$ROLE'")" != 1 ]]; then
  psql_pg -c "CREATE ROLE $ROLE LOGIN PASSWORD '$PASS'" >&2
fi
if [[ "$(psql_pg -c "SELECT 1 FROM pg_database WHERE datname = '$DB'")" != 1 ]]; then
  psql_pg -c "CREATE DATABASE $DB OWNER $ROLE" >&2
fi
echo "$URL"
