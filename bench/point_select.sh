#!/usr/bin/env bash
# Benchmark 1: point select by primary key over 1M rows, pgbench -M prepared,
# 8 clients; ScratchBird (16 shards) vs PostgreSQL 15, side by side.
# Usage: bench/point_select.sh [seconds] [rows]
source "$(dirname "$0")/lib.sh"
SECS=${1:-20}
ROWS=${2:-1000000}
start_postgres
start_scratchbird
seq 1 "$ROWS" | awk '{print $1 "\t" ($1*7)%1000 "\tv" $1}' > "$WORK/kv.tsv"
for url in "$PG_URL" "$SB_URL"; do
  psql -X -q -v ON_ERROR_STOP=1 "$url" -c 'CREATE TABLE kv (k bigint PRIMARY KEY, g integer, v text)'
  psql -X -q -v ON_ERROR_STOP=1 "$url" -c "\\copy kv FROM '$WORK/kv.tsv'"
done
psql -X -q "$PG_URL" -c 'VACUUM ANALYZE kv'
cat > "$WORK/point.sql" <<SQL
\set id random(1, $ROWS)
SELECT v FROM kv WHERE k = :id;
SQL
run() { pgbench -n -M prepared -c 8 -j 2 -T "$SECS" -f "$WORK/point.sql" "$1" 2>&1; }
PG_TPS=$(run "$PG_URL" | tps_of)
SB_TPS=$(run "$SB_URL" | tps_of)
echo "point select, $ROWS rows, 8 clients, ${SECS}s: PostgreSQL $PG_TPS tps, ScratchBird $SB_TPS tps, ratio $(ratio "$SB_TPS" "$PG_TPS")x (bar >= 0.5x)"
