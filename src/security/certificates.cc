#include "security/certificates.h"

#include <arpa/inet.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <ctime>

#include "common/ed25519.h"
#include "security/key_files.h"

namespace sb::security {
namespace {

constexpr std::string_view kUriPrefix = "sb://cluster/";
constexpr size_t kUuidTextSize = 36;

Status AuthError(std::string message) {
  return Status::Error(kSqlstateInvalidAuthorization, std::move(message));
}

// Refuses encrypted PEM instead of OpenSSL's default of prompting on the
// controlling terminal.
int NoPassphrase(char*, int, int, void*) {
  return 0;
}

Result<BioPtr> ReadBio(std::string_view pem) {
  if (pem.size() > INT_MAX) return Status::InvalidArgument("PEM text too large");
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return OpenSslError("cannot allocate a PEM buffer");
  return bio;
}

Result<std::string> BioContents(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  if (len < 0 || (len > 0 && data == nullptr)) return OpenSslError("cannot read a PEM buffer");
  return std::string(data, static_cast<size_t>(len));
}

Result<std::string> PrivateKeyToPem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1)
    return OpenSslError("cannot encode a private key as PEM");
  return BioContents(bio.get());
}

Result<EvpPkeyPtr> GenerateP256Key() {
  EvpPkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (!key) return OpenSslError("cannot generate an ECDSA P-256 key");
  return key;
}

time_t ToTimeT(TimePoint t) {
  return std::chrono::system_clock::to_time_t(t);
}

Result<TimePoint> FromAsn1Time(const ASN1_TIME* t) {
  struct tm tm {};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1)
    return OpenSslError("malformed certificate time");
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

std::string HexLower(const unsigned char* data, size_t len) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  s.reserve(2 * len);
  for (size_t i = 0; i < len; ++i) {
    s += kHex[data[i] >> 4];
    s += kHex[data[i] & 0x0F];
  }
  return s;
}

// ---- subject alternative names ----

struct SanEntry {
  int type;           // GEN_URI, GEN_DNS or GEN_IPADD
  std::string value;  // text, or the 4/16 address bytes for GEN_IPADD
};

bool IsDnsLabelChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

// A host given to create-node: an IP literal or a DNS name (RFC 1123 labels).
Result<SanEntry> HostToSan(std::string_view host) {
  std::string h(host);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  unsigned char addr[16];
  if (inet_pton(AF_INET, h.c_str(), addr) == 1)
    return SanEntry{GEN_IPADD, std::string(reinterpret_cast<char*>(addr), 4)};
  if (inet_pton(AF_INET6, h.c_str(), addr) == 1)
    return SanEntry{GEN_IPADD, std::string(reinterpret_cast<char*>(addr), 16)};

  auto bad = [&](const std::string& why) {
    return Status::InvalidArgument("host \"" + std::string(host) +
                                   "\" is neither an IP address nor a valid DNS name: " + why);
  };
  for (char& c : h)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  if (h.empty()) return bad("it is empty");
  if (h.size() > 253) return bad("longer than 253 characters");
  size_t start = 0;
  std::string last_label;
  while (start <= h.size()) {
    size_t dot = h.find('.', start);
    if (dot == std::string::npos) dot = h.size();
    std::string label = h.substr(start, dot - start);
    if (label.empty()) return bad("empty label");
    if (label.size() > 63) return bad("label longer than 63 characters");
    for (char c : label)
      if (!IsDnsLabelChar(c)) return bad(std::string("character '") + c + "' is not allowed");
    if (label.front() == '-' || label.back() == '-') return bad("a label starts or ends with '-'");
    last_label = label;
    start = dot + 1;
  }
  // "127.1" or "10.0.0.256" is a mistyped address, not a host name.
  if (last_label.find_first_not_of("0123456789") == std::string::npos)
    return bad("the last label is numeric (a mistyped IP address?)");
  return SanEntry{GEN_DNS, h};
}

