#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests of the PostgreSQL store, from Debian's
# postgresql package: initdb in DIR/data, listening on a Unix socket in DIR only (no
# TCP), trust authentication for the user "trashd". Run as root, the server runs as
# `nobody` (PostgreSQL refuses to run as root).
#   pg_cluster.sh start DIR   # (re)creates DIR and starts the server; socket dir: DIR
#   pg_cluster.sh stop DIR    # stops it and removes DIR
#   pg_cluster.sh pause DIR   # stops the server, keeping its data (a lost database)
#   pg_cluster.sh resume DIR  # starts it again on the same data
# Tests connect with "host=DIR user=trashd dbname=postgres". TRASHD_PG_EXTRA adds server
# settings, to look into a benchmark's statements, e.g.
#   TRASHD_PG_EXTRA="-c session_preload_libraries=auto_explain \
#     -c auto_explain.log_min_duration=20 -c auto_explain.log_analyze=on"
# (the server's log is DIR/server.log).
set -euo pipefail

action=${1:?start or stop}
dir=${2:?directory}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$bin/initdb" ] || { echo "pg_cluster: no initdb (install postgresql)" >&2; exit 1; }

as_server() {
  if [ "$(id -u)" -eq 0 ]; then
    setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$@"
  else
    "$@"
  fi
}

stop() {
  if [ -f "$dir/data/postmaster.pid" ]; then
    as_server "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
}

start_server() {
  # Many test stores at once (each keeps a few connections); fsync stays on, as the
  # store refuses a server without it unless a test opens it with no_sync.
  as_server "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-c listen_addresses= -k $dir -c max_connections=300 -c shared_buffers=64MB \
        ${TRASHD_PG_EXTRA:-}" \
    start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
}

case "$action" in
  start)
    stop
    mkdir -p "$dir"
    if [ "$(id -u)" -eq 0 ]; then chown nobody:nogroup "$dir"; fi
    chmod 0755 "$dir"
    as_server "$bin/initdb" -D "$dir/data" -U trashd --auth=trust -E UTF8 --no-sync \
      >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
    start_server
    echo "pg_cluster: running, socket in $dir"
    ;;
  pause)
    as_server "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    ;;
  resume)
    start_server
    ;;
  stop)
    stop
    ;;
  *)
    echo "usage: pg_cluster.sh start|stop|pause|resume DIR" >&2
    exit 2
    ;;
esac
