#!/usr/bin/env bash
# Issue 5 benchmark: cluster-state commits per second and p50/p99 latency on a
# 3-member group, ScratchBird's Raft (three members over the mTLS gRPC node
# transport, real fsync, 16-byte commands) side by side with a 3-member etcd
# cluster (Debian etcd-server, small puts through its HTTP/JSON gateway), with
# 1 and 64 concurrent proposers spread over the three members.
# Usage: bench/cluster_commit.sh [seconds per run] [rounds]
source "$(dirname "$0")/lib.sh"
SECS=${1:-10}
ROUNDS=${2:-3}
BENCH=${BENCH:-$ROOT/build/release/bench/raft/sb_cluster_commit_bench}
ETCD=${ETCD:-$(command -v etcd)}

# Three etcd members on 127.0.0.1, each stopped by its PID at exit.
CLUSTER=""; CLIENTS=(); PEERS=()
for i in 1 2 3; do
  CLIENTS+=($(free_port)); PEERS+=($(free_port))
  CLUSTER+="${CLUSTER:+,}e$i=http://127.0.0.1:${PEERS[$((i-1))]}"
done
for i in 1 2 3; do
  "$ETCD" --name "e$i" --data-dir "$WORK/etcd$i" \
      --listen-client-urls "http://127.0.0.1:${CLIENTS[$((i-1))]}" \
      --advertise-client-urls "http://127.0.0.1:${CLIENTS[$((i-1))]}" \
      --listen-peer-urls "http://127.0.0.1:${PEERS[$((i-1))]}" \
      --initial-advertise-peer-urls "http://127.0.0.1:${PEERS[$((i-1))]}" \
      --initial-cluster "$CLUSTER" --initial-cluster-state new \
      --initial-cluster-token sb-bench >"$WORK/etcd$i.log" 2>&1 &
  PIDS+=($!)
done
ENDPOINTS="127.0.0.1:${CLIENTS[0]},127.0.0.1:${CLIENTS[1]},127.0.0.1:${CLIENTS[2]}"
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:${CLIENTS[0]}/health" | grep -q '"true"' && break
  sleep 0.2
done

field() { sed -E "s/.* $1=([0-9.]+).*/\1/"; }
# Rounds alternate which system runs first, so a slow minute of the shared
# disk (every commit is an fsync) falls on both; the ratio is of the medians.
for P in 1 64; do
  E_ALL=(); S_ALL=()
  for r in $(seq 1 "$ROUNDS"); do
    run_etcd() { "$BENCH" --mode etcd --endpoints "$ENDPOINTS" --proposers "$P" --seconds "$SECS"; }
    run_sb() { "$BENCH" --mode scratchbird --dir "$WORK/sb-raft-$P-$r" --proposers "$P" --seconds "$SECS"; }
    if (( r % 2 )); then E=$(run_etcd); S=$(run_sb); else S=$(run_sb); E=$(run_etcd); fi
    echo "round $r etcd        $E"
    echo "round $r ScratchBird $S"
    E_ALL+=("$(echo "$E" | field ops_per_sec)"); S_ALL+=("$(echo "$S" | field ops_per_sec)")
  done
  E_MED=$(median "${E_ALL[@]}"); S_MED=$(median "${S_ALL[@]}")
  echo "$P proposer(s), ${SECS}s x ${ROUNDS} rounds: median ScratchBird $S_MED commits/s vs etcd $E_MED, ratio $(ratio "$S_MED" "$E_MED")x (bar with 1 proposer: >= 1.0x)"
done
