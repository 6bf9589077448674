// gRPC core writes its own log lines to stderr. This routes them into
// spdlog and, on the way, counts the one refusal gRPC 1.51 reports nowhere
// else: a peer that speaks plaintext to a TLS port never reaches a
// certificate verifier or a call, so the only trace is the TLS stack's
// "Handshake failed ... wrong version number" line. Matching log text is
// brittle across gRPC releases; Debian 12 pins 1.51, and the test in
// server_test.cc fails if the text moves.
#pragma once

#include "observability/metrics.h"

namespace sb::rpc {

// Process-wide (gRPC has one log function): the node calls it once with its
// registry; nullptr stops counting but keeps the routing. The registry must
// outlive gRPC's use of it or the next call.
void InstallGrpcLogBridge(observability::Registry* registry);

}  // namespace sb::rpc
