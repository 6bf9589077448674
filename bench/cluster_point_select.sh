#!/usr/bin/env bash
# Cluster point select: the same primary-key lookups through the node that
# owns the row's shard and through a node that does not (which reads the
# shard over gRPC from the owner). Three `scratchbird start` processes on
# 127.0.0.1 (throwaway CA, certificates and data directories), pgbench
# -M prepared, 8 clients; the two targets alternate for ROUNDS runs each and
# the ratio non-owner/owner is of the medians.
# Usage: bench/cluster_point_select.sh [seconds per run] [rounds] [rows] [keys]
source "$(dirname "$0")/lib.sh"
SECS=${1:-15}
ROUNDS=${2:-3}
ROWS=${3:-100000}
KEYS=${4:-200}

# Certificates and three nodes; lib.sh's EXIT trap stops each by its PID.
"$SB_BIN" cert create-ca --certs-dir "$WORK/ca" >/dev/null
RPC=(); SQL=()
for i in 1 2 3; do
  "$SB_BIN" cert create-node --certs-dir "$WORK/ca" --host 127.0.0.1 --out "$WORK/node$i" >/dev/null
  RPC+=("127.0.0.1:$(free_port)"); SQL+=("$(free_port)")
done
for i in 1 2 3; do
  join=(); [ "$i" -gt 1 ] && join=(--join "${RPC[0]}")
  "$SB_BIN" start --data-dir "$WORK/data$i" --certs-dir "$WORK/node$i" \
      --rpc-listen "${RPC[$((i-1))]}" --sql-listen "127.0.0.1:${SQL[$((i-1))]}" \
      --http-listen "127.0.0.1:$(free_port)" "${join[@]}" >"$WORK/node$i.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 1 150); do grep -qs ' started' "$WORK/node$i.log" && break; sleep 0.2; done
  grep -qs ' started' "$WORK/node$i.log" || { echo "node $i did not start:"; tail "$WORK/node$i.log"; exit 1; }
done
admin() { "$SB_BIN" "$@" --host "${RPC[0]}" --certs-dir "$WORK/node1"; }
admin cluster init --shards 16 >/dev/null
# Three voters, each owning shards (they spread while no table exists).
formed=""
for _ in $(seq 1 300); do
  if admin node ls 2>/dev/null | awk 'NR > 1 && $3 == "VOTER" && $4 == "ACTIVE" && $5 > 0 {n++} END {exit !(n == 3)}'; then
    formed=1; break
  fi
  sleep 0.2
done
[ -n "$formed" ] || { echo "the cluster did not form:"; admin node ls; exit 1; }

URL1="postgresql://bench@127.0.0.1:${SQL[0]}/scratchbird"
URL2="postgresql://bench@127.0.0.1:${SQL[1]}/scratchbird"
psql -X -q -v ON_ERROR_STOP=1 "$URL1" -c 'CREATE TABLE kv (k bigint PRIMARY KEY, g integer, v text)'
seq 1 "$ROWS" | awk '{print $1 "\t" ($1*7)%1000 "\tv" $1}' > "$WORK/kv.tsv"
psql -X -q -v ON_ERROR_STOP=1 "$URL1" -c "\\copy kv FROM '$WORK/kv.tsv'"
[ "$(psql -X -At "$URL2" -c 'SELECT count(*) FROM kv')" = "$ROWS" ] || { echo "row count differs on node 2"; exit 1; }

# Keys whose shard node 1 owns: the shards from `shard ls`, each candidate
# key's shard from its EXPLAIN (one psql session for all candidates).
OWNED=$(admin shard ls | awk -v rpc="${RPC[0]}" '$3 == rpc {print $1}')
[ -n "$OWNED" ] || { echo "node 1 owns no shard"; exit 1; }
STEP=$(( ROWS / (KEYS * 4) )); [ "$STEP" -ge 1 ] || STEP=1
for k in $(seq 1 "$STEP" "$ROWS" | head -$(( KEYS * 4 ))); do
  echo "\\echo KEY $k"
  echo "EXPLAIN SELECT v FROM kv WHERE k = $k;"
done > "$WORK/explain.sql"
psql -X -At -v ON_ERROR_STOP=1 "$URL1" -f "$WORK/explain.sql" > "$WORK/explain.out"
# Each EXPLAIN of a point select names exactly one shard.
awk -v owned="$OWNED" '
  BEGIN { n = split(owned, a, "\n"); for (i = 1; i <= n; i++) own[a[i]] = 1 }
  /^KEY / { key = $2; next }
  { while (match($0, /shard_[0-9]+/)) { s = substr($0, RSTART, RLENGTH); if (key != "" && (s in own)) { print key }; key = ""; $0 = substr($0, RSTART + RLENGTH) } }
' "$WORK/explain.out" | head -"$KEYS" > "$WORK/keys.txt"
NK=$(wc -l < "$WORK/keys.txt")
[ "$NK" -gt 0 ] || { echo "no key found on node 1's shards; EXPLAIN says:"; head -20 "$WORK/explain.out"; exit 1; }

FIRST=$(head -1 "$WORK/keys.txt")
echo "$NK keys on node 1's shards ($(echo $OWNED | wc -w) of 16 shards); EXPLAIN of key $FIRST through node 2:"
psql -X -At "$URL2" -c "EXPLAIN SELECT v FROM kv WHERE k = $FIRST" | sed 's/^/  /'

# pgbench script: a random one of those keys (CASE over the list), one lookup.
{
  echo "\\set i random(1, $NK)"
  printf '\\set id CASE'
  awk '{printf " WHEN :i = %d THEN %s", NR, $1}' "$WORK/keys.txt"
  echo " END"
  echo "SELECT v FROM kv WHERE k = :id;"
} > "$WORK/point.sql"

run() { pgbench -n -M prepared -c 8 -j 2 -T "$SECS" -f "$WORK/point.sql" "$1" 2>&1; }
OWN_ALL=(); NON_ALL=()
for round in $(seq 1 "$ROUNDS"); do
  OWN=$(run "$URL1" | tps_of)
  NON=$(run "$URL2" | tps_of)
  OWN_ALL+=("$OWN"); NON_ALL+=("$NON")
  echo "round $round: owner (node 1) $OWN tps, non-owner (node 2) $NON tps, ratio $(ratio "$NON" "$OWN")x"
done
OWN_MED=$(median "${OWN_ALL[@]}")
NON_MED=$(median "${NON_ALL[@]}")
echo "cluster point select, 3 nodes, $ROWS rows, $NK keys on node 1's shards, 8 clients, ${SECS}s x ${ROUNDS} rounds: median owner $OWN_MED tps, non-owner $NON_MED tps, ratio non-owner/owner $(ratio "$NON_MED" "$OWN_MED")x"
