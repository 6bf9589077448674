#!/usr/bin/env bash
# Benchmark 3: single-row INSERT in autocommit, 8 clients, durable commits
# (ScratchBird synchronous=FULL with its group-commit log, PostgreSQL
# synchronous_commit=on).
# Usage: bench/insert.sh [seconds per run] [rounds]
# The two servers run in alternation, ROUNDS times each, so that a change in
# the machine's background load falls on both; the ratio is of the medians.
source "$(dirname "$0")/lib.sh"
SECS=${1:-20}
ROUNDS=${2:-3}
start_postgres
start_scratchbird --synchronous FULL
for url in "$PG_URL" "$SB_URL"; do
  psql -X -q -v ON_ERROR_STOP=1 "$url" -c 'CREATE TABLE ev (id bigint PRIMARY KEY, client int, payload text)'
done
cat > "$WORK/insert.sql" <<'SQL'
\set id random(1, 9000000000000000)
INSERT INTO ev VALUES (:id, :client_id, 'event payload');
SQL
run() { pgbench -n -M prepared -c 8 -j 2 -T "$SECS" -f "$WORK/insert.sql" "$1" 2>&1 | grep -v "^pgbench: error: client .* aborted" ; }
PG_ALL=()
SB_ALL=()
for round in $(seq 1 "$ROUNDS"); do
  PG_TPS=$(run "$PG_URL" | tps_of)
  SB_TPS=$(run "$SB_URL" | tps_of)
  PG_ALL+=("$PG_TPS")
  SB_ALL+=("$SB_TPS")
  echo "round $round: PostgreSQL $PG_TPS tps, ScratchBird $SB_TPS tps, ratio $(ratio "$SB_TPS" "$PG_TPS")x"
done
PG_MED=$(median "${PG_ALL[@]}")
SB_MED=$(median "${SB_ALL[@]}")
echo "single-row insert, 8 clients, ${SECS}s x ${ROUNDS} rounds, durable: median PostgreSQL $PG_MED tps, ScratchBird $SB_MED tps, ratio $(ratio "$SB_MED" "$PG_MED")x (bar >= 0.5x)"