Status AddGeneralName(GENERAL_NAMES* names, const SanEntry& san) {
  GeneralNamePtr gn(GENERAL_NAME_new());
  if (!gn) return OpenSslError("cannot allocate a subject alternative name");
  ASN1_STRING* s = san.type == GEN_IPADD ? ASN1_OCTET_STRING_new() : ASN1_IA5STRING_new();
  if (s == nullptr ||
      ASN1_STRING_set(s, san.value.data(), static_cast<int>(san.value.size())) != 1) {
    ASN1_STRING_free(s);
    return OpenSslError("cannot encode a subject alternative name");
  }
  GENERAL_NAME_set0_value(gn.get(), san.type, s);
  if (sk_GENERAL_NAME_push(names, gn.get()) <= 0)
    return OpenSslError("cannot add a subject alternative name");
  gn.release();
  return Status::Ok();
}

std::string SanToText(const GENERAL_NAME* gn) {
  auto text = [](const ASN1_STRING* s) {
    return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                       static_cast<size_t>(ASN1_STRING_length(s)));
  };
  switch (gn->type) {
    case GEN_URI:
      return "URI:" + text(gn->d.uniformResourceIdentifier);
    case GEN_DNS:
      return "DNS:" + text(gn->d.dNSName);
    case GEN_EMAIL:
      return "email:" + text(gn->d.rfc822Name);
    case GEN_IPADD: {
      const ASN1_OCTET_STRING* ip = gn->d.iPAddress;
      char buf[INET6_ADDRSTRLEN] = {};
      int len = ASN1_STRING_length(ip);
      int family = len == 4 ? AF_INET : len == 16 ? AF_INET6 : 0;
      if (family == 0 || inet_ntop(family, ASN1_STRING_get0_data(ip), buf, sizeof buf) == nullptr)
        return "IP:<malformed>";
      return std::string("IP:") + buf;
    }
    default:
      return "other:<type " + std::to_string(gn->type) + ">";
  }
}

// The certificate's SAN extension; null when it has none. Two SAN extensions
// are an error: which one a verifier reads would be up to the verifier.
Result<GeneralNamesPtr> ReadSans(X509* cert) {
  int crit = 0;
  GeneralNamesPtr names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, &crit, nullptr)));
  if (!names && crit == -2)
    return AuthError("certificate has more than one subjectAltName extension");
  if (!names && crit >= 0) return AuthError("certificate has a malformed subjectAltName extension");
  DrainOpenSslErrors();
  return names;
}

bool StartsWithSbScheme(std::string_view uri) {
  return uri.size() >= 3 && (uri[0] == 's' || uri[0] == 'S') && (uri[1] == 'b' || uri[1] == 'B') &&
         uri[2] == ':';
}

// Every URI SAN with the sb: scheme (case-insensitive, so "SB://…" is caught
// as malformed rather than ignored).
Result<std::vector<std::string>> SbUris(X509* cert) {
  SB_ASSIGN_OR_RETURN(GeneralNamesPtr names, ReadSans(cert));
  std::vector<std::string> uris;
  if (!names) return uris;
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names.get(), i);
    if (gn->type != GEN_URI) continue;
    const ASN1_STRING* s = gn->d.uniformResourceIdentifier;
    std::string uri(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                    static_cast<size_t>(ASN1_STRING_length(s)));
    if (StartsWithSbScheme(uri)) uris.push_back(std::move(uri));
  }
  return uris;
}

struct SbUri {
  enum class Type { kCluster, kNode, kUser } type;
  Uuid cluster_id;
  Uuid node_id;
  std::string user;
};

// Only the canonical lowercase UUID form, so that one identity has one
// spelling and string comparisons elsewhere cannot be fooled.
std::optional<Uuid> CanonicalUuid(std::string_view text) {
  auto u = Uuid::Parse(text);
  if (!u.ok() || u->is_nil() || u->ToString() != text) return std::nullopt;
  return *u;
}

std::optional<SbUri> ParseSbUri(std::string_view uri) {
  if (uri.substr(0, kUriPrefix.size()) != kUriPrefix) return std::nullopt;
  std::string_view rest = uri.substr(kUriPrefix.size());
  SbUri out{};
  auto cluster = CanonicalUuid(rest.substr(0, kUuidTextSize));
  if (!cluster) return std::nullopt;
  out.cluster_id = *cluster;
  rest.remove_prefix(std::min(rest.size(), kUuidTextSize));
  if (rest.empty()) {
    out.type = SbUri::Type::kCluster;
    return out;
  }
  if (rest.substr(0, 6) == "/node/") {
    auto node = CanonicalUuid(rest.substr(6));
    if (!node) return std::nullopt;
    out.type = SbUri::Type::kNode;
    out.node_id = *node;
    return out;
  }
  if (rest.substr(0, 6) == "/user/") {
    std::string_view user = rest.substr(6);
    if (!ValidateUserName(user).ok()) return std::nullopt;
    out.type = SbUri::Type::kUser;
    out.user = std::string(user);
    return out;
  }
  return std::nullopt;
}

