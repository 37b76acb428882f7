#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests and benchmarks, owned by this run.
#
#   scripts/pg-test.sh COMMAND [ARGS...]   start a server, run COMMAND with
#                                          SHELFDESK_TEST_DATABASE_URL set, stop and remove the server
#   scripts/pg-test.sh                     start a server, print its URL, keep it until Ctrl-C
#
# The server's data, socket and log live in one temporary folder that is removed
# on exit, whatever happens. It listens on 127.0.0.1 only, on a free port, with a
# random password, and runs with fsync off: it holds test data, nothing to keep.
# PostgreSQL is installed from the system's packages (apt) when missing; as root
# the server runs as the `postgres` user the package creates (initdb refuses root).
set -euo pipefail

log() { echo "pg-test: $*" >&2; }

find_bindir() {
  local dir
  if command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ]; then
    pg_config --bindir; return 0
  fi
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    [ -x "$dir/initdb" ] && { echo "$dir"; return 0; }
  done
  command -v initdb >/dev/null 2>&1 && { dirname "$(command -v initdb)"; return 0; }
  return 1
}

bindir=$(find_bindir || true)
if [ -z "$bindir" ]; then
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    log "PostgreSQL is not installed and this user cannot install it: install the 'postgresql' package (apt-get install postgresql)"
    exit 2
  fi
  log "installing PostgreSQL from the system's packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2 && apt-get install -y -qq postgresql >&2
  bindir=$(find_bindir) || { log "PostgreSQL installed but initdb not found"; exit 2; }
fi

run_as=()
if [ "$(id -u)" -eq 0 ]; then
  id postgres >/dev/null 2>&1 || { log "running as root needs a 'postgres' user to own the server"; exit 2; }
  run_as=(runuser -u postgres --)
fi

root=$(mktemp -d "${TMPDIR:-/tmp}/shelfdesk-pg.XXXXXX")
chmod 700 "$root"
[ ${#run_as[@]} -gt 0 ] && chown postgres: "$root"
data="$root/data"

cleanup() {
  local status=$?
  if [ -f "$data/postmaster.pid" ]; then
    "${run_as[@]}" "$bindir/pg_ctl" -D "$data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$root"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
password=$(python3 -c 'import secrets; print(secrets.token_urlsafe(18))')
printf '%s\n' "$password" > "$root/pwfile"
[ ${#run_as[@]} -gt 0 ] && chown postgres: "$root/pwfile"

"${run_as[@]}" "$bindir/initdb" -D "$data" -U shelfdesk --pwfile="$root/pwfile" --auth=scram-sha-256 \
  -E UTF8 --locale=C.UTF-8 >"$root/initdb.log" 2>&1 || { cat "$root/initdb.log" >&2; exit 2; }
rm -f "$root/pwfile"
# Test settings: nothing here is worth an fsync; enough connections for parallel
# test workers, each opening a pool and starting worker subprocesses.
"${run_as[@]}" "$bindir/pg_ctl" -D "$data" -l "$root/server.log" -w -t 60 start -o \
  "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$root -c max_connections=${PG_TEST_MAX_CONNECTIONS:-300} \
   -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c shared_buffers=64MB" >/dev/null \
  || { cat "$root/server.log" >&2; exit 2; }

export SHELFDESK_TEST_DATABASE_URL="postgresql+psycopg://shelfdesk:${password}@127.0.0.1:${port}/postgres"
export SHELFDESK_TEST_PG_DATA="$data" SHELFDESK_TEST_PG_BINDIR="$bindir"
log "$("$bindir/postgres" --version | cut -d" " -f2-) on 127.0.0.1:$port (data in $root, removed at exit)"

if [ $# -eq 0 ]; then
  echo "SHELFDESK_TEST_DATABASE_URL=$SHELFDESK_TEST_DATABASE_URL"
  log "Ctrl-C stops and removes the server"
  while true; do sleep 3600; done
fi
set +e
"$@"
status=$?
set -e
exit "$status"
