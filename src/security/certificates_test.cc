#include "security/certificates.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "common/ed25519.h"
#include "security/key_files.h"

namespace sb::security {
namespace {

using std::chrono::hours;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

TimePoint Now() {
  return std::chrono::system_clock::now();
}

Uuid NewUuid() {
  auto u = Uuid::GenerateV7();
  EXPECT_TRUE(u.ok());
  return *u;
}

CertificateAuthority NewCa(const Uuid& cluster) {
  auto ca = CreateCertificateAuthority(cluster, Validity::Starting(Now(), kCaLifetime));
  EXPECT_TRUE(ca.ok()) << ca.status().ToString();
  return *ca;
}

CertifiedKey NewNode(const CertificateAuthority& ca, const Uuid& node,
                     std::optional<Validity> validity = std::nullopt) {
  auto cert = IssueNodeCertificate(ca, node, {"127.0.0.1", "localhost"},
                                   validity.value_or(Validity::Starting(Now(), kNodeLifetime)));
  EXPECT_TRUE(cert.ok()) << cert.status().ToString();
  return *cert;
}

X509Ptr Parse(const std::string& pem) {
  auto cert = ParseCertificate(pem);
  EXPECT_TRUE(cert.ok()) << cert.status().ToString();
  return std::move(cert).value();
}

std::string ExtensionText(X509* cert, int nid) {
  int idx = X509_get_ext_by_NID(cert, nid, -1);
  if (idx < 0) return "<absent>";
  X509_EXTENSION* ext = X509_get_ext(cert, idx);
  BioPtr bio(BIO_new(BIO_s_mem()));
  X509V3_EXT_print(bio.get(), ext, 0, 0);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return (X509_EXTENSION_get_critical(ext) ? "critical: " : "") + std::string(data, len);
}

// A certificate signed by the CA but with SANs chosen by the test, built
// without the production helpers so it can break their rules.
std::string IssueRaw(const CertificateAuthority& ca, const std::string& san_conf) {
  X509Ptr ca_cert = Parse(ca.cert_pem);
  auto ca_key = ParsePrivateKey(ca.key_pem);
  EXPECT_TRUE(ca_key.ok());
  EvpPkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  X509Ptr cert(X509_new());
  X509_set_version(cert.get(), X509_VERSION_3);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 42);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME_add_entry_by_txt(X509_get_subject_name(cert.get()), "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("raw"), -1, -1, 0);
  X509_set_issuer_name(cert.get(), X509_get_subject_name(ca_cert.get()));
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3600);
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, ca_cert.get(), cert.get(), nullptr, nullptr, 0);
  X509V3_set_ctx_nodb(&ctx);
  auto add = [&](int nid, const std::string& value) {
    X509ExtensionPtr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
    ASSERT_TRUE(ext) << value;
    X509_add_ext(cert.get(), ext.get(), -1);
  };
  add(NID_basic_constraints, "critical,CA:FALSE");
  add(NID_subject_key_identifier, "hash");
  add(NID_authority_key_identifier, "keyid:always");
  if (!san_conf.empty()) add(NID_subject_alt_name, san_conf);
  EXPECT_GT(X509_sign(cert.get(), ca_key->get(), EVP_sha256()), 0);
  auto pem = CertificateToPem(cert.get());
  EXPECT_TRUE(pem.ok());
  return *pem;
}