// The single sb:// identity of a certificate.
Result<SbUri> ReadSbIdentity(X509* cert, std::string_view expected_form) {
  SB_ASSIGN_OR_RETURN(std::vector<std::string> uris, SbUris(cert));
  if (uris.empty())
    return AuthError("certificate carries no ScratchBird identity (a URI subjectAltName " +
                     std::string(expected_form) + ")");
  if (uris.size() > 1)
    return AuthError("certificate carries " + std::to_string(uris.size()) +
                     " sb:// identities; exactly one is allowed");
  auto parsed = ParseSbUri(uris[0]);
  if (!parsed)
    return AuthError("certificate identity \"" + uris[0] + "\" is malformed (expected " +
                     std::string(expected_form) + ")");
  return *parsed;
}

// ---- building certificates ----

struct CertSpec {
  std::string common_name;
  const char* basic_constraints;
  const char* key_usage;
  const char* extended_key_usage;  // null: none
  std::vector<SanEntry> sans;
  Validity validity;
};

Status SetRandomSerial(X509* cert) {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return OpenSslError("cannot draw a certificate serial");
  // Positive (RFC 5280 4.1.2.2) and a fixed 16-octet length.
  bytes[0] = static_cast<unsigned char>((bytes[0] & 0x7F) | 0x40);
  BignumPtr bn(BN_bin2bn(bytes, sizeof bytes, nullptr));
  Asn1IntegerPtr serial(bn ? BN_to_ASN1_INTEGER(bn.get(), nullptr) : nullptr);
  if (!serial || X509_set_serialNumber(cert, serial.get()) != 1)
    return OpenSslError("cannot set a certificate serial");
  return Status::Ok();
}

Status AddConfExtension(X509* cert, X509V3_CTX* ctx, int nid, const char* value) {
  X509ExtensionPtr ext(X509V3_EXT_conf_nid(nullptr, ctx, nid, value));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1)
    return OpenSslError(std::string("cannot add certificate extension ") + OBJ_nid2sn(nid) + "=" +
                        value);
  return Status::Ok();
}

// Issues a certificate for subject_key, signed by issuer_key; a null
// issuer_cert makes it self-signed.
Result<X509Ptr> BuildCertificate(const CertSpec& spec, EVP_PKEY* subject_key, X509* issuer_cert,
                                 EVP_PKEY* issuer_key) {
  if (spec.validity.not_after <= spec.validity.not_before)
    return Status::InvalidArgument("certificate validity ends before it begins");
  X509Ptr cert(X509_new());
  if (!cert || X509_set_version(cert.get(), X509_VERSION_3) != 1)
    return OpenSslError("cannot allocate a certificate");
  SB_RETURN_IF_ERROR(SetRandomSerial(cert.get()));
  if (X509_set_pubkey(cert.get(), subject_key) != 1) return OpenSslError("cannot set public key");

  X509_NAME* subject = X509_get_subject_name(cert.get());
  if (X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(spec.common_name.c_str()),
                                 -1, -1, 0) != 1)
    return OpenSslError("cannot set the certificate subject");
  X509_NAME* issuer = issuer_cert ? X509_get_subject_name(issuer_cert) : subject;
  if (X509_set_issuer_name(cert.get(), issuer) != 1) return OpenSslError("cannot set the issuer");

  if (!ASN1_TIME_set(X509_getm_notBefore(cert.get()), ToTimeT(spec.validity.not_before)) ||
      !ASN1_TIME_set(X509_getm_notAfter(cert.get()), ToTimeT(spec.validity.not_after)))
    return OpenSslError("cannot set the validity period");

  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer_cert ? issuer_cert : cert.get(), cert.get(), nullptr, nullptr, 0);
  X509V3_set_ctx_nodb(&ctx);
  SB_RETURN_IF_ERROR(
      AddConfExtension(cert.get(), &ctx, NID_basic_constraints, spec.basic_constraints));
  SB_RETURN_IF_ERROR(AddConfExtension(cert.get(), &ctx, NID_key_usage, spec.key_usage));
  if (spec.extended_key_usage != nullptr) {
    SB_RETURN_IF_ERROR(
        AddConfExtension(cert.get(), &ctx, NID_ext_key_usage, spec.extended_key_usage));
  }
  SB_RETURN_IF_ERROR(AddConfExtension(cert.get(), &ctx, NID_subject_key_identifier, "hash"));
  // A self-signed root needs no authority key identifier (RFC 5280 4.2.1.1).
  if (issuer_cert != nullptr) {
    SB_RETURN_IF_ERROR(
        AddConfExtension(cert.get(), &ctx, NID_authority_key_identifier, "keyid:always"));
  }

  GeneralNamesPtr names(sk_GENERAL_NAME_new_null());
  if (!names) return OpenSslError("cannot allocate subject alternative names");
  for (const SanEntry& san : spec.sans) SB_RETURN_IF_ERROR(AddGeneralName(names.get(), san));
  if (X509_add1_ext_i2d(cert.get(), NID_subject_alt_name, names.get(), 0, X509V3_ADD_DEFAULT) != 1)
    return OpenSslError("cannot add subject alternative names");

  if (X509_sign(cert.get(), issuer_key, EVP_sha256()) <= 0)
    return OpenSslError("cannot sign the certificate");
  return cert;
}

