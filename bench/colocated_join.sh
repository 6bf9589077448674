#!/usr/bin/env bash
# Issue 3 benchmark 2: a co-located join (both tables sharded by customer_id,
# joined on it) + GROUP BY over 1M order rows in 16 shards, vs the same query
# on one plain SQLite file (sqlite3 CLI), side by side.
# Usage: bench/colocated_join.sh [orders] [customers] [repetitions]
source "$(dirname "$0")/lib.sh"
ORDERS=${1:-1000000}
CUSTOMERS=${2:-100000}
REPS=${3:-5}
start_scratchbird
seq 1 "$CUSTOMERS" | awk '{print $1 "\t" $1 % 20}' > "$WORK/customers.tsv"
seq 1 "$ORDERS" | awk -v c="$CUSTOMERS" '{print ($1 * 7919) % c + 1 "\t" $1 "\t" $1 % 1000}' > "$WORK/orders.tsv"
psql -X -q -v ON_ERROR_STOP=1 "$SB_URL" \
  -c 'CREATE TABLE customers (customer_id bigint PRIMARY KEY, region integer) SHARD BY HASH (customer_id)' \
  -c 'CREATE TABLE orders (customer_id bigint, order_id bigint, amount integer, PRIMARY KEY (customer_id, order_id)) SHARD BY HASH (customer_id)' \
  -c "\\copy customers FROM '$WORK/customers.tsv'" -c "\\copy orders FROM '$WORK/orders.tsv'"
sqlite3 "$WORK/plain.db" <<SQL
PRAGMA journal_mode=WAL;
CREATE TABLE customers (customer_id INTEGER PRIMARY KEY, region INTEGER);
CREATE TABLE orders (customer_id INTEGER, order_id INTEGER, amount INTEGER, PRIMARY KEY (customer_id, order_id));
.mode tabs
.import $WORK/customers.tsv customers
.import $WORK/orders.tsv orders
SQL
QUERY='SELECT c.region, count(*), sum(o.amount) FROM customers c JOIN orders o ON o.customer_id = c.customer_id GROUP BY c.region ORDER BY c.region'
if ! diff <(psql -X -A -t "$SB_URL" -c "$QUERY") <(sqlite3 -separator '|' "$WORK/plain.db" "$QUERY;") >/dev/null; then
  echo "co-located join results differ between ScratchBird and SQLite" >&2
  exit 1
fi
psql -X -q "$SB_URL" -c "EXPLAIN $QUERY" | grep -q "Join: co-located" || { echo "the join was not co-located" >&2; exit 1; }
sb_times=(); lite_times=()
for _ in $(seq 1 "$REPS"); do
  sb_times+=($(psql -X -q "$SB_URL" -c '\timing on' -c "$QUERY" | grep -E '^Time:' | sed -E 's/Time: ([0-9.]+) ms.*/\1/'))
  lite_times+=($( (echo '.timer on'; echo "$QUERY;") | sqlite3 "$WORK/plain.db" | grep -E '^Run Time' | \
      sed -E 's/Run Time: real ([0-9.]+).*/\1/' | awk '{print $1 * 1000}'))
done
SB_MS=$(median "${sb_times[@]}")
LITE_MS=$(median "${lite_times[@]}")
echo "co-located join + GROUP BY, $ORDERS orders x $CUSTOMERS customers (median of $REPS): ScratchBird 16 shards $SB_MS ms, SQLite one file $LITE_MS ms, time ratio $(ratio "$SB_MS" "$LITE_MS")x"