TEST(CertificatesTest, CaIsSelfSignedP256WithClusterUriAndCaConstraints) {
  Uuid cluster = NewUuid();
  CertificateAuthority ca = NewCa(cluster);
  EXPECT_EQ(ca.cluster_id, cluster);
  EXPECT_THAT(ca.key_pem, HasSubstr("-----BEGIN PRIVATE KEY-----"));
  X509Ptr cert = Parse(ca.cert_pem);

  EXPECT_EQ(X509_check_ca(cert.get()), 1);
  EXPECT_EQ(X509_check_issued(cert.get(), cert.get()), X509_V_OK);
  EVP_PKEY* pub = X509_get0_pubkey(cert.get());
  EXPECT_TRUE(EVP_PKEY_is_a(pub, "EC"));
  char group[64] = {};
  size_t group_len = 0;
  EVP_PKEY_get_group_name(pub, group, sizeof group, &group_len);
  EXPECT_STREQ(group, "prime256v1");
  EXPECT_EQ(X509_get_signature_nid(cert.get()), NID_ecdsa_with_SHA256);

  EXPECT_EQ(ExtensionText(cert.get(), NID_basic_constraints), "critical: CA:TRUE, pathlen:0");
  EXPECT_EQ(ExtensionText(cert.get(), NID_key_usage), "critical: Certificate Sign, CRL Sign");

  auto info = DescribeCertificate(cert.get());
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->kind, CertificateInfo::Kind::kClusterCa);
  EXPECT_EQ(info->subject, "CN=ScratchBird cluster CA " + cluster.ToString());
  EXPECT_THAT(info->sans, UnorderedElementsAre("URI:sb://cluster/" + cluster.ToString()));
  auto years = std::chrono::duration_cast<hours>(info->not_after - info->not_before).count() /
               (24.0 * 365.25);
  EXPECT_NEAR(years, 10.0, 0.01);
  EXPECT_EQ(info->sha256_hex.size(), 64u);

  EXPECT_TRUE(CheckCertificateAuthority(ca).ok());
  auto read = ReadCaClusterId(cert.get());
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(*read, cluster);
}

TEST(CertificatesTest, MismatchedCaPartsAreDetected) {
  CertificateAuthority a = NewCa(NewUuid());
  CertificateAuthority b = NewCa(NewUuid());
  CertificateAuthority mixed = a;
  mixed.key_pem = b.key_pem;
  Status st = CheckCertificateAuthority(mixed);
  EXPECT_FALSE(st.ok());
  EXPECT_THAT(st.message(), HasSubstr("does not belong"));
  CertificateAuthority relabelled = a;
  relabelled.cluster_id = b.cluster_id;
  EXPECT_FALSE(CheckCertificateAuthority(relabelled).ok());
}

TEST(CertificatesTest, NodeCertificateCarriesIdentityHostsAndBothUsages) {
  Uuid cluster = NewUuid(), node = NewUuid();
  CertificateAuthority ca = NewCa(cluster);
  auto issued = IssueNodeCertificate(
      ca, node, {"127.0.0.1", "LocalHost", "[::1]", "db-1.example.com", "localhost"},
      Validity::Starting(Now(), kNodeLifetime));
  ASSERT_TRUE(issued.ok()) << issued.status().ToString();
  X509Ptr cert = Parse(issued->cert_pem);

  auto info = DescribeCertificate(cert.get());
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->kind, CertificateInfo::Kind::kNode);
  EXPECT_THAT(info->sans, UnorderedElementsAre(
                              "URI:sb://cluster/" + cluster.ToString() + "/node/" + node.ToString(),
                              "IP:127.0.0.1", "DNS:localhost", "IP:::1", "DNS:db-1.example.com"));
  EXPECT_EQ(ExtensionText(cert.get(), NID_ext_key_usage),
            "TLS Web Server Authentication, TLS Web Client Authentication");
  EXPECT_EQ(ExtensionText(cert.get(), NID_basic_constraints), "critical: CA:FALSE");
  EXPECT_EQ(X509_check_ca(cert.get()), 0);
  auto days = std::chrono::duration_cast<hours>(info->not_after - info->not_before).count() / 24;
  EXPECT_EQ(days, 366);

  const ASN1_INTEGER* serial = X509_get0_serialNumber(cert.get());
  EXPECT_EQ(ASN1_STRING_length(serial), 16);
  EXPECT_NE(ASN1_STRING_type(serial), V_ASN1_NEG_INTEGER);
  X509Ptr other = Parse(NewNode(ca, node).cert_pem);
  EXPECT_NE(ASN1_INTEGER_cmp(serial, X509_get0_serialNumber(other.get())), 0);

  auto id = ReadNodeIdentity(issued->cert_pem);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(*id, (NodeIdentity{cluster, node}));

  auto verified = VerifyPeerCertificate(ca.cert_pem, issued->cert_pem, Now());
  ASSERT_TRUE(verified.ok()) << verified.status().ToString();
  EXPECT_EQ(*verified, (NodeIdentity{cluster, node}));

  auto key = ParsePrivateKey(issued->key_pem);
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(X509_check_private_key(cert.get(), key->get()), 1);
}