struct LoadedCa {
  X509Ptr cert;
  EvpPkeyPtr key;
};

Result<LoadedCa> LoadCa(const CertificateAuthority& ca) {
  LoadedCa out;
  SB_ASSIGN_OR_RETURN(out.cert, ParseCertificate(ca.cert_pem));
  SB_ASSIGN_OR_RETURN(out.key, ParsePrivateKey(ca.key_pem));
  if (X509_check_private_key(out.cert.get(), out.key.get()) != 1) {
    DrainOpenSslErrors();
    return Status::InvalidArgument("the CA private key does not belong to the CA certificate");
  }
  return out;
}

Result<CertifiedKey> IssueLeaf(const CertificateAuthority& ca, CertSpec spec) {
  SB_ASSIGN_OR_RETURN(LoadedCa issuer, LoadCa(ca));
  SB_ASSIGN_OR_RETURN(EvpPkeyPtr key, GenerateP256Key());
  SB_ASSIGN_OR_RETURN(X509Ptr cert,
                      BuildCertificate(spec, key.get(), issuer.cert.get(), issuer.key.get()));
  CertifiedKey out;
  SB_ASSIGN_OR_RETURN(out.cert_pem, CertificateToPem(cert.get()));
  SB_ASSIGN_OR_RETURN(out.key_pem, PrivateKeyToPem(key.get()));
  return out;
}

}  // namespace

Validity Validity::Starting(TimePoint now, std::chrono::seconds lifetime) {
  return Validity{now - kClockSkewAllowance, now + lifetime};
}

std::string ClusterUri(const Uuid& cluster_id) {
  return std::string(kUriPrefix) + cluster_id.ToString();
}

std::string NodeUri(const Uuid& cluster_id, const Uuid& node_id) {
  return ClusterUri(cluster_id) + "/node/" + node_id.ToString();
}

std::string UserUri(const Uuid& cluster_id, std::string_view user) {
  return ClusterUri(cluster_id) + "/user/" + std::string(user);
}

Status ValidateUserName(std::string_view user) {
  auto bad = [&](const std::string& why) {
    return Status::InvalidArgument("user name \"" + std::string(user) + "\" " + why,
                                   "use 1-63 characters from A-Z a-z 0-9 _ . @ -");
  };
  if (user.empty()) return bad("is empty");
  if (user.size() > 63) return bad("is longer than 63 characters");
  if (user.front() == '.' || user.front() == '-') return bad("starts with '.' or '-'");
  for (char c : user) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '@' || c == '-';
    if (!ok) return bad("contains a character that is not allowed");
  }
  return Status::Ok();
}

