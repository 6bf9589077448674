// Who is on the other end of a node-to-node connection, and may they talk to
// us. One PeerAuthenticator serves three places: the TLS handshake on both
// sides (credentials.h) and every incoming call (server.cc), because the
// handshake cannot know the method — the join RPC must admit nodes that are
// not members yet — and a certificate can expire on a long-lived connection.
//
// Every refusal increments
//   scratchbird_rpc_rejected_connections_total{reason="..."}
// with one of the RejectReason labels below.
#pragma once

#include <chrono>
#include <ctime>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include <grpcpp/security/auth_context.h>
#include <grpcpp/support/status.h>

#include "common/status.h"
#include "common/uuid.h"
#include "observability/metrics.h"
#include "security/certificates.h"

namespace sb::rpc {

inline constexpr const char* kRejectedConnectionsMetric =
    "scratchbird_rpc_rejected_connections_total";

enum class RejectReason {
  kNone,
  kWrongCa,    // chain does not lead to this cluster's CA
  kExpired,    // outside its validity period (or not yet valid)
  kNoCert,     // TLS without a peer certificate
  kNotMember,  // a node of this cluster, but not in the current configuration
  kPlaintext,  // no TLS at all
  kBadSan,     // no well-formed node URI of this cluster, or not the node dialed
};
// The metric label value: "wrong_ca", "expired", ...
const char* RejectReasonLabel(RejectReason reason);

// Declares the rpc layer's metric families (idempotent).
void DeclareRpcMetrics(observability::Registry& registry);

struct PeerAuthOptions {
  std::string ca_cert_pem;  // the cluster CA: the only trust anchor
  // Whether a node of this cluster is in the current configuration. Unset
  // means every node with a valid certificate is.
  std::function<bool(const Uuid& node)> is_member;
  observability::Registry* registry = nullptr;  // not owned; may be null
  std::function<security::TimePoint()> clock;   // default: system_clock
};

struct PeerVerdict {
  std::optional<security::NodeIdentity> identity;  // set when accepted
  RejectReason reason = RejectReason::kNone;
  Status status;  // SQLSTATE 28000 and why, when rejected
  bool ok() const { return identity.has_value(); }
};

class PeerAuthenticator {
 public:
  explicit PeerAuthenticator(PeerAuthOptions options);

  // Chain (leaf first, PEM), validity and node SAN of a presented
  // certificate; membership when check_membership. Counts rejections.
  PeerVerdict CheckCertificate(std::string_view chain_pem, bool check_membership) const;

  // CheckCertificate for the peer of an incoming call. Rejections map to
  // UNAUTHENTICATED (no TLS, no or bad certificate) and PERMISSION_DENIED
  // (not a member). allow_non_members is for the join handshake.
  PeerVerdict CheckCall(const grpc::AuthContext& auth, bool allow_non_members) const;

  // Counts a refusal observed elsewhere.
  void CountRejection(RejectReason reason) const;

  const std::string& ca_cert_pem() const { return options_.ca_cert_pem; }
  bool IsMember(const Uuid& node) const;
  security::TimePoint Now() const;

 private:
  PeerVerdict Reject(RejectReason reason, Status status) const;

  PeerAuthOptions options_;
  // Chains that verified, by their PEM text, with the span (unix seconds) in
  // which all of them and the CA are valid.
  struct VerifiedChain {
    security::NodeIdentity identity;
    std::time_t valid_from;
    std::time_t valid_until;
  };
  static constexpr size_t kMaxVerifiedChains = 1024;
  mutable std::mutex cache_mu_;
  mutable std::unordered_map<std::string, VerifiedChain> verified_;
};

// The gRPC status a rejected verdict answers a call with.
grpc::Status ToGrpcStatus(const PeerVerdict& verdict);

}  // namespace sb::rpc