TEST(CertificatesTest, BadHostsAreRefused) {
  CertificateAuthority ca = NewCa(NewUuid());
  for (const char* host : {"", "under_score", "-lead.example", "a..b", "trail.", "127.1",
                           "10.0.0.256", "sp ace", "*.example.com"}) {
    auto r = IssueNodeCertificate(ca, NewUuid(), {host}, Validity::Starting(Now(), hours(1)));
    EXPECT_FALSE(r.ok()) << host;
    if (!r.ok()) {
      EXPECT_THAT(r.status().message(), HasSubstr("neither an IP address nor a valid DNS name"));
    }
  }
  EXPECT_FALSE(IssueNodeCertificate(ca, Uuid(), {}, Validity::Starting(Now(), hours(1))).ok());
}

TEST(CertificatesTest, CertificateFromAnotherCaIsRefused) {
  Uuid cluster = NewUuid();
  CertificateAuthority ca = NewCa(cluster);
  // Same cluster UUID, different key: only the key makes a CA.
  CertificateAuthority impostor = NewCa(cluster);
  CertifiedKey node = NewNode(impostor, NewUuid());
  auto r = VerifyPeerCertificate(ca.cert_pem, node.cert_pem, Now());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), kSqlstateInvalidAuthorization);
  EXPECT_THAT(r.status().message(), HasSubstr("not issued by this cluster's CA"));
}

TEST(CertificatesTest, ExpiredAndNotYetValidCertificatesAreRefused) {
  CertificateAuthority ca = NewCa(NewUuid());
  TimePoint now = Now();
  CertifiedKey expired = NewNode(ca, NewUuid(), Validity{now - hours(48), now - hours(24)});
  auto r = VerifyPeerCertificate(ca.cert_pem, expired.cert_pem, now);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("certificate has expired"));

  CertifiedKey future = NewNode(ca, NewUuid(), Validity{now + hours(24), now + hours(48)});
  r = VerifyPeerCertificate(ca.cert_pem, future.cert_pem, now);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("not yet valid"));
  // The same certificate passes once its time has come: the check uses `now`.
  EXPECT_TRUE(VerifyPeerCertificate(ca.cert_pem, future.cert_pem, now + hours(30)).ok());

  // A CA past its own validity takes its nodes down with it.
  auto old_ca =
      CreateCertificateAuthority(ca.cluster_id, Validity{now - hours(48), now - hours(1)});
  ASSERT_TRUE(old_ca.ok());
  CertifiedKey node = NewNode(*old_ca, NewUuid());
  EXPECT_FALSE(VerifyPeerCertificate(old_ca->cert_pem, node.cert_pem, now).ok());
}

TEST(CertificatesTest, WrongClusterSanIsRefused) {
  CertificateAuthority ca = NewCa(NewUuid());
  // Signed by the right CA key, but naming another cluster.
  CertificateAuthority mislabelled = ca;
  mislabelled.cluster_id = NewUuid();
  CertifiedKey node = NewNode(mislabelled, NewUuid());
  auto r = VerifyPeerCertificate(ca.cert_pem, node.cert_pem, Now());
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(),
              HasSubstr("is for cluster " + mislabelled.cluster_id.ToString() +
                        ", not this cluster " + ca.cluster_id.ToString()));
}