Result<CertificateAuthority> CreateCertificateAuthority(const Uuid& cluster_id,
                                                        const Validity& validity) {
  if (cluster_id.is_nil()) return Status::InvalidArgument("the cluster UUID is nil");
  SB_ASSIGN_OR_RETURN(EvpPkeyPtr key, GenerateP256Key());
  CertSpec spec{
      .common_name = "ScratchBird cluster CA " + cluster_id.ToString(),
      // The CA signs node and client certificates only, never another CA.
      .basic_constraints = "critical,CA:TRUE,pathlen:0",
      .key_usage = "critical,keyCertSign,cRLSign",
      .extended_key_usage = nullptr,
      .sans = {{GEN_URI, ClusterUri(cluster_id)}},
      .validity = validity,
  };
  SB_ASSIGN_OR_RETURN(X509Ptr cert, BuildCertificate(spec, key.get(), nullptr, key.get()));
  CertificateAuthority ca;
  ca.cluster_id = cluster_id;
  SB_ASSIGN_OR_RETURN(ca.cert_pem, CertificateToPem(cert.get()));
  SB_ASSIGN_OR_RETURN(ca.key_pem, PrivateKeyToPem(key.get()));
  return ca;
}

Status CheckCertificateAuthority(const CertificateAuthority& ca) {
  SB_ASSIGN_OR_RETURN(LoadedCa loaded, LoadCa(ca));
  SB_ASSIGN_OR_RETURN(Uuid cluster, ReadCaClusterId(loaded.cert.get()));
  if (cluster != ca.cluster_id)
    return Status::InvalidArgument("the CA certificate is for cluster " + cluster.ToString() +
                                   ", not " + ca.cluster_id.ToString());
  return Status::Ok();
}

Result<CertifiedKey> IssueNodeCertificate(const CertificateAuthority& ca, const Uuid& node_id,
                                          const std::vector<std::string>& hosts,
                                          const Validity& validity) {
  if (node_id.is_nil()) return Status::InvalidArgument("the node UUID is nil");
  CertSpec spec{
      .common_name = "ScratchBird node " + node_id.ToString(),
      .basic_constraints = "critical,CA:FALSE",
      .key_usage = "critical,digitalSignature",
      // Nodes both accept and open connections to each other.
      .extended_key_usage = "serverAuth,clientAuth",
      .sans = {{GEN_URI, NodeUri(ca.cluster_id, node_id)}},
      .validity = validity,
  };
  for (const std::string& host : hosts) {
    SB_ASSIGN_OR_RETURN(SanEntry san, HostToSan(host));
    bool duplicate = false;
    for (const SanEntry& e : spec.sans) duplicate |= e.type == san.type && e.value == san.value;
    if (!duplicate) spec.sans.push_back(std::move(san));
  }
  return IssueLeaf(ca, std::move(spec));
}

Result<CertifiedKey> IssueClientCertificate(const CertificateAuthority& ca, std::string_view user,
                                            const Validity& validity) {
  SB_RETURN_IF_ERROR(ValidateUserName(user));
  CertSpec spec{
      .common_name = std::string(user),
      .basic_constraints = "critical,CA:FALSE",
      .key_usage = "critical,digitalSignature",
      .extended_key_usage = "clientAuth",
      .sans = {{GEN_URI, UserUri(ca.cluster_id, user)}},
      .validity = validity,
  };
  return IssueLeaf(ca, std::move(spec));
}

Result<SigningKeyPem> GenerateSigningKey() {
  SB_ASSIGN_OR_RETURN(Ed25519PrivateKey key, Ed25519PrivateKey::Generate());
  SigningKeyPem out;
  SB_ASSIGN_OR_RETURN(out.private_pem, key.ToPem());
  SB_ASSIGN_OR_RETURN(out.public_pem, Ed25519PublicKeyToPem(key.public_key()));
  return out;
}

Result<X509Ptr> ParseCertificate(std::string_view pem) {
  SB_ASSIGN_OR_RETURN(std::vector<X509Ptr> certs, ParseCertificates(pem));
  if (certs.size() != 1)
    return Status::InvalidArgument("expected one certificate, found " +
                                   std::to_string(certs.size()));
  return std::move(certs[0]);
}

