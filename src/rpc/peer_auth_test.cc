#include "rpc/peer_auth.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "rpc/test_pki.h"

namespace sb::rpc {
namespace {

using ::testing::HasSubstr;
using testing::NewUuid;
using testing::TestCluster;

struct Fixture {
  TestCluster cluster = TestCluster::Create();
  observability::Registry registry;
  std::set<Uuid> members;
  PeerAuthenticator auth{Options()};

  PeerAuthOptions Options() {
    PeerAuthOptions o;
    o.ca_cert_pem = cluster.ca.cert_pem;
    o.registry = &registry;
    o.is_member = [this](const Uuid& n) { return members.contains(n); };
    return o;
  }
  double Count(const char* reason) const {
    return registry.Value(kRejectedConnectionsMetric, {{"reason", reason}});
  }
};

TEST(PeerAuthTest, AcceptsAMemberNodeOfTheCluster) {
  Fixture f;
  Uuid node = NewUuid();
  f.members.insert(node);
  PeerVerdict v = f.auth.CheckCertificate(f.cluster.Node(node).cert_pem, true);
  ASSERT_TRUE(v.ok()) << v.status.ToString();
  EXPECT_EQ(v.identity->node_id, node);
  EXPECT_EQ(v.identity->cluster_id, f.cluster.ca.cluster_id);
}

TEST(PeerAuthTest, ClassifiesEachRejection) {
  Fixture f;
  TestCluster other = TestCluster::Create();
  struct Case {
    std::string pem;
    bool membership;
    RejectReason reason;
  } cases[] = {
      {other.Node(NewUuid()).cert_pem, true, RejectReason::kWrongCa},
      // A foreign certificate is wrong_ca even when it is expired too.
      {other.Node(NewUuid(), testing::Expired()).cert_pem, true, RejectReason::kWrongCa},
      {f.cluster.Node(NewUuid(), testing::Expired()).cert_pem, true, RejectReason::kExpired},
      {f.cluster.Client("alice").cert_pem, true, RejectReason::kBadSan},
      {"", true, RejectReason::kNoCert},
      {f.cluster.Node(NewUuid()).cert_pem, true, RejectReason::kNotMember},
  };
  for (const auto& c : cases) {
    PeerVerdict v = f.auth.CheckCertificate(c.pem, c.membership);
    EXPECT_FALSE(v.ok());
    EXPECT_EQ(v.reason, c.reason) << RejectReasonLabel(c.reason) << ": " << v.status.ToString();
    EXPECT_EQ(v.status.code(), "28000");
  }
  EXPECT_EQ(f.Count("wrong_ca"), 2);
  EXPECT_EQ(f.Count("expired"), 1);
  EXPECT_EQ(f.Count("bad_san"), 1);
  EXPECT_EQ(f.Count("no_cert"), 1);
  EXPECT_EQ(f.Count("not_member"), 1);
  EXPECT_THAT(f.registry.RenderPrometheus(),
              HasSubstr("scratchbird_rpc_rejected_connections_total{reason=\"not_member\"} 1"));
}

TEST(PeerAuthTest, MembershipIsSkippedWhenNotAsked) {
  Fixture f;
  PeerVerdict v = f.auth.CheckCertificate(f.cluster.Node(NewUuid()).cert_pem, false);
  EXPECT_TRUE(v.ok()) << v.status.ToString();
}

TEST(PeerAuthTest, InjectedClockDecidesExpiry) {
  TestCluster cluster = TestCluster::Create();
  PeerAuthOptions o;
  o.ca_cert_pem = cluster.ca.cert_pem;
  o.clock = [] { return testing::Now() + security::kNodeLifetime + std::chrono::hours(24); };
  PeerAuthenticator auth(o);
  PeerVerdict v = auth.CheckCertificate(cluster.Node(NewUuid()).cert_pem, false);
  EXPECT_EQ(v.reason, RejectReason::kExpired) << v.status.ToString();
}

// A chain that verified once is remembered, but only within its validity,
// and membership is asked on every call.
TEST(PeerAuthTest, ARememberedChainStillExpiresAndStillNeedsMembership) {
  TestCluster cluster = TestCluster::Create();
  auto now = std::make_shared<security::TimePoint>(testing::Now());
  std::set<Uuid> members;
  PeerAuthOptions o;
  o.ca_cert_pem = cluster.ca.cert_pem;
  o.clock = [now] { return *now; };
  o.is_member = [&members](const Uuid& n) { return members.contains(n); };
  PeerAuthenticator auth(o);
  Uuid node = NewUuid();
  members.insert(node);
  const std::string pem = cluster.Node(node).cert_pem;
  ASSERT_TRUE(auth.CheckCertificate(pem, true).ok());
  ASSERT_TRUE(auth.CheckCertificate(pem, true).ok());  // from the cache
  members.clear();
  EXPECT_EQ(auth.CheckCertificate(pem, true).reason, RejectReason::kNotMember);
  members.insert(node);
  *now += security::kNodeLifetime + std::chrono::hours(24);
  EXPECT_EQ(auth.CheckCertificate(pem, true).reason, RejectReason::kExpired);
}

TEST(PeerAuthTest, RejectionsMapToGrpcCodes) {
  PeerVerdict v;
  v.reason = RejectReason::kNotMember;
  v.status = Status::Error("28000", "not a member");
  EXPECT_EQ(ToGrpcStatus(v).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  v.reason = RejectReason::kExpired;
  EXPECT_EQ(ToGrpcStatus(v).error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

}  // namespace
}  // namespace sb::rpc
