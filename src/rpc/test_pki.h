// Test-only helpers: a throwaway cluster CA and certificates issued from it,
// plus gRPC credentials that present any certificate and trust any server,
// to play a peer that is not one of ours.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/security/credentials.h>
#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_certificate_verifier.h>
#include <grpcpp/security/tls_credentials_options.h>

#include "common/uuid.h"
#include "security/certificates.h"
#include "security/tls_context.h"

namespace sb::rpc::testing {

inline security::TimePoint Now() {
  return std::chrono::system_clock::now();
}

inline Uuid NewUuid() {
  return *Uuid::GenerateV7();
}

struct TestCluster {
  security::CertificateAuthority ca;

  static TestCluster Create() {
    auto ca = security::CreateCertificateAuthority(
        NewUuid(), security::Validity::Starting(Now(), security::kCaLifetime));
    EXPECT_TRUE(ca.ok()) << ca.status().ToString();
    return TestCluster{*ca};
  }

  security::TlsIdentity Node(const Uuid& node_id,
                             security::Validity validity = security::Validity::Starting(
                                 Now(), security::kNodeLifetime)) const {
    auto cert = security::IssueNodeCertificate(ca, node_id, {"127.0.0.1"}, validity);
    EXPECT_TRUE(cert.ok()) << cert.status().ToString();
    return security::TlsIdentity{ca.cert_pem, cert->cert_pem, cert->key_pem};
  }

  // A certificate of this CA that is not a node's (a client's user URI).
  security::TlsIdentity Client(const std::string& user) const {
    auto cert = security::IssueClientCertificate(
        ca, user, security::Validity::Starting(Now(), security::kClientLifetime));
    EXPECT_TRUE(cert.ok()) << cert.status().ToString();
    return security::TlsIdentity{ca.cert_pem, cert->cert_pem, cert->key_pem};
  }
};

// Validity that ended a day ago.
inline security::Validity Expired() {
  return security::Validity{Now() - std::chrono::hours(48), Now() - std::chrono::hours(24)};
}

// TLS client credentials that present `identity`'s certificate and accept
// any server: what a peer outside our rules would use. The server's
// refusal is then the only thing that can fail the call.
inline std::shared_ptr<grpc::ChannelCredentials> RogueCredentials(
    const security::TlsIdentity& identity) {
  namespace gx = grpc::experimental;
  std::vector<gx::IdentityKeyCertPair> pairs{{identity.key_pem, identity.cert_pem}};
  gx::TlsChannelCredentialsOptions options;
  options.set_certificate_provider(std::make_shared<gx::StaticDataCertificateProvider>(pairs));
  options.watch_identity_key_cert_pairs();
  options.set_verify_server_certs(false);
  options.set_check_call_host(false);
  options.set_certificate_verifier(std::make_shared<gx::NoOpCertificateVerifier>());
  return gx::TlsCredentials(options);
}

}  // namespace sb::rpc::testing