Result<std::vector<X509Ptr>> ParseCertificates(std::string_view pem) {
  SB_ASSIGN_OR_RETURN(BioPtr bio, ReadBio(pem));
  std::vector<X509Ptr> certs;
  for (;;) {
    X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, NoPassphrase, nullptr));
    if (!cert) break;
    certs.push_back(std::move(cert));
  }
  // Running out of PEM blocks is how the loop ends; anything else is damage.
  unsigned long err = ERR_peek_last_error();
  bool clean_end =
      err == 0 || (ERR_GET_LIB(err) == ERR_LIB_PEM && ERR_GET_REASON(err) == PEM_R_NO_START_LINE);
  if (!clean_end) {
    Status st = OpenSslError("malformed certificate PEM");
    return Status::InvalidArgument(st.message());
  }
  DrainOpenSslErrors();
  if (certs.empty()) return Status::InvalidArgument("no PEM certificate found");
  return certs;
}

Result<EvpPkeyPtr> ParsePrivateKey(std::string_view pem) {
  SB_ASSIGN_OR_RETURN(BioPtr bio, ReadBio(pem));
  EvpPkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassphrase, nullptr));
  if (!key) {
    Status st = OpenSslError("malformed or encrypted private key PEM");
    return Status::InvalidArgument(st.message());
  }
  return key;
}

Result<std::string> CertificateToPem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1)
    return OpenSslError("cannot encode a certificate as PEM");
  return BioContents(bio.get());
}

Result<NodeIdentity> ReadNodeIdentity(X509* cert) {
  static const std::string kForm = "sb://cluster/<cluster_uuid>/node/<node_uuid>";
  SB_ASSIGN_OR_RETURN(SbUri uri, ReadSbIdentity(cert, kForm));
  if (uri.type == SbUri::Type::kUser)
    return AuthError("certificate is a client certificate (user " + uri.user +
                     "), not a node certificate");
  if (uri.type != SbUri::Type::kNode)
    return AuthError("certificate is a cluster CA certificate, not a node certificate");
  return NodeIdentity{uri.cluster_id, uri.node_id};
}

Result<NodeIdentity> ReadNodeIdentity(std::string_view cert_pem) {
  SB_ASSIGN_OR_RETURN(X509Ptr cert, ParseCertificate(cert_pem));
  return ReadNodeIdentity(cert.get());
}

Result<Uuid> ReadCaClusterId(X509* ca_cert) {
  SB_ASSIGN_OR_RETURN(SbUri uri, ReadSbIdentity(ca_cert, "sb://cluster/<cluster_uuid>"));
  if (uri.type != SbUri::Type::kCluster || X509_check_ca(ca_cert) == 0)
    return AuthError("certificate is not a ScratchBird cluster CA certificate");
  return uri.cluster_id;
}

Result<NodeIdentity> VerifyNodeCertificate(std::string_view ca_cert_pem, std::string_view chain_pem,
                                           TimePoint now) {
  SB_ASSIGN_OR_RETURN(X509Ptr ca, ParseCertificate(ca_cert_pem));
  auto chain = ParseCertificates(chain_pem);
  if (!chain.ok()) return AuthError(chain.status().message());
  X509StackPtr intermediates(sk_X509_new_null());
  if (!intermediates) return OpenSslError("cannot allocate a certificate stack");
  for (size_t i = 1; i < chain->size(); ++i) {
    if (sk_X509_push(intermediates.get(), (*chain)[i].get()) <= 0)
      return OpenSslError("cannot build a certificate chain");
    X509_up_ref((*chain)[i].get());
  }
  return VerifyNodeCertificate(ca.get(), (*chain)[0].get(), intermediates.get(), now);
}

