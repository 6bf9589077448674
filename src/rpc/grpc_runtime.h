// Process-wide settings of the libraries under gRPC, applied once before the
// first server or channel is made.
#pragma once

namespace sb::rpc {

// Debian 12 builds Abseil without NDEBUG, so every absl::Mutex that gRPC
// takes also records lock-order edges for deadlock detection: measurable
// CPU on every RPC (GraphCycles::InsertEdge and friends in the profiles of
// bench/cluster_point_select.sh). It is a debugging aid that only logs;
// turning it off changes no behaviour. Idempotent and thread-safe.
void ConfigureGrpcRuntime();

}  // namespace sb::rpc
