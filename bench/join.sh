#!/usr/bin/env bash
# Issue 3 benchmark 1: a join of two tables that are NOT co-located (big is
# sharded by id, small by its own key), so the coordinator gathers both sides
# and joins them; vs the same join in PostgreSQL 15, side by side.
# Usage: bench/join.sh [big_rows] [small_rows] [repetitions]
source "$(dirname "$0")/lib.sh"
BIG=${1:-1000000}
SMALL=${2:-100000}
REPS=${3:-3}
start_postgres
start_scratchbird
seq 1 "$BIG" | awk -v s="$SMALL" '{print $1 "\t" ($1 * 7919) % s + 1 "\t" $1 % 1000}' > "$WORK/big.tsv"
seq 1 "$SMALL" | awk '{print $1 "\t" $1 % 50}' > "$WORK/small.tsv"
for url in "$PG_URL" "$SB_URL"; do
  psql -X -q -v ON_ERROR_STOP=1 "$url" \
    -c 'CREATE TABLE big (id bigint PRIMARY KEY, small_id bigint, v integer)' \
    -c 'CREATE TABLE small (sid bigint PRIMARY KEY, grp integer)' \
    -c "\\copy big FROM '$WORK/big.tsv'" -c "\\copy small FROM '$WORK/small.tsv'"
done
psql -X -q "$PG_URL" -c 'ANALYZE big' -c 'ANALYZE small'
QUERY='SELECT s.grp, count(*), sum(b.v) FROM big b JOIN small s ON s.sid = b.small_id GROUP BY s.grp ORDER BY s.grp'
# Same answer from both, or the timing means nothing.
if ! diff <(psql -X -A -t "$PG_URL" -c "$QUERY") <(psql -X -A -t "$SB_URL" -c "$QUERY") >/dev/null; then
  echo "join results differ between PostgreSQL and ScratchBird" >&2
  exit 1
fi
time_of() { psql -X -q "$1" -c '\timing on' -c "$QUERY" | grep -E '^Time:' | sed -E 's/Time: ([0-9.]+) ms.*/\1/'; }
pg_times=(); sb_times=()
for _ in $(seq 1 "$REPS"); do
  pg_times+=($(time_of "$PG_URL"))
  sb_times+=($(time_of "$SB_URL"))
done
PG_MS=$(median "${pg_times[@]}")
SB_MS=$(median "${sb_times[@]}")
echo "coordinator join ${BIG} x ${SMALL} rows + GROUP BY (median of $REPS): PostgreSQL $PG_MS ms, ScratchBird $SB_MS ms, time ratio $(ratio "$SB_MS" "$PG_MS")x"
