// Certificate directories on disk: what `scratchbird cert` writes and what a
// node reads at startup.
//
// The admin's certs directory (mode 0700), one per cluster:
//   ca.crt          the cluster CA certificate
//   ca.key          its private key (0600); never leaves this directory
//   cluster_id      the cluster UUID, one line
//   nodes/<node_uuid>/   one node directory per create-node (unless --out)
//   client.<user>.crt / client.<user>.key (0600)   per create-client
//
// A node directory (mode 0700), handed to one node as a whole:
//   node.crt        ECDSA P-256 TLS certificate, SAN sb://cluster/<c>/node/<n>
//   node.key        its private key (0600)
//   node.sign.key   Ed25519 key for epoch signatures (0600)
//   node.sign.pub   its public key
//   ca.crt          the cluster CA certificate (trust anchor)
//   cluster_id, node_id   the UUIDs, one line each
// It never holds ca.key: a node that is compromised must not be able to
// mint certificates for others.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/uuid.h"
#include "security/certificates.h"
#include "security/tls_context.h"

namespace sb::security {

inline constexpr const char* kCaCertFile = "ca.crt";
inline constexpr const char* kCaKeyFile = "ca.key";
inline constexpr const char* kClusterIdFile = "cluster_id";
inline constexpr const char* kNodesSubdir = "nodes";
inline constexpr const char* kNodeCertFile = "node.crt";
inline constexpr const char* kNodeKeyFile = "node.key";
inline constexpr const char* kNodeSignKeyFile = "node.sign.key";
inline constexpr const char* kNodeSignPubFile = "node.sign.pub";
inline constexpr const char* kNodeIdFile = "node_id";

struct CreateCaOptions {
  std::string certs_dir{};  // created (0700) if missing
  // Replace an existing CA. Every certificate the old CA issued stops being
  // accepted by nodes that get the new ca.crt.
  bool overwrite = false;
  std::optional<Validity> validity{};  // default: now .. now + kCaLifetime
};
struct CreatedCa {
  Uuid cluster_id;
  std::string ca_cert_path;
  std::string ca_key_path;
  std::string cluster_id_path;
};
// Mints a cluster UUID and a CA for it. Fails with kSqlstateDuplicateFile if
// the directory already holds ca.key, ca.crt or cluster_id, unless overwrite.
Result<CreatedCa> CreateCa(const CreateCaOptions& options);

// The CA of a certs directory, checked: ca.key private (mode), matching
// ca.crt, and ca.crt's cluster equal to cluster_id.
Result<CertificateAuthority> LoadCertificateAuthority(const std::string& certs_dir);

struct CreateNodeOptions {
  std::string certs_dir{};
  std::vector<std::string> hosts{};  // IP literals and DNS names for the SAN
  // Where the node directory goes; default <certs_dir>/nodes/<node_uuid>.
  // Refused if it holds ca.key.
  std::string out_dir{};
  bool overwrite = false;              // replace node files already in out_dir
  std::optional<Validity> validity{};  // default: now .. now + kNodeLifetime
};
struct CreatedNode {
  NodeIdentity identity;
  std::string dir;
};
// Mints a node UUID and writes a complete node directory. A directory that
// does not exist yet appears complete or not at all.
Result<CreatedNode> CreateNode(const CreateNodeOptions& options);

struct CreateClientOptions {
  std::string certs_dir{};
  std::string user{};
  std::string out_dir{};  // default: certs_dir
  bool overwrite = false;
  std::optional<Validity> validity{};  // default: now .. now + kClientLifetime
};
struct CreatedClient {
  std::string cert_path;  // <out_dir>/client.<user>.crt
  std::string key_path;   // <out_dir>/client.<user>.key (0600)
};
Result<CreatedClient> CreateClient(const CreateClientOptions& options);

// Everything a node needs from its node directory, checked for consistency:
// private key files not accessible to group/others, no ca.key present,
// node.crt issued by ca.crt for the cluster_id/node_id on file, node.key
// matching node.crt and node.sign.pub matching node.sign.key.
struct NodeCredentials {
  NodeIdentity identity;
  TlsIdentity tls;  // PEM strings, for gRPC credentials or MakeTlsContext
  SigningKeyPem signing_key;
};
Result<NodeCredentials> LoadNodeCredentials(const std::string& node_dir);

// One certificate found by ListCertificates.
struct CertificateListing {
  std::string path;  // relative to the listed directory
  CertificateInfo info;
};
// Every certificate in *.crt and *.pem files under dir (recursively, skipping
// hidden entries), sorted by path. A *.crt file that does not parse is an
// error; a *.pem file without certificates (a key) is skipped.
Result<std::vector<CertificateListing>> ListCertificates(const std::string& dir);

// The table `scratchbird cert list` prints: FILE, KIND, IDENTITY, NOT AFTER
// (UTC, "expired" marked against `now`), SANS (other than the sb:// identity)
// and the first 16 hex digits of the SHA-256 fingerprint.
std::string FormatCertificateTable(const std::vector<CertificateListing>& certs, TimePoint now);

}  // namespace sb::security