Result<NodeIdentity> VerifyNodeCertificate(X509* ca_cert, X509* leaf,
                                           STACK_OF(X509) * intermediates, TimePoint now) {
  if (ca_cert == nullptr) return Status::InvalidArgument("no cluster CA certificate");
  if (leaf == nullptr) return AuthError("no certificate");
  SB_ASSIGN_OR_RETURN(Uuid cluster, ReadCaClusterId(ca_cert));

  // Only the cluster CA is trusted: no system store, no partial chains.
  X509StorePtr store(X509_STORE_new());
  if (!store || X509_STORE_add_cert(store.get(), ca_cert) != 1)
    return OpenSslError("cannot build the trust store");
  X509StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (!ctx || X509_STORE_CTX_init(ctx.get(), store.get(), leaf, intermediates) != 1)
    return OpenSslError("cannot set up certificate verification");
  X509_STORE_CTX_set_time(ctx.get(), 0, ToTimeT(now));
  X509_STORE_CTX_set_flags(ctx.get(), X509_V_FLAG_X509_STRICT);
  if (X509_verify_cert(ctx.get()) != 1) {
    int err = X509_STORE_CTX_get_error(ctx.get());
    DrainOpenSslErrors();
    return AuthError(DescribeVerifyError(err));
  }

  SB_ASSIGN_OR_RETURN(NodeIdentity id, ReadNodeIdentity(leaf));
  if (id.cluster_id != cluster)
    return AuthError("certificate is for cluster " + id.cluster_id.ToString() +
                     ", not this cluster " + cluster.ToString());
  return id;
}

Result<NodeIdentity> VerifyPeerCertificate(std::string_view ca_cert_pem,
                                           std::string_view peer_chain_pem, TimePoint now) {
  auto id = VerifyNodeCertificate(ca_cert_pem, peer_chain_pem, now);
  if (!id.ok()) return id.status().Annotate("peer certificate rejected");
  return id;
}

Result<NodeIdentity> VerifyPeerCertificate(X509* ca_cert, X509* leaf,
                                           STACK_OF(X509) * intermediates, TimePoint now) {
  if (leaf == nullptr) return AuthError("peer presented no certificate");
  auto id = VerifyNodeCertificate(ca_cert, leaf, intermediates, now);
  if (!id.ok()) return id.status().Annotate("peer certificate rejected");
  return id;
}

std::string DescribeVerifyError(int err) {
  std::string reason = X509_verify_cert_error_string(err);
  switch (err) {
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_CERT_SIGNATURE_FAILURE:
      return "certificate is not issued by this cluster's CA (" + reason + ")";
    default:
      return reason;
  }
}

Result<CertificateInfo> DescribeCertificate(X509* cert) {
  CertificateInfo info;
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || X509_NAME_print_ex(bio.get(), X509_get_subject_name(cert), 0, XN_FLAG_RFC2253) < 0)
    return OpenSslError("cannot print the certificate subject");
  SB_ASSIGN_OR_RETURN(info.subject, BioContents(bio.get()));
  SB_ASSIGN_OR_RETURN(info.not_before, FromAsn1Time(X509_get0_notBefore(cert)));
  SB_ASSIGN_OR_RETURN(info.not_after, FromAsn1Time(X509_get0_notAfter(cert)));

  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  if (X509_digest(cert, EVP_sha256(), md, &md_len) != 1)
    return OpenSslError("cannot compute the certificate fingerprint");
  info.sha256_hex = HexLower(md, md_len);

  auto names = ReadSans(cert);
  if (names.ok() && *names) {
    for (int i = 0; i < sk_GENERAL_NAME_num(names->get()); ++i)
      info.sans.push_back(SanToText(sk_GENERAL_NAME_value(names->get(), i)));
  }
  auto uri = ReadSbIdentity(cert, "sb://cluster/...");
  if (uri.ok()) {
    info.cluster_id = uri->cluster_id;
    switch (uri->type) {
      case SbUri::Type::kCluster:
        if (X509_check_ca(cert) != 0) info.kind = CertificateInfo::Kind::kClusterCa;
        break;
      case SbUri::Type::kNode:
        info.kind = CertificateInfo::Kind::kNode;
        info.node_id = uri->node_id;
        break;
      case SbUri::Type::kUser:
        info.kind = CertificateInfo::Kind::kClient;
        info.user = uri->user;
        break;
    }
  }
  DrainOpenSslErrors();
  return info;
}

const char* KindName(CertificateInfo::Kind kind) {
  switch (kind) {
    case CertificateInfo::Kind::kClusterCa:
      return "ca";
    case CertificateInfo::Kind::kNode:
      return "node";
    case CertificateInfo::Kind::kClient:
      return "client";
    case CertificateInfo::Kind::kOther:
      break;
  }
  return "other";
}

}  // namespace sb::security
