// Real TLS 1.3 handshakes between two OpenSSL endpoints over a socketpair.
#include "security/tls_context.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <thread>

namespace sb::security {
namespace {

using std::chrono::hours;
using ::testing::HasSubstr;

TimePoint Now() {
  return std::chrono::system_clock::now();
}

Uuid NewUuid() {
  return *Uuid::GenerateV7();
}

struct Cluster {
  CertificateAuthority ca;

  static Cluster Create(Uuid cluster_id = NewUuid()) {
    auto ca = CreateCertificateAuthority(cluster_id, Validity::Starting(Now(), kCaLifetime));
    EXPECT_TRUE(ca.ok()) << ca.status().ToString();
    return Cluster{*ca};
  }
  TlsIdentity Node(const Uuid& node_id) const {
    auto cert =
        IssueNodeCertificate(ca, node_id, {"127.0.0.1"}, Validity::Starting(Now(), kNodeLifetime));
    EXPECT_TRUE(cert.ok()) << cert.status().ToString();
    return TlsIdentity{ca.cert_pem, cert->cert_pem, cert->key_pem};
  }
};

struct Side {
  bool handshake_ok = false;
  bool exchanged = false;  // read the other side's byte after the handshake
  std::string protocol;
  Result<NodeIdentity> peer = Status::Internal("no handshake");
  std::string rejection;
};

// Handshakes and then swaps one byte each way, so that a client whose
// certificate the server rejects after the client's side of the TLS 1.3
// handshake completed still sees the failure.
Side RunSide(SSL_CTX* ctx, int fd, bool server) {
  Side out;
  SslPtr ssl(SSL_new(ctx));
  SSL_set_fd(ssl.get(), fd);
  int rc = server ? SSL_accept(ssl.get()) : SSL_connect(ssl.get());
  out.handshake_ok = rc == 1;
  out.rejection = PeerRejectionReason(ssl.get());
  if (out.handshake_ok) {
    out.protocol = SSL_get_version(ssl.get());
    out.peer = PeerNodeIdentity(ssl.get());
    char mine = server ? 's' : 'c', theirs = 0;
    if (SSL_write(ssl.get(), &mine, 1) == 1 && SSL_read(ssl.get(), &theirs, 1) == 1)
      out.exchanged = theirs == (server ? 'c' : 's');
  }
  DrainOpenSslErrors();
  // Unblocks the other side if this one gave up.
  ::shutdown(fd, SHUT_RDWR);
  return out;
}

struct Outcome {
  Side server, client;
};

Outcome Handshake(SSL_CTX* server_ctx, SSL_CTX* client_ctx) {
  // A write to a side that already hung up must fail, not kill the test.
  ::signal(SIGPIPE, SIG_IGN);
  int fds[2];
  EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  // A bug must fail the test, not hang it.
  timeval tv{10, 0};
  for (int fd : fds) {
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  }
  Outcome out;
  std::thread server([&] { out.server = RunSide(server_ctx, fds[0], true); });
  out.client = RunSide(client_ctx, fds[1], false);
  server.join();
  ::close(fds[0]);
  ::close(fds[1]);
  return out;
}

SslCtxPtr Context(TlsRole role, const TlsIdentity& identity) {
  auto ctx = MakeTlsContext(role, identity);
  EXPECT_TRUE(ctx.ok()) << ctx.status().ToString();
  return ctx.ok() ? std::move(ctx).value() : nullptr;
}

TEST(TlsContextTest, TwoNodesOfOneClusterAuthenticateEachOtherOverTls13) {
  Cluster cluster = Cluster::Create();
  Uuid a = NewUuid(), b = NewUuid();
  SslCtxPtr server = Context(TlsRole::kServer, cluster.Node(a));
  SslCtxPtr client = Context(TlsRole::kClient, cluster.Node(b));
  ASSERT_TRUE(server && client);
  Outcome o = Handshake(server.get(), client.get());
  ASSERT_TRUE(o.server.handshake_ok) << o.server.rejection;
  ASSERT_TRUE(o.client.handshake_ok) << o.client.rejection;
  EXPECT_TRUE(o.server.exchanged);
  EXPECT_TRUE(o.client.exchanged);
  EXPECT_EQ(o.server.protocol, "TLSv1.3");
  ASSERT_TRUE(o.server.peer.ok()) << o.server.peer.status().ToString();
  EXPECT_EQ(*o.server.peer, (NodeIdentity{cluster.ca.cluster_id, b}));
  ASSERT_TRUE(o.client.peer.ok()) << o.client.peer.status().ToString();
  EXPECT_EQ(*o.client.peer, (NodeIdentity{cluster.ca.cluster_id, a}));
}

TEST(TlsContextTest, ServerRefusesClientFromAnotherCa) {
  Cluster cluster = Cluster::Create();
  Cluster other = Cluster::Create(cluster.ca.cluster_id);  // same UUID, different key
  SslCtxPtr server = Context(TlsRole::kServer, cluster.Node(NewUuid()));
  // The intruder trusts our CA, so only the server's check can stop it.
  TlsIdentity intruder = other.Node(NewUuid());
  intruder.ca_cert_pem = other.ca.cert_pem;
  SslCtxPtr client = Context(TlsRole::kClient, intruder);
  ASSERT_TRUE(server && client);
  // Make the intruder accept our server, so the failure is the server's.
  X509_STORE_add_cert(SSL_CTX_get_cert_store(client.get()),
                      ParseCertificate(cluster.ca.cert_pem)->get());
  Outcome o = Handshake(server.get(), client.get());
  EXPECT_FALSE(o.server.handshake_ok);
  EXPECT_FALSE(o.client.exchanged);
  EXPECT_THAT(o.server.rejection, HasSubstr("not issued by this cluster's CA"));
}

TEST(TlsContextTest, ServerRefusesClientWithoutCertificate) {
  Cluster cluster = Cluster::Create();
  SslCtxPtr server = Context(TlsRole::kServer, cluster.Node(NewUuid()));
  // A bare TLS 1.3 client that trusts the CA but has no certificate.
  SslCtxPtr client(SSL_CTX_new(TLS_client_method()));
  SSL_CTX_set_min_proto_version(client.get(), TLS1_3_VERSION);
  X509_STORE_add_cert(SSL_CTX_get_cert_store(client.get()),
                      ParseCertificate(cluster.ca.cert_pem)->get());
  SSL_CTX_set_verify(client.get(), SSL_VERIFY_PEER, nullptr);
  Outcome o = Handshake(server.get(), client.get());
  EXPECT_FALSE(o.server.handshake_ok);
  EXPECT_FALSE(o.client.exchanged);
}

TEST(TlsContextTest, ServerRefusesNodeOfAnotherClusterSignedByOurKey) {
  Cluster cluster = Cluster::Create();
  SslCtxPtr server = Context(TlsRole::kServer, cluster.Node(NewUuid()));
  CertificateAuthority mislabelled = cluster.ca;
  mislabelled.cluster_id = NewUuid();
  auto cert = IssueNodeCertificate(mislabelled, NewUuid(), {}, Validity::Starting(Now(), hours(1)));
  ASSERT_TRUE(cert.ok());
  // MakeTlsContext refuses this identity itself; build the client by hand.
  EXPECT_FALSE(MakeTlsContext(TlsRole::kClient,
                              TlsIdentity{cluster.ca.cert_pem, cert->cert_pem, cert->key_pem})
                   .ok());
  SslCtxPtr client(SSL_CTX_new(TLS_client_method()));
  SSL_CTX_set_min_proto_version(client.get(), TLS1_3_VERSION);
  SSL_CTX_use_certificate(client.get(), ParseCertificate(cert->cert_pem)->get());
  SSL_CTX_use_PrivateKey(client.get(), ParsePrivateKey(cert->key_pem)->get());
  Outcome o = Handshake(server.get(), client.get());
  EXPECT_FALSE(o.server.handshake_ok);
  EXPECT_FALSE(o.client.exchanged);
  EXPECT_THAT(o.server.rejection, HasSubstr("is for cluster " + mislabelled.cluster_id.ToString()));
}

TEST(TlsContextTest, ClientRefusesServerFromAnotherCa) {
  Cluster cluster = Cluster::Create();
  Cluster other = Cluster::Create();
  TlsIdentity rogue = other.Node(NewUuid());
  SslCtxPtr server = Context(TlsRole::kServer, rogue);
  SslCtxPtr client = Context(TlsRole::kClient, cluster.Node(NewUuid()));
  ASSERT_TRUE(server && client);
  Outcome o = Handshake(server.get(), client.get());
  EXPECT_FALSE(o.client.handshake_ok);
  EXPECT_FALSE(o.server.exchanged);
  EXPECT_THAT(o.client.rejection, HasSubstr("not issued by this cluster's CA"));
}

TEST(TlsContextTest, OlderProtocolVersionsAreRefused) {
  Cluster cluster = Cluster::Create();
  SslCtxPtr server = Context(TlsRole::kServer, cluster.Node(NewUuid()));
  auto id = cluster.Node(NewUuid());
  SslCtxPtr client(SSL_CTX_new(TLS_client_method()));
  SSL_CTX_set_max_proto_version(client.get(), TLS1_2_VERSION);
  SSL_CTX_use_certificate(client.get(), ParseCertificate(id.cert_pem)->get());
  SSL_CTX_use_PrivateKey(client.get(), ParsePrivateKey(id.key_pem)->get());
  Outcome o = Handshake(server.get(), client.get());
  EXPECT_FALSE(o.server.handshake_ok);
  EXPECT_FALSE(o.client.handshake_ok);
}

TEST(TlsContextTest, UnusableOwnIdentityIsRefusedUpFront) {
  Cluster cluster = Cluster::Create();
  Cluster other = Cluster::Create();
  TlsIdentity good = cluster.Node(NewUuid());

  TlsIdentity wrong_key = good;
  wrong_key.key_pem = cluster.Node(NewUuid()).key_pem;
  auto r = MakeTlsContext(TlsRole::kServer, wrong_key);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("does not match"));

  TlsIdentity foreign = good;
  foreign.ca_cert_pem = other.ca.cert_pem;
  r = MakeTlsContext(TlsRole::kServer, foreign);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("this node's certificate is unusable"));

  auto expired = IssueNodeCertificate(cluster.ca, NewUuid(), {},
                                      Validity{Now() - hours(48), Now() - hours(24)});
  ASSERT_TRUE(expired.ok());
  r = MakeTlsContext(TlsRole::kClient,
                     TlsIdentity{cluster.ca.cert_pem, expired->cert_pem, expired->key_pem});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("expired"));
}

}  // namespace
}  // namespace sb::security
