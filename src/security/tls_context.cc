#include "security/tls_context.h"

#include <chrono>
#include <cstring>

namespace sb::security {
namespace {

// Index of the per-connection slot that holds why our verify callback
// rejected the peer; OpenSSL itself would only say "application
// verification failure".
void FreeReason(void*, void* ptr, CRYPTO_EX_DATA*, int, long, void*) {
  delete static_cast<std::string*>(ptr);
}

int ReasonIndex() {
  static const int index =
      CRYPTO_get_ex_new_index(CRYPTO_EX_INDEX_SSL, 0, nullptr, nullptr, nullptr, FreeReason);
  return index;
}

void RecordReason(X509_STORE_CTX* store_ctx, const std::string& reason) {
  auto* ssl = static_cast<SSL*>(
      X509_STORE_CTX_get_ex_data(store_ctx, SSL_get_ex_data_X509_STORE_CTX_idx()));
  if (ssl == nullptr || ReasonIndex() < 0) return;
  delete static_cast<std::string*>(SSL_get_ex_data(ssl, ReasonIndex()));
  SSL_set_ex_data(ssl, ReasonIndex(), new std::string(reason));
}

// Runs after OpenSSL's own chain, signature and validity checks: the leaf
// must name a node of the cluster whose CA anchors the chain.
int VerifyNodePeer(int preverify_ok, X509_STORE_CTX* store_ctx) {
  if (preverify_ok != 1) {
    int err = X509_STORE_CTX_get_error(store_ctx);
    RecordReason(store_ctx, "peer certificate rejected: " + DescribeVerifyError(err));
    return 0;
  }
  if (X509_STORE_CTX_get_error_depth(store_ctx) != 0) return 1;
  X509* leaf = X509_STORE_CTX_get_current_cert(store_ctx);
  STACK_OF(X509)* chain = X509_STORE_CTX_get0_chain(store_ctx);
  X509* anchor = chain ? sk_X509_value(chain, sk_X509_num(chain) - 1) : nullptr;
  Status st;
  if (leaf == nullptr || anchor == nullptr) {
    st = Status::Internal("no certificate chain to check");
  } else if (auto cluster = ReadCaClusterId(anchor); !cluster.ok()) {
    st = cluster.status();
  } else if (auto id = ReadNodeIdentity(leaf); !id.ok()) {
    st = id.status();
  } else if (id->cluster_id != *cluster) {
    st = Status::Error(kSqlstateInvalidAuthorization,
                       "certificate is for cluster " + id->cluster_id.ToString() +
                           ", not this cluster " + cluster->ToString());
  }
  if (st.ok()) return 1;
  DrainOpenSslErrors();
  RecordReason(store_ctx, "peer certificate rejected: " + st.message());
  X509_STORE_CTX_set_error(store_ctx, X509_V_ERR_APPLICATION_VERIFICATION);
  return 0;
}

constexpr unsigned char kSessionIdContext[] = "scratchbird-node";

}  // namespace

Result<SslCtxPtr> MakeTlsContext(TlsRole role, const TlsIdentity& identity) {
  SB_ASSIGN_OR_RETURN(X509Ptr ca, ParseCertificate(identity.ca_cert_pem));
  SB_ASSIGN_OR_RETURN(std::vector<X509Ptr> own_chain, ParseCertificates(identity.cert_pem));
  SB_ASSIGN_OR_RETURN(EvpPkeyPtr key, ParsePrivateKey(identity.key_pem));

  // Refuse to start with a certificate our peers would refuse: the error
  // here names the cause, a failed handshake on the peer would not.
  X509StackPtr extra(sk_X509_new_null());
  if (!extra) return OpenSslError("cannot allocate a certificate stack");
  for (size_t i = 1; i < own_chain.size(); ++i) {
    if (sk_X509_push(extra.get(), own_chain[i].get()) <= 0)
      return OpenSslError("cannot build this node's chain");
    X509_up_ref(own_chain[i].get());
  }
  auto own = VerifyNodeCertificate(ca.get(), own_chain[0].get(), extra.get(),
                                   std::chrono::system_clock::now());
  if (!own.ok())
    return Status::Error(own.status().code(),
                         "this node's certificate is unusable: " + own.status().message());

  SslCtxPtr ctx(SSL_CTX_new(role == TlsRole::kServer ? TLS_server_method() : TLS_client_method()));
  if (!ctx) return OpenSslError("cannot create a TLS context");
  if (SSL_CTX_set_min_proto_version(ctx.get(), TLS1_3_VERSION) != 1 ||
      SSL_CTX_set_max_proto_version(ctx.get(), TLS1_3_VERSION) != 1)
    return OpenSslError("cannot restrict the TLS context to TLS 1.3");

  if (SSL_CTX_use_certificate(ctx.get(), own_chain[0].get()) != 1)
    return OpenSslError("cannot use this node's certificate");
  for (size_t i = 1; i < own_chain.size(); ++i) {
    if (SSL_CTX_add1_chain_cert(ctx.get(), own_chain[i].get()) != 1)
      return OpenSslError("cannot use this node's certificate chain");
  }
  if (SSL_CTX_use_PrivateKey(ctx.get(), key.get()) != 1 ||
      SSL_CTX_check_private_key(ctx.get()) != 1)
    return Status::InvalidArgument(
        OpenSslError("this node's private key does not match its certificate").message());

  X509StorePtr store(X509_STORE_new());
  if (!store || X509_STORE_add_cert(store.get(), ca.get()) != 1 ||
      X509_STORE_set_flags(store.get(), X509_V_FLAG_X509_STRICT) != 1)
    return OpenSslError("cannot build the trust store");
  SSL_CTX_set_cert_store(ctx.get(), store.release());

  int mode = SSL_VERIFY_PEER;
  if (role == TlsRole::kServer) mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
  SSL_CTX_set_verify(ctx.get(), mode, VerifyNodePeer);
  if (role == TlsRole::kServer && SSL_CTX_set_session_id_context(ctx.get(), kSessionIdContext,
                                                                 sizeof kSessionIdContext - 1) != 1)
    return OpenSslError("cannot set the TLS session id context");
  return ctx;
}

std::string PeerRejectionReason(SSL* ssl) {
  if (auto* reason = static_cast<std::string*>(SSL_get_ex_data(ssl, ReasonIndex()))) return *reason;
  long result = SSL_get_verify_result(ssl);
  if (result == X509_V_OK) return {};
  return "peer certificate rejected: " + DescribeVerifyError(static_cast<int>(result));
}

Result<NodeIdentity> PeerNodeIdentity(SSL* ssl) {
  X509* peer = SSL_get0_peer_certificate(ssl);
  if (peer == nullptr)
    return Status::Error(kSqlstateInvalidAuthorization, "peer presented no certificate");
  if (SSL_get_verify_result(ssl) != X509_V_OK)
    return Status::Error(kSqlstateInvalidAuthorization, PeerRejectionReason(ssl));
  return ReadNodeIdentity(peer);
}

}  // namespace sb::security
