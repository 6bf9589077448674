// OpenSSL TLS contexts for node-to-node connections: TLS 1.3 only, mutual
// authentication, the cluster CA as the only trust anchor, and the peer's
// certificate must carry a node identity of the same cluster. gRPC builds its
// own contexts from the PEM strings in TlsIdentity; these serve plain
// OpenSSL sockets and the tests that pin the rules down.
#pragma once

#include <string>

#include "common/status.h"
#include "security/certificates.h"
#include "security/openssl_ptr.h"

namespace sb::security {

enum class TlsRole { kServer, kClient };

// What a node presents and trusts, as PEM text.
struct TlsIdentity {
  std::string ca_cert_pem;  // the cluster CA: the only trust anchor
  std::string cert_pem;     // this node's certificate (leaf first if a chain)
  std::string key_pem;      // this node's private key
};

// A context that
//  - speaks TLS 1.3 and nothing older,
//  - presents identity.cert_pem / key_pem (checked to be a node certificate
//    of the CA's cluster, and the key to match),
//  - demands a peer certificate in both roles (SSL_VERIFY_PEER and, on the
//    server, SSL_VERIFY_FAIL_IF_NO_PEER_CERT),
//  - trusts identity.ca_cert_pem alone, and
//  - fails the handshake unless the peer's leaf carries the node URI SAN of
//    the CA's cluster.
// Host names are not checked: identity is the URI SAN. Whether the peer node
// is a member of the current configuration is the caller's check, with
// PeerNodeIdentity once the handshake is done.
Result<SslCtxPtr> MakeTlsContext(TlsRole role, const TlsIdentity& identity);

// The verified identity of the peer of a completed handshake on a connection
// from MakeTlsContext.
Result<NodeIdentity> PeerNodeIdentity(SSL* ssl);

// Why this side rejected the peer's certificate on `ssl` (for logs after a
// failed handshake); empty if it did not.
std::string PeerRejectionReason(SSL* ssl);

}  // namespace sb::security
