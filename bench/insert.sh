#!/usr/bin/env bash
# Benchmark 3: single-row INSERT in autocommit, 8 clients, durable commits
# (ScratchBird synchronous=FULL, PostgreSQL synchronous_commit=on).
# Usage: bench/insert.sh [seconds]
source "$(dirname "$0")/lib.sh"
SECS=${1:-20}
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
PG_TPS=$(run "$PG_URL" | tps_of)
SB_TPS=$(run "$SB_URL" | tps_of)
echo "single-row insert, 8 clients, ${SECS}s, durable: PostgreSQL $PG_TPS tps, ScratchBird $SB_TPS tps, ratio $(ratio "$SB_TPS" "$PG_TPS")x (bar >= 0.5x)"
