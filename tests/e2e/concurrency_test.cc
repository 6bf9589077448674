// Several clients at once: concurrent autocommit writers over every shard
// (and on one shard) lose nothing, scatter readers run alongside, and many
// connections can be open together.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "e2e_util.h"

namespace sb::e2e {
namespace {

class ConcurrencyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.Start({"--synchronous", "OFF"})) << server_.log();
    conn_ = std::make_unique<Conn>(server_.conninfo());
    ASSERT_TRUE(conn_->ok()) << conn_->error();
    ASSERT_TRUE(conn_->Exec("CREATE TABLE kv (k int PRIMARY KEY, writer int, v text)").ok());
  }

  TempDir dir_;
  ServerProcess server_{dir_.path() + "/data"};
  std::unique_ptr<Conn> conn_;
};

TEST_F(ConcurrencyTest, ConcurrentWritersAndReaders) {
  constexpr int kWriters = 6;
  constexpr int kRows = 40;
  std::atomic<int> failures{0};
  std::vector<std::string> errors(kWriters);
  std::atomic<bool> writing{true};
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      Conn c(server_.conninfo());
      if (!c.ok()) {
        failures++;
        errors[static_cast<size_t>(w)] = c.error();
        return;
      }
      Result p = c.Prepare("ins", "INSERT INTO kv VALUES ($1, $2, $3)", 3);
      for (int i = 0; i < kRows; ++i) {
        int k = w * 1000 + i;
        Result r = (i % 2 == 0) ? c.ExecPrepared("ins", {std::to_string(k), std::to_string(w), "p"})
                                : c.Exec("INSERT INTO kv VALUES (" + std::to_string(k) + ", " +
                                         std::to_string(w) + ", 's')");
        if (!r.ok()) {
          failures++;
          errors[static_cast<size_t>(w)] = r.error();
        }
      }
    });
  }
  // A reader scattering while the writers run: counts only grow.
  std::thread reader([&] {
    Conn c(server_.conninfo());
    long last = 0;
    for (int i = 0; i < 200 && writing; ++i) {
      std::string n = c.Scalar("SELECT count(*) FROM kv");
      long v = std::atol(n.c_str());
      if (n.empty() || n[0] == '<' || v < last) {
        failures++;
        break;
      }
      last = v;
    }
  });
  for (auto& t : threads) t.join();
  writing = false;
  reader.join();
  EXPECT_EQ(failures.load(), 0) << errors[0] << errors[1] << errors[2];
  EXPECT_EQ(conn_->Scalar("SELECT count(*) FROM kv"), std::to_string(kWriters * kRows));
  Result per = conn_->Exec("SELECT writer, count(*) FROM kv GROUP BY writer ORDER BY writer");
  ASSERT_TRUE(per.ok()) << per.error();
  ASSERT_EQ(per.rows(), kWriters);
  for (int w = 0; w < kWriters; ++w) EXPECT_EQ(per.at(w, 1), std::to_string(kRows));
}

// Writers that all hit the same shard (same key, UPDATEs) are serialised,
// not lost: the final value counts every increment.
TEST_F(ConcurrencyTest, SameShardUpdatesAreSerialised) {
  ASSERT_TRUE(conn_->Exec("INSERT INTO kv VALUES (7, 0, 'counter')").ok());
  constexpr int kThreads = 4;
  constexpr int kIncrements = 25;
  std::atomic<int> failures{0};
  std::string first_error;
  std::mutex mu;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      Conn c(server_.conninfo());
      for (int i = 0; i < kIncrements; ++i) {
        Result r = c.Exec("UPDATE kv SET writer = writer + 1 WHERE k = 7");
        if (!r.ok() || r.tag() != "UPDATE 1") {
          failures++;
          std::lock_guard<std::mutex> l(mu);
          if (first_error.empty()) first_error = r.error();
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0) << first_error;
  EXPECT_EQ(conn_->Scalar("SELECT writer FROM kv WHERE k = 7"),
            std::to_string(kThreads * kIncrements));
}

TEST_F(ConcurrencyTest, ManyConnections) {
  std::vector<std::unique_ptr<Conn>> conns;
  for (int i = 0; i < 40; ++i) {
    conns.push_back(std::make_unique<Conn>(server_.conninfo()));
    ASSERT_TRUE(conns.back()->ok()) << "connection " << i << ": " << conns.back()->error();
  }
  for (size_t i = 0; i < conns.size(); ++i) {
    EXPECT_EQ(conns[i]->Scalar("SELECT " + std::to_string(i)), std::to_string(i));
  }
  HttpResponse m = HttpGet(server_.http_port(), "/metrics");
  EXPECT_EQ(MetricSample(m.body, "scratchbird_active_connections", {}), 41) << m.body;
  conns.clear();
  EXPECT_EQ(conn_->Scalar("SELECT count(*) FROM kv"), "0");
  // Closed connections are released (bounded wait for the server to notice).
  double active = -1;
  for (int i = 0; i < 250; ++i) {
    active = MetricSample(HttpGet(server_.http_port(), "/metrics").body,
                          "scratchbird_active_connections", {});
    if (active == 1) break;
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(active, 1);
}

}  // namespace
}  // namespace sb::e2e
