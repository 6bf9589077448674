#include "rpc/credentials.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "rpc/server.h"
#include "rpc/test_pki.h"

namespace sb::rpc {
namespace {

using ::testing::HasSubstr;
using testing::NewUuid;
using testing::TestCluster;

std::shared_ptr<PeerAuthenticator> Auth(const TestCluster& cluster) {
  PeerAuthOptions o;
  o.ca_cert_pem = cluster.ca.cert_pem;
  return std::make_shared<PeerAuthenticator>(o);
}

TEST(CredentialsTest, RefusesAnIdentityOurPeersWouldRefuse) {
  TestCluster cluster = TestCluster::Create();
  TestCluster other = TestCluster::Create();
  auto auth = Auth(cluster);

  security::TlsIdentity foreign = other.Node(NewUuid());
  foreign.ca_cert_pem = cluster.ca.cert_pem;
  auto server = MakeServerCredentials(foreign, auth);
  ASSERT_FALSE(server.ok());
  EXPECT_THAT(server.status().message(), HasSubstr("node transport credentials"));

  security::TlsIdentity mismatched = cluster.Node(NewUuid());
  mismatched.key_pem = cluster.Node(NewUuid()).key_pem;
  EXPECT_FALSE(MakeChannelCredentials(mismatched, auth, std::nullopt).ok());

  EXPECT_FALSE(MakeServerCredentials(cluster.Node(NewUuid()), nullptr).ok());
  EXPECT_TRUE(MakeServerCredentials(cluster.Node(NewUuid()), auth).ok());
  EXPECT_TRUE(MakeChannelCredentials(cluster.Node(NewUuid()), auth, NewUuid()).ok());
}

class NullHandler : public NodeTransportHandler {
  Status OnRaft(const Uuid&, const std::vector<std::string>&) override { return Status::Ok(); }
  Result<uint64_t> OnPing(const Uuid&, uint64_t) override { return uint64_t{0}; }
  Status OnExecuteSubplan(const Uuid&, const SubplanRequest&, RowBatchSink&) override {
    return Status::Ok();
  }
};

// gRPC 1.51 cannot be told to refuse TLS 1.2 (see credentials.h); this pins
// that a client offering 1.2 and 1.3, as any OpenSSL 3 client does, gets 1.3
// from our server.
TEST(CredentialsTest, ServerNegotiatesTls13WithAClientOfferingBoth) {
  TestCluster cluster = TestCluster::Create();
  NullHandler handler;
  RpcServerOptions so;
  so.listen_address = "127.0.0.1:0";
  so.identity = cluster.Node(NewUuid());
  so.auth = Auth(cluster);
  so.handler = &handler;
  auto server = RpcServer::Start(std::move(so));
  ASSERT_TRUE(server.ok()) << server.status().ToString();

  security::TlsIdentity me = cluster.Node(NewUuid());
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  ASSERT_NE(ctx, nullptr);
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
  auto cert = security::ParseCertificate(me.cert_pem);
  auto key = security::ParsePrivateKey(me.key_pem);
  ASSERT_TRUE(cert.ok() && key.ok());
  ASSERT_EQ(SSL_CTX_use_certificate(ctx, cert->get()), 1);
  ASSERT_EQ(SSL_CTX_use_PrivateKey(ctx, key->get()), 1);
  static const unsigned char kH2[] = {2, 'h', '2'};
  SSL_CTX_set_alpn_protos(ctx, kH2, sizeof(kH2));

  int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>((*server)->port()));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  SSL* ssl = SSL_new(ctx);
  SSL_set_fd(ssl, fd);
  EXPECT_EQ(SSL_connect(ssl), 1);
  EXPECT_EQ(SSL_version(ssl), TLS1_3_VERSION) << SSL_get_version(ssl);
  SSL_free(ssl);
  close(fd);
  SSL_CTX_free(ctx);
}

}  // namespace
}  // namespace sb::rpc