TEST(CertificatesTest, MissingMalformedOrAmbiguousSanIsRefused) {
  Uuid cluster = NewUuid();
  CertificateAuthority ca = NewCa(cluster);
  std::string node_uri = NodeUri(cluster, NewUuid());
  struct Case {
    std::string san_conf;
    std::string expected;
  } cases[] = {
      {"", "carries no ScratchBird identity"},
      {"DNS:localhost", "carries no ScratchBird identity"},
      {"URI:https://example.com/x", "carries no ScratchBird identity"},
      {"URI:" + node_uri + ",URI:" + NodeUri(cluster, NewUuid()), "exactly one is allowed"},
      {"URI:sb://cluster/" + cluster.ToString() + "/node/not-a-uuid", "is malformed"},
      {"URI:sb://cluster/" + cluster.ToString() + "/node/" + NewUuid().ToString() + "/x",
       "is malformed"},
      {"URI:SB://cluster/" + cluster.ToString() + "/node/" + NewUuid().ToString(), "is malformed"},
      {"URI:sb://cluster/" + cluster.ToString(), "not a node certificate"},
      {"URI:" + UserUri(cluster, "alice"), "client certificate (user alice)"},
  };
  for (const Case& c : cases) {
    std::string pem = IssueRaw(ca, c.san_conf);
    auto id = ReadNodeIdentity(pem);
    ASSERT_FALSE(id.ok()) << c.san_conf;
    EXPECT_THAT(id.status().message(), HasSubstr(c.expected)) << c.san_conf;
    auto r = VerifyPeerCertificate(ca.cert_pem, pem, Now());
    ASSERT_FALSE(r.ok()) << c.san_conf;
    EXPECT_EQ(r.status().code(), kSqlstateInvalidAuthorization);
  }
  // The control: the same construction with a proper URI verifies, so the
  // refusals above are about the SAN alone.
  auto ok = VerifyPeerCertificate(ca.cert_pem, IssueRaw(ca, "URI:" + node_uri), Now());
  EXPECT_TRUE(ok.ok()) << ok.status().ToString();
}

TEST(CertificatesTest, ClientCertificateNamesTheUserAndIsNoNode) {
  Uuid cluster = NewUuid();
  CertificateAuthority ca = NewCa(cluster);
  auto client =
      IssueClientCertificate(ca, "alice@example", Validity::Starting(Now(), kClientLifetime));
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  X509Ptr cert = Parse(client->cert_pem);
  auto info = DescribeCertificate(cert.get());
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->kind, CertificateInfo::Kind::kClient);
  EXPECT_EQ(info->user, "alice@example");
  EXPECT_EQ(info->subject, "CN=alice@example");
  EXPECT_THAT(info->sans, UnorderedElementsAre("URI:sb://cluster/" + cluster.ToString() +
                                               "/user/alice@example"));
  EXPECT_EQ(ExtensionText(cert.get(), NID_ext_key_usage), "TLS Web Client Authentication");
  auto r = VerifyPeerCertificate(ca.cert_pem, client->cert_pem, Now());
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("not a node certificate"));

  for (const char* bad : {"", ".hidden", "-x", "a/b", "a b", "x\xc3\xa9",
                          "0123456789012345678901234567890123456789012345678901234567890123"}) {
    EXPECT_FALSE(IssueClientCertificate(ca, bad, Validity::Starting(Now(), hours(1))).ok()) << bad;
  }
}

TEST(CertificatesTest, SigningKeyIsEd25519AndSigns) {
  auto key = GenerateSigningKey();
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_THAT(key->private_pem, HasSubstr("-----BEGIN PRIVATE KEY-----"));
  EXPECT_THAT(key->public_pem, HasSubstr("-----BEGIN PUBLIC KEY-----"));
  auto priv = Ed25519PrivateKey::FromPem(key->private_pem);
  ASSERT_TRUE(priv.ok());
  auto pub = Ed25519PublicKeyFromPem(key->public_pem);
  ASSERT_TRUE(pub.ok());
  EXPECT_EQ(*pub, priv->public_key());
  auto sig = Ed25519Sign(*priv, "epoch 7");
  ASSERT_TRUE(sig.ok());
  EXPECT_TRUE(Ed25519Verify(*pub, "epoch 7", *sig));
}

TEST(CertificatesTest, PemParsingErrorsAreValues) {
  EXPECT_FALSE(ParseCertificate("").ok());
  EXPECT_FALSE(
      ParseCertificate("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n").ok());
  EXPECT_FALSE(ParsePrivateKey("nonsense").ok());
  CertificateAuthority ca = NewCa(NewUuid());
  auto two = ParseCertificates(ca.cert_pem + ca.cert_pem);
  ASSERT_TRUE(two.ok());
  EXPECT_EQ(two->size(), 2u);
  EXPECT_FALSE(ParseCertificate(ca.cert_pem + ca.cert_pem).ok());
  EXPECT_EQ(ERR_peek_error(), 0u);  // nothing left behind for the next caller
}

}  // namespace
}  // namespace sb::security
