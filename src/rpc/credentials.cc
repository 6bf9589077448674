#include "rpc/credentials.h"

#include <string>
#include <utility>
#include <vector>

#include <grpc/grpc_security_constants.h>
#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_certificate_verifier.h>
#include <grpcpp/security/tls_credentials_options.h>

namespace sb::rpc {
namespace {

namespace gx = grpc::experimental;

// Runs PeerAuthenticator inside the handshake. Synchronous: the check is a
// few signature verifications and a membership lookup, cheaper than a hop to
// another thread.
class NodeCertificateVerifier : public gx::ExternalCertificateVerifier {
 public:
  NodeCertificateVerifier(std::shared_ptr<const PeerAuthenticator> auth,
                          std::optional<Uuid> expected_node, bool check_membership)
      : auth_(std::move(auth)),
        expected_node_(expected_node),
        check_membership_(check_membership) {}

  bool Verify(gx::TlsCustomVerificationCheckRequest* request,
              std::function<void(grpc::Status)> /*callback*/, grpc::Status* sync_status) override {
    std::string leaf(request->peer_cert().data(), request->peer_cert().size());
    std::string chain(request->peer_cert_full_chain().data(),
                      request->peer_cert_full_chain().size());
    // Servers see only the intermediates in the full chain, clients the leaf
    // as well; VerifyPeerCertificate wants leaf first, then the rest.
    if (!leaf.empty() && chain.rfind(leaf, 0) != 0) chain = leaf + chain;
    PeerVerdict verdict = auth_->CheckCertificate(chain, check_membership_);
    if (verdict.ok() && expected_node_ && verdict.identity->node_id != *expected_node_) {
      auth_->CountRejection(RejectReason::kBadSan);
      *sync_status = grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                                  "peer is node " + verdict.identity->node_id.ToString() +
                                      ", expected node " + expected_node_->ToString());
      return true;
    }
    *sync_status = ToGrpcStatus(verdict);
    return true;
  }

  void Cancel(gx::TlsCustomVerificationCheckRequest* /*request*/) override {}

 private:
  std::shared_ptr<const PeerAuthenticator> auth_;
  std::optional<Uuid> expected_node_;
  bool check_membership_;
};

// The same checks security::MakeTlsContext applies to what a node presents:
// a node certificate of the CA's cluster, and the key that belongs to it.
// gRPC would otherwise accept a mismatched pair and fail every handshake.
Status CheckOwnIdentity(const security::TlsIdentity& identity, security::TlsRole role) {
  auto ctx = security::MakeTlsContext(role, identity);
  if (!ctx.ok()) return ctx.status().Annotate("node transport credentials");
  return Status::Ok();
}

std::shared_ptr<gx::StaticDataCertificateProvider> Provider(const security::TlsIdentity& identity) {
  std::vector<gx::IdentityKeyCertPair> pairs{{identity.key_pem, identity.cert_pem}};
  return std::make_shared<gx::StaticDataCertificateProvider>(identity.ca_cert_pem, pairs);
}

}  // namespace

Result<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const security::TlsIdentity& identity, std::shared_ptr<const PeerAuthenticator> auth) {
  if (!auth) return Status::InvalidArgument("node transport: no peer authenticator");
  SB_RETURN_IF_ERROR(CheckOwnIdentity(identity, security::TlsRole::kServer));
  gx::TlsServerCredentialsOptions options(Provider(identity));
  options.watch_root_certs();
  options.watch_identity_key_cert_pairs();
  // A certificate is required (no certificate: the handshake fails); whether
  // it is acceptable is NodeCertificateVerifier's decision, see the header.
  options.set_cert_request_type(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_BUT_DONT_VERIFY);
  options.set_certificate_verifier(gx::ExternalCertificateVerifier::Create<NodeCertificateVerifier>(
      auth, std::nullopt, /*check_membership=*/false));
  auto creds = gx::TlsServerCredentials(options);
  if (!creds) return Status::Internal("node transport: gRPC refused the server TLS options");
  return creds;
}

Result<std::shared_ptr<grpc::ChannelCredentials>> MakeChannelCredentials(
    const security::TlsIdentity& identity, std::shared_ptr<const PeerAuthenticator> auth,
    std::optional<Uuid> expected_node) {
  if (!auth) return Status::InvalidArgument("node transport: no peer authenticator");
  SB_RETURN_IF_ERROR(CheckOwnIdentity(identity, security::TlsRole::kClient));
  gx::TlsChannelCredentialsOptions options;
  options.set_certificate_provider(Provider(identity));
  options.watch_root_certs();
  options.watch_identity_key_cert_pairs();
  options.set_verify_server_certs(false);
  options.set_check_call_host(false);
  options.set_certificate_verifier(gx::ExternalCertificateVerifier::Create<NodeCertificateVerifier>(
      auth, expected_node, /*check_membership=*/!expected_node.has_value()));
  auto creds = gx::TlsCredentials(options);
  if (!creds) return Status::Internal("node transport: gRPC refused the channel TLS options");
  return creds;
}

}  // namespace sb::rpc
