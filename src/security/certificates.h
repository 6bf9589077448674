// The cluster CA and the X.509 certificates it issues to nodes and clients.
//
// TLS certificates use ECDSA P-256 keys: gRPC 1.51's TLS stack does not
// reliably negotiate Ed25519 certificates (docs/deviations.md). Signatures on
// cluster state (epochs) use a separate Ed25519 key per node.
//
// Identity lives in URI subject alternative names, never in the CN:
//   CA      sb://cluster/<cluster_uuid>
//   node    sb://cluster/<cluster_uuid>/node/<node_uuid>
//   client  sb://cluster/<cluster_uuid>/user/<user>
// Everything crosses this API as PEM text, which is what gRPC's credential
// options take; the X509* overloads serve code that already holds OpenSSL
// objects (a TLS verify callback).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/uuid.h"
#include "security/key_files.h"  // kSqlstate* codes
#include "security/openssl_ptr.h"

namespace sb::security {

using TimePoint = std::chrono::system_clock::time_point;

inline constexpr std::chrono::hours kCaLifetime{24 * 3653};     // 10 years
inline constexpr std::chrono::hours kNodeLifetime{24 * 366};    // 1 year
inline constexpr std::chrono::hours kClientLifetime{24 * 366};  // 1 year
// New certificates start this long before they are issued, so that a peer
// whose clock lags the issuer's accepts them right away.
inline constexpr std::chrono::minutes kClockSkewAllowance{5};

struct Validity {
  TimePoint not_before;
  TimePoint not_after;

  // [now - kClockSkewAllowance, now + lifetime].
  static Validity Starting(TimePoint now, std::chrono::seconds lifetime);
};

struct CertificateAuthority {
  Uuid cluster_id;
  std::string cert_pem;
  std::string key_pem;  // unencrypted PKCS#8; lives only in the admin's certs directory
};

// A certificate and its private key (unencrypted PKCS#8 PEM).
struct CertifiedKey {
  std::string cert_pem;
  std::string key_pem;
};

// A node's Ed25519 key for signing cluster state: PKCS#8 and
// SubjectPublicKeyInfo PEM, as read by common/ed25519.h.
struct SigningKeyPem {
  std::string private_pem;
  std::string public_pem;
};

struct NodeIdentity {
  Uuid cluster_id;
  Uuid node_id;
  friend bool operator==(const NodeIdentity&, const NodeIdentity&) = default;
};

std::string ClusterUri(const Uuid& cluster_id);
std::string NodeUri(const Uuid& cluster_id, const Uuid& node_id);
std::string UserUri(const Uuid& cluster_id, std::string_view user);

// A self-signed CA for one cluster: ECDSA P-256, CN "ScratchBird cluster CA
// <cluster_id>", the cluster URI SAN, basicConstraints CA:TRUE pathlen:0
// (critical), keyUsage keyCertSign+cRLSign (critical).
Result<CertificateAuthority> CreateCertificateAuthority(const Uuid& cluster_id,
                                                        const Validity& validity);

// Checks that ca.cert_pem is a CA certificate for ca.cluster_id (by its URI
// SAN) and that ca.key_pem is its private key.
Status CheckCertificateAuthority(const CertificateAuthority& ca);

// A node certificate for ca.cluster_id: ECDSA P-256 key, the node URI SAN plus
// one SAN per host (an IPv4/IPv6 literal, optionally in brackets, becomes an
// IP SAN, anything else must be a DNS name), extendedKeyUsage
// serverAuth+clientAuth. Serials are random (16 octets, 126 random bits).
Result<CertifiedKey> IssueNodeCertificate(const CertificateAuthority& ca, const Uuid& node_id,
                                          const std::vector<std::string>& hosts,
                                          const Validity& validity);

// A client certificate: CN = user, the user URI SAN, extendedKeyUsage
// clientAuth. See ValidateUserName for the names accepted.
Result<CertifiedKey> IssueClientCertificate(const CertificateAuthority& ca, std::string_view user,
                                            const Validity& validity);

// User names that fit unescaped in a URI path segment and a file name: 1-63
// characters from [A-Za-z0-9_.@-], not starting with '.' or '-'.
Status ValidateUserName(std::string_view user);

// A fresh Ed25519 key pair for epoch signatures.
Result<SigningKeyPem> GenerateSigningKey();

// PEM parsing. ParseCertificates returns every certificate in the text, in
// order, and fails if there is none. Encrypted private keys are refused
// rather than prompting for a passphrase.
Result<X509Ptr> ParseCertificate(std::string_view pem);
Result<std::vector<X509Ptr>> ParseCertificates(std::string_view pem);
Result<EvpPkeyPtr> ParsePrivateKey(std::string_view pem);
Result<std::string> CertificateToPem(X509* cert);

// The node identity in a certificate's URI SAN. Fails if the certificate has
// no sb:// URI, more than one, or one that is not a well-formed node URI.
// URIs of other schemes are ignored.
Result<NodeIdentity> ReadNodeIdentity(X509* cert);
Result<NodeIdentity> ReadNodeIdentity(std::string_view cert_pem);

// The cluster a CA certificate serves (its sb://cluster/<uuid> SAN).
Result<Uuid> ReadCaClusterId(X509* ca_cert);

// Checks a node certificate chain (leaf first, then any intermediates) at
// time `now`: it must lead to `ca_cert` alone (no system trust store), every
// certificate must be within its validity period, and the leaf must carry the
// node URI of the CA's cluster. Returns the node's identity; membership of
// the node in the current configuration is the caller's check. Errors are
// kSqlstateInvalidAuthorization and say why ("certificate has expired").
Result<NodeIdentity> VerifyNodeCertificate(std::string_view ca_cert_pem, std::string_view chain_pem,
                                           TimePoint now);
Result<NodeIdentity> VerifyNodeCertificate(X509* ca_cert, X509* leaf,
                                           STACK_OF(X509) * intermediates, TimePoint now);

// VerifyNodeCertificate for what a peer presented; messages start with "peer
// certificate rejected: ".
Result<NodeIdentity> VerifyPeerCertificate(std::string_view ca_cert_pem,
                                           std::string_view peer_chain_pem, TimePoint now);
Result<NodeIdentity> VerifyPeerCertificate(X509* ca_cert, X509* leaf,
                                           STACK_OF(X509) * intermediates, TimePoint now);

// A message for an X509_V_ERR_* code, saying in words when the peer's chain
// does not lead to this cluster's CA.
std::string DescribeVerifyError(int x509_error);

// What `scratchbird cert list` shows about a certificate.
struct CertificateInfo {
  enum class Kind { kClusterCa, kNode, kClient, kOther };
  Kind kind = Kind::kOther;
  std::string subject;  // RFC 2253
  std::optional<Uuid> cluster_id;
  std::optional<Uuid> node_id;
  std::string user;
  TimePoint not_before;
  TimePoint not_after;
  std::vector<std::string> sans;  // "URI:sb://…", "DNS:localhost", "IP:127.0.0.1"
  std::string sha256_hex;         // SHA-256 of the DER encoding, 64 lowercase hex digits
};
Result<CertificateInfo> DescribeCertificate(X509* cert);
const char* KindName(CertificateInfo::Kind kind);

}  // namespace sb::security
