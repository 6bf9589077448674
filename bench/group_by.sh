#!/usr/bin/env bash
# Benchmark 2: SELECT k, count(*), sum(v) ... GROUP BY k over 1M rows in 16
# shards vs the same query on one plain SQLite file (sqlite3 CLI), side by side.
# Usage: bench/group_by.sh [rows] [repetitions]
source "$(dirname "$0")/lib.sh"
ROWS=${1:-1000000}
REPS=${2:-5}
start_scratchbird
seq 1 "$ROWS" | awk '{print $1 "\t" $1 % 100 "\t" ($1 * 7919) % 1000}' > "$WORK/t.tsv"
psql -X -q -v ON_ERROR_STOP=1 "$SB_URL" -c 'CREATE TABLE t (id bigint PRIMARY KEY, k integer, v bigint)'
psql -X -q -v ON_ERROR_STOP=1 "$SB_URL" -c "\\copy t FROM '$WORK/t.tsv'"
sqlite3 "$WORK/plain.db" <<SQL
PRAGMA journal_mode=WAL;
CREATE TABLE t (id INTEGER PRIMARY KEY, k INTEGER, v INTEGER);
.mode tabs
.import $WORK/t.tsv t
SQL
QUERY='SELECT k, count(*), sum(v) FROM t GROUP BY k ORDER BY k'
sb_times=(); lite_times=()
for _ in $(seq 1 "$REPS"); do
  sb_times+=($(psql -X -q "$SB_URL" -c '\timing on' -c "$QUERY" | grep -E '^Time:' | sed -E 's/Time: ([0-9.]+) ms.*/\1/'))
  lite_times+=($( (echo '.timer on'; echo "$QUERY;") | sqlite3 "$WORK/plain.db" | grep -E '^Run Time' | \
      sed -E 's/Run Time: real ([0-9.]+).*/\1/' | awk '{print $1 * 1000}'))
done
SB_MS=$(median "${sb_times[@]}")
LITE_MS=$(median "${lite_times[@]}")
echo "GROUP BY over $ROWS rows (median of $REPS): ScratchBird 16 shards $SB_MS ms, SQLite one file $LITE_MS ms, time ratio $(ratio "$SB_MS" "$LITE_MS")x (bar <= 1.0x)"
