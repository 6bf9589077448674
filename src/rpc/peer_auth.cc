#include "rpc/peer_auth.h"

#include <openssl/x509.h>

#include <algorithm>
#include <ctime>
#include <limits>
#include <optional>
#include <utility>
#include <vector>

#include <grpc/grpc_security_constants.h>

#include "security/key_files.h"

namespace sb::rpc {
namespace {

std::string Join(const std::vector<grpc::string_ref>& values) {
  std::string out;
  for (const auto& v : values) out.append(v.data(), v.size());
  return out;
}

bool WithinValidity(X509* cert, std::time_t now) {
  return X509_cmp_time(X509_get0_notBefore(cert), &now) <= 0 &&
         X509_cmp_time(X509_get0_notAfter(cert), &now) >= 0;
}

// security::VerifyPeerCertificate says why in words; the metric needs a
// category. Re-derive it from the certificates rather than from the text, so
// a reworded message cannot move a rejection to another label. A chain that
// does not lead to the CA is wrong_ca whatever else is wrong with it.
RejectReason Classify(std::string_view ca_pem, std::string_view chain_pem,
                      security::TimePoint now) {
  auto ca = security::ParseCertificate(ca_pem);
  auto chain = security::ParseCertificates(chain_pem);
  if (!ca.ok() || !chain.ok()) return RejectReason::kWrongCa;
  X509* top = chain->back().get();
  EVP_PKEY* ca_key = X509_get0_pubkey(ca->get());
  if (ca_key == nullptr || X509_check_issued(ca->get(), top) != X509_V_OK ||
      X509_verify(top, ca_key) != 1)
    return RejectReason::kWrongCa;
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  for (const auto& cert : *chain)
    if (!WithinValidity(cert.get(), t)) return RejectReason::kExpired;
  if (!WithinValidity(ca->get(), t)) return RejectReason::kExpired;
  return RejectReason::kBadSan;
}

Status AuthError(std::string message) {
  return Status::Error(security::kSqlstateInvalidAuthorization, std::move(message));
}

}  // namespace

const char* RejectReasonLabel(RejectReason reason) {
  switch (reason) {
    case RejectReason::kNone:
      return "none";
    case RejectReason::kWrongCa:
      return "wrong_ca";
    case RejectReason::kExpired:
      return "expired";
    case RejectReason::kNoCert:
      return "no_cert";
    case RejectReason::kNotMember:
      return "not_member";
    case RejectReason::kPlaintext:
      return "plaintext";
    case RejectReason::kBadSan:
      return "bad_san";
  }
  return "unknown";
}

void DeclareRpcMetrics(observability::Registry& registry) {
  registry.DeclareCounter(kRejectedConnectionsMetric,
                          "Node-to-node connections and calls refused, by reason.");
}

PeerAuthenticator::PeerAuthenticator(PeerAuthOptions options) : options_(std::move(options)) {
  if (options_.registry != nullptr) DeclareRpcMetrics(*options_.registry);
}

security::TimePoint PeerAuthenticator::Now() const {
  return options_.clock ? options_.clock() : std::chrono::system_clock::now();
}

bool PeerAuthenticator::IsMember(const Uuid& node) const {
  return !options_.is_member || options_.is_member(node);
}

void PeerAuthenticator::CountRejection(RejectReason reason) const {
  if (options_.registry == nullptr || reason == RejectReason::kNone) return;
  options_.registry->Increment(kRejectedConnectionsMetric, {{"reason", RejectReasonLabel(reason)}});
}

PeerVerdict PeerAuthenticator::Reject(RejectReason reason, Status status) const {
  CountRejection(reason);
  PeerVerdict v;
  v.reason = reason;
  v.status = std::move(status);
  return v;
}

namespace {

// The span in which every certificate of the chain and the CA is valid.
bool ValiditySpan(std::string_view ca_pem, std::string_view chain_pem, std::time_t* from,
                  std::time_t* until) {
  auto ca = security::ParseCertificate(ca_pem);
  auto chain = security::ParseCertificates(chain_pem);
  if (!ca.ok() || !chain.ok()) return false;
  *from = std::numeric_limits<std::time_t>::min();
  *until = std::numeric_limits<std::time_t>::max();
  auto widen = [&](X509* cert) {
    std::tm before{}, after{};
    if (ASN1_TIME_to_tm(X509_get0_notBefore(cert), &before) != 1 ||
        ASN1_TIME_to_tm(X509_get0_notAfter(cert), &after) != 1)
      return false;
    *from = std::max(*from, timegm(&before));
    *until = std::min(*until, timegm(&after));
    return true;
  };
  for (const auto& cert : *chain)
    if (!widen(cert.get())) return false;
  return widen(ca->get());
}

}  // namespace

PeerVerdict PeerAuthenticator::CheckCertificate(std::string_view chain_pem,
                                                bool check_membership) const {
  if (chain_pem.empty())
    return Reject(RejectReason::kNoCert, AuthError("peer presented no certificate"));
  security::TimePoint now = Now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  // Verifying a chain (PEM decoding, OpenSSL 3's algorithm lookups, an ECDSA
  // check) cost about a millisecond per call, which made every node-to-node
  // call that slow. A chain that verified is remembered with the span in which
  // it stays valid; membership is still asked on every call.
  std::optional<security::NodeIdentity> cached;
  {
    std::lock_guard<std::mutex> lock(cache_mu_);
    auto it = verified_.find(std::string(chain_pem));
    if (it != verified_.end() && t >= it->second.valid_from && t <= it->second.valid_until)
      cached = it->second.identity;
  }
  Result<security::NodeIdentity> id =
      cached ? Result<security::NodeIdentity>(*cached)
             : security::VerifyPeerCertificate(options_.ca_cert_pem, chain_pem, now);
  if (!id.ok()) return Reject(Classify(options_.ca_cert_pem, chain_pem, now), id.status());
  if (!cached) {
    VerifiedChain entry{*id, 0, 0};
    if (ValiditySpan(options_.ca_cert_pem, chain_pem, &entry.valid_from, &entry.valid_until)) {
      std::lock_guard<std::mutex> lock(cache_mu_);
      if (verified_.size() >= kMaxVerifiedChains) verified_.clear();  // a crude bound
      verified_.emplace(std::string(chain_pem), entry);
    }
  }
  if (check_membership && !IsMember(id->node_id))
    return Reject(RejectReason::kNotMember,
                  AuthError("peer node " + id->node_id.ToString() +
                            " is not a member of this cluster's configuration"));
  PeerVerdict v;
  v.identity = *id;
  return v;
}

PeerVerdict PeerAuthenticator::CheckCall(const grpc::AuthContext& auth,
                                         bool allow_non_members) const {
  std::string type = Join(auth.FindPropertyValues(GRPC_TRANSPORT_SECURITY_TYPE_PROPERTY_NAME));
  if (type != GRPC_SSL_TRANSPORT_SECURITY_TYPE && type != GRPC_TLS_TRANSPORT_SECURITY_TYPE)
    return Reject(RejectReason::kPlaintext,
                  AuthError("node-to-node calls must use mutually authenticated TLS"));
  std::string leaf = Join(auth.FindPropertyValues(GRPC_X509_PEM_CERT_PROPERTY_NAME));
  if (leaf.empty())
    return Reject(RejectReason::kNoCert, AuthError("peer presented no certificate"));
  // The chain property holds the intermediates, and on some paths the leaf
  // as well; VerifyPeerCertificate wants leaf first, then the rest.
  std::string chain = Join(auth.FindPropertyValues(GRPC_X509_PEM_CERT_CHAIN_PROPERTY_NAME));
  if (chain.rfind(leaf, 0) != 0) chain = leaf + chain;
  return CheckCertificate(chain, !allow_non_members);
}

grpc::Status ToGrpcStatus(const PeerVerdict& verdict) {
  if (verdict.ok()) return grpc::Status::OK;
  grpc::StatusCode code = verdict.reason == RejectReason::kNotMember
                              ? grpc::StatusCode::PERMISSION_DENIED
                              : grpc::StatusCode::UNAUTHENTICATED;
  return grpc::Status(code, verdict.status.message());
}

}  // namespace sb::rpc
