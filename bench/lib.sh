# Shared helpers for the benchmark scripts: start/stop a throwaway PostgreSQL
# 15 and a ScratchBird node on 127.0.0.1, each stopped by its PID.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SB_BIN=${SB_BIN:-$ROOT/build/release/scratchbird}
PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)}
WORK=$(mktemp -d /tmp/sb-bench-XXXXXX)
PIDS=()

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

cleanup() {
  if [ -n "${PG_STOP:-}" ]; then $PG_STOP >/dev/null 2>&1 || true; fi
  # SIGINT is a fast shutdown for PostgreSQL and a clean one for ScratchBird.
  for pid in "${PIDS[@]:-}"; do [ -n "$pid" ] && kill -INT "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]:-}"; do
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# PostgreSQL 15 as the current user (or as 'postgres' when running as root).
start_postgres() {
  PG_PORT=$(free_port)
  local run=""
  if [ "$(id -u)" -eq 0 ]; then chown -R postgres "$WORK"; run="runuser -u postgres --"; fi
  $run "$PG_BIN/initdb" -D "$WORK/pg" -A trust -U postgres >/dev/null
  $run "$PG_BIN/pg_ctl" -D "$WORK/pg" -l "$WORK/pg.log" -w -o "-p $PG_PORT -k $WORK \
      -c listen_addresses=127.0.0.1 -c synchronous_commit=on -c fsync=on -c shared_buffers=512MB \
      -c max_connections=100" start >/dev/null
  PG_STOP="$run $PG_BIN/pg_ctl -D $WORK/pg -m fast -w stop"
  PIDS+=($(head -1 "$WORK/pg/postmaster.pid"))
  for _ in $(seq 1 100); do
    "$PG_BIN/pg_isready" -h 127.0.0.1 -p "$PG_PORT" -q && break
    sleep 0.2
  done
  PG_URL="postgresql://postgres@127.0.0.1:$PG_PORT/postgres"
}

start_scratchbird() {
  SB_PORT=$(free_port)
  local http; http=$(free_port)
  "$SB_BIN" start-single-node --data-dir "$WORK/sb" --sql-listen "127.0.0.1:$SB_PORT" \
      --http-listen "127.0.0.1:$http" "$@" >"$WORK/sb.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 1 100); do
    "$PG_BIN/pg_isready" -h 127.0.0.1 -p "$SB_PORT" -q 2>/dev/null && break
    psql -X -q "postgresql://bench@127.0.0.1:$SB_PORT/scratchbird" -c 'SELECT 1' >/dev/null 2>&1 && break
    sleep 0.2
  done
  SB_URL="postgresql://bench@127.0.0.1:$SB_PORT/scratchbird"
}

# pgbench TPS (excluding connection time) from its output.
tps_of() {
  local out; out=$(cat)
  local tps; tps=$(echo "$out" | grep -E '^tps = ' | sed -E 's/^tps = ([0-9.]+).*/\1/' | head -1)
  if [ -z "$tps" ]; then echo "$out" | tail -5 >&2; echo 0; else echo "$tps"; fi
}
# The median of the arguments (numbers).
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
ratio() { python3 -c "print(f'{float($1)/float($2):.2f}')"; }
