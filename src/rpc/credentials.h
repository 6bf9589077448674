// gRPC credentials for node-to-node connections, built from a node's PEM
// identity: its certificate and key, and the cluster CA as the only trust
// anchor. Both sides present certificates; both sides check the other's.
//
// API choice: grpc::experimental::TlsServerCredentials / TlsChannelCredentials
// with a StaticDataCertificateProvider and our own ExternalCertificateVerifier.
// The verifier runs inside the handshake on both sides and calls
// PeerAuthenticator, so a wrong-CA, expired or SAN-less peer never gets an
// HTTP/2 stream, and the refusal is counted under its precise reason. gRPC's
// own chain check is therefore turned off (…_BUT_DONT_VERIFY on the server,
// set_verify_server_certs(false) on the client): it would fail the handshake
// before our verifier could classify it, and it would also consult the
// hostname, which means nothing here — a node is its URI SAN, not the address
// it was dialled at. The legacy SslServerCredentials offer no hook inside the
// handshake at all.
//
// TLS version: gRPC 1.51 exposes no minimum-version setting (neither in the
// C++ options nor the C API); its TLS stack offers 1.2–1.3 and OpenSSL 3
// picks 1.3 whenever both ends support it, which both ends of a node link do.
// The test pins that a handshake with our server negotiates TLS 1.3. Forcing
// 1.3 against a 1.2-only peer that holds a valid cluster certificate waits
// for a gRPC with TlsCredentialsOptions::set_min_tls_version (docs/operations.md,
// "Node transport").
#pragma once

#include <memory>
#include <optional>

#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>

#include "common/status.h"
#include "common/uuid.h"
#include "rpc/peer_auth.h"
#include "security/tls_context.h"

namespace sb::rpc {

// Server side: requires a client certificate and checks it with `auth`
// (chain to the CA, validity, node SAN; membership is per call). The
// identity is checked up front to be a node certificate of the CA's
// cluster with its matching key.
Result<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const security::TlsIdentity& identity, std::shared_ptr<const PeerAuthenticator> auth);

// Client side: presents `identity` and accepts the server if `auth` accepts
// its certificate and it is `expected_node` — or, with no expected node, any
// member of the cluster.
Result<std::shared_ptr<grpc::ChannelCredentials>> MakeChannelCredentials(
    const security::TlsIdentity& identity, std::shared_ptr<const PeerAuthenticator> auth,
    std::optional<Uuid> expected_node);

}  // namespace sb::rpc
