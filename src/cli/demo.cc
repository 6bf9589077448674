#include "cli/demo.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "cli/signals.h"
#include "common/key_encoding.h"
#include "common/shard_router.h"
#include "common/value_codec.h"
#include "node/node.h"

namespace sb::cli {
namespace {

const char* kSchema = R"sql(
CREATE TABLE customers (
  customer_id uuid PRIMARY KEY,
  name        text NOT NULL,
  region      text NOT NULL,
  created_at  timestamptz NOT NULL
) SHARD BY HASH (customer_id);
CREATE TABLE orders (
  customer_id  uuid NOT NULL,
  order_id     bigint NOT NULL,
  order_date   date NOT NULL,
  total_amount numeric(10,2),
  status       varchar(16) NOT NULL,
  PRIMARY KEY (customer_id, order_id)
) SHARD BY HASH (customer_id);
CREATE TABLE order_items (
  customer_id uuid NOT NULL,
  order_id    bigint NOT NULL,
  line_no     integer NOT NULL,
  product_id  integer NOT NULL,
  qty         integer NOT NULL,
  price       numeric(10,2) NOT NULL,
  PRIMARY KEY (customer_id, order_id, line_no)
) SHARD BY HASH (customer_id);
CREATE TABLE products (
  product_id integer PRIMARY KEY,
  name       text NOT NULL,
  category   text NOT NULL,
  price      numeric(10,2) NOT NULL
) REPLICATED;
CREATE INDEX orders_status_idx ON orders (status);
)sql";

struct Showcase {
  const char* title;
  const char* sql;
  bool explain;
};

const Showcase kShowcase[] = {
    {"How many orders? (scatter to every shard, counts summed at the coordinator)",
     "SELECT count(*) AS orders, sum(total_amount) AS revenue FROM orders", true},
    {"Revenue by status (partial aggregates per shard, merged and sorted at the coordinator)",
     "SELECT status, count(*) AS orders, sum(total_amount) AS revenue, avg(total_amount) AS "
     "avg_order "
     "FROM orders GROUP BY status ORDER BY revenue DESC",
     true},
    {"One customer's latest orders (the shard key pins a single shard: the whole query runs there)",
     "SELECT order_id, order_date, total_amount, status FROM orders "
     "WHERE customer_id = '__CUSTOMER__' ORDER BY order_date DESC, order_id LIMIT 5",
     true},
    {"Top 5 orders overall (each shard returns its top 5; k-way merge at the coordinator)",
     "SELECT customer_id, order_id, total_amount FROM orders "
     "ORDER BY total_amount DESC NULLS LAST, order_id LIMIT 5",
     true},
    {"Products per category (a REPLICATED table: any one shard has every row)",
     "SELECT category, count(*) AS products, min(price) AS cheapest, max(price) AS dearest "
     "FROM products GROUP BY category ORDER BY category",
     true},
    {"Revenue by region (a co-located join: customers and orders are both sharded by "
     "customer_id, so each shard joins its own rows)",
     "SELECT c.region, count(*) AS orders, sum(o.total_amount) AS revenue FROM customers c "
     "JOIN orders o ON o.customer_id = c.customer_id GROUP BY c.region ORDER BY revenue DESC",
     true},
    {"Units sold per product category (join with a REPLICATED table, also on the shards)",
     "SELECT p.category, sum(i.qty) AS units FROM order_items i JOIN products p "
     "ON p.product_id = i.product_id GROUP BY p.category ORDER BY units DESC",
     true},
    {"Each region's three biggest customers (a derived table and a window function: "
     "run at the coordinator)",
     "SELECT region, name, spent, rank FROM (SELECT c.region, c.name, sum(o.total_amount) AS "
     "spent, rank() OVER (PARTITION BY c.region ORDER BY sum(o.total_amount) DESC NULLS LAST, "
     "c.name) AS rank FROM customers c JOIN orders o USING (customer_id) GROUP BY c.region, "
     "c.name) t WHERE rank <= 3 ORDER BY region, rank",
     true},
};

class Client {
 public:
  explicit Client(const std::string& conninfo) : conn_(PQconnectdb(conninfo.c_str())) {}
  ~Client() { PQfinish(conn_); }
  bool ok() const { return PQstatus(conn_) == CONNECTION_OK; }
  std::string error() const { return PQerrorMessage(conn_); }

  // Runs sql; prints the result as an aligned table when print is set.
  bool Run(const std::string& sql, bool print, size_t max_rows = 20) {
    PGresult* r = PQexec(conn_, sql.c_str());
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
    if (!ok) {
      std::printf("%s", PQresultErrorMessage(r));
    } else if (print && PQresultStatus(r) == PGRES_TUPLES_OK) {
      PrintTable(r, max_rows);
    }
    PQclear(r);
    return ok;
  }

  std::string Scalar(const std::string& sql) {
    PGresult* r = PQexec(conn_, sql.c_str());
    std::string v =
        PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0 ? PQgetvalue(r, 0, 0) : "";
    PQclear(r);
    return v;
  }

  bool Copy(const std::string& sql, const std::string& data) {
    PGresult* r = PQexec(conn_, sql.c_str());
    bool started = PQresultStatus(r) == PGRES_COPY_IN;
    PQclear(r);
    if (!started) return false;
    if (PQputCopyData(conn_, data.data(), static_cast<int>(data.size())) != 1) return false;
    if (PQputCopyEnd(conn_, nullptr) != 1) return false;
    bool ok = true;
    while ((r = PQgetResult(conn_)) != nullptr) {
      if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        std::printf("%s", PQresultErrorMessage(r));
        ok = false;
      }
      PQclear(r);
    }
    return ok;
  }

 private:
  static void PrintTable(PGresult* r, size_t max_rows) {
    const int cols = PQnfields(r);
    const int rows = PQntuples(r);
    std::vector<size_t> width(cols);
    for (int c = 0; c < cols; ++c) width[c] = std::strlen(PQfname(r, c));
    for (int i = 0; i < rows && static_cast<size_t>(i) < max_rows; ++i) {
      for (int c = 0; c < cols; ++c)
        width[c] = std::max(width[c], std::strlen(PQgetvalue(r, i, c)));
    }
    for (int c = 0; c < cols; ++c)
      std::printf("%s %-*s", c ? " |" : "", static_cast<int>(width[c]), PQfname(r, c));
    std::printf("\n");
    for (int c = 0; c < cols; ++c)
      std::printf("%s%s", c ? "-+-" : "-", std::string(width[c], '-').c_str());
    std::printf("-\n");
    for (int i = 0; i < rows && static_cast<size_t>(i) < max_rows; ++i) {
      for (int c = 0; c < cols; ++c) {
        std::printf("%s %-*s", c ? " |" : "", static_cast<int>(width[c]), PQgetvalue(r, i, c));
      }
      std::printf("\n");
    }
    if (static_cast<size_t>(rows) > max_rows)
      std::printf(" ... %d more rows\n", rows - static_cast<int>(max_rows));
    std::printf("(%d row%s)\n", rows, rows == 1 ? "" : "s");
  }
  PGconn* conn_;
};

std::string Uuid(std::mt19937_64& rng) {
  uint64_t a = rng(), b = rng();
  a = (a & 0xFFFFFFFFFFFF0FFFULL) | 0x0000000000004000ULL;  // version 4
  b = (b & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;  // variant 10
  return fmt::format("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", a >> 32, (a >> 16) & 0xFFFF, a & 0xFFFF,
                     b >> 48, b & 0xFFFFFFFFFFFFULL);
}

std::string Money(std::mt19937_64& rng, int max_cents) {
  int cents = static_cast<int>(rng() % static_cast<uint64_t>(max_cents)) + 100;
  return fmt::format("{}.{:02d}", cents / 100, cents % 100);
}

// Builds the sample data as CSV for COPY; returns one customer id to showcase.
std::string LoadSample(Client& c, int customers) {
  std::mt19937_64 rng(42);
  const char* regions[] = {"NORTH", "SOUTH", "EAST", "WEST"};
  const char* statuses[] = {"NEW", "PAID", "SHIPPED", "DELIVERED", "CANCELLED"};
  const char* categories[] = {"books", "garden", "kitchen", "music", "toys", "tools"};
  std::string products, cust, orders, items;
  for (int p = 1; p <= 100; ++p) {
    products += fmt::format("{},product {},{},{}\n", p, p, categories[p % 6], Money(rng, 20000));
  }
  std::string showcase;
  int64_t order_id = 0;
  for (int i = 0; i < customers; ++i) {
    std::string id = Uuid(rng);
    if (i == 7) showcase = id;
    cust += fmt::format("{},customer {},{},2026-{:02d}-{:02d} 10:{:02d}:00+00\n", id, i,
                        regions[rng() % 4], 1 + rng() % 9, 1 + rng() % 28, rng() % 60);
    int n_orders = 1 + static_cast<int>(rng() % 9);
    for (int o = 0; o < n_orders; ++o) {
      ++order_id;
      std::string total = rng() % 50 == 0 ? "" : Money(rng, 50000);  // a few NULL totals
      orders += fmt::format("{},{},2026-{:02d}-{:02d},{},{}\n", id, order_id, 1 + rng() % 10,
                            1 + rng() % 28, total, statuses[rng() % 5]);
      int lines = 1 + static_cast<int>(rng() % 4);
      for (int l = 1; l <= lines; ++l) {
        items += fmt::format("{},{},{},{},{},{}\n", id, order_id, l, 1 + rng() % 100, 1 + rng() % 5,
                             Money(rng, 10000));
      }
    }
  }
  bool ok = c.Copy("COPY products FROM STDIN WITH (FORMAT csv)", products) &&
            c.Copy("COPY customers FROM STDIN WITH (FORMAT csv)", cust) &&
            c.Copy("COPY orders FROM STDIN WITH (FORMAT csv)", orders) &&
            c.Copy("COPY order_items FROM STDIN WITH (FORMAT csv)", items);
  return ok ? showcase : std::string();
}

// A customer id that lives on a different shard than `customer`.
std::string OtherShardCustomer(const std::string& customer, uint32_t shards) {
  auto shard_of = [&](const std::string& id) {
    auto v = ParseTextValue(SqlType::Of(TypeId::kUuid), id);
    auto key = EncodeKeyValue(SqlType::Of(TypeId::kUuid), *v, "customer_id");
    return InitialShardOfVnode(VnodeRing().VnodeOf(HashShardKey(*key)), shards);
  };
  std::mt19937_64 rng(7);
  for (;;) {
    std::string id = Uuid(rng);
    if (shards == 1 || shard_of(id) != shard_of(customer)) return id;
  }
}

// Takes a pending SIGINT/SIGTERM (blocked by BlockShutdownSignals), waiting
// at most `wait` for one; 0 when none arrived.
int TakeShutdownSignal(std::chrono::milliseconds wait) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  timespec ts{static_cast<time_t>(wait.count() / 1000),
              static_cast<long>((wait.count() % 1000) * 1000000)};
  for (;;) {
    int sig = sigtimedwait(&set, nullptr, &ts);
    if (sig > 0) return sig;
    if (errno != EINTR) return 0;
  }
}

// Runs psql on conninfo: interactive when script is empty (psql owns the
// terminal and its Ctrl-C), else `-f script` with ON_ERROR_STOP; a shutdown
// signal to the demo meanwhile stops the script's psql. Returns psql's exit
// code (1 if it could not run or was stopped).
int RunPsql(const std::string& conninfo, const std::string& script) {
  pid_t pid = fork();
  if (pid < 0) return 1;
  if (pid == 0) {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    signal(SIGPIPE, SIG_DFL);
    if (script.empty()) {
      execlp("psql", "psql", "-X", conninfo.c_str(), static_cast<char*>(nullptr));
    } else {
      execlp("psql", "psql", "-X", "-v", "ON_ERROR_STOP=1", "-f", script.c_str(), conninfo.c_str(),
             static_cast<char*>(nullptr));
    }
    std::fprintf(stderr, "scratchbird demo: cannot run psql (install postgresql-client): %s\n",
                 strerror(errno));
    _exit(127);
  }
  int status = 0;
  if (script.empty()) {
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
  }
  for (;;) {
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid || (r < 0 && errno != EINTR)) break;
    if (int sig = TakeShutdownSignal(std::chrono::milliseconds(100)); sig != 0) {
      std::printf("scratchbird demo: signal %d, stopping psql (pid %d)\n", sig, pid);
      kill(pid, SIGTERM);
      while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      return 1;
    }
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

// Creates the sample schema and data through `load_url`, then prints the
// showcase queries, their results and plans run through `query_url`.
// Returns 0, or 1 after printing what failed.
int LoadAndShowcase(const std::string& load_url, const std::string& query_url, int customers,
                    uint32_t shards) {
  Client loader(load_url);
  if (!loader.ok()) {
    std::fprintf(stderr, "scratchbird demo: cannot connect to %s: %s", load_url.c_str(),
                 loader.error().c_str());
    return 1;
  }
  std::printf(
      "Creating the sample schema (customers, orders, order_items sharded by customer_id; "
      "products REPLICATED) ...\n");
  if (!loader.Run(kSchema, false)) return 1;
  std::printf("Loading sample data with COPY ...\n");
  std::fflush(stdout);
  std::string customer = LoadSample(loader, customers);
  if (customer.empty()) return 1;
  Client c(query_url);
  if (!c.ok()) {
    std::fprintf(stderr, "scratchbird demo: cannot connect to %s: %s", query_url.c_str(),
                 c.error().c_str());
    return 1;
  }
  if (query_url != load_url) std::printf("Querying through %s\n", query_url.c_str());
  std::printf("  %s customers, %s orders, %s order items, %s products\n\n",
              c.Scalar("SELECT count(*) FROM customers").c_str(),
              c.Scalar("SELECT count(*) FROM orders").c_str(),
              c.Scalar("SELECT count(*) FROM order_items").c_str(),
              c.Scalar("SELECT count(*) FROM products").c_str());
  int rc = 0;
  for (const auto& s : kShowcase) {
    std::string sql = s.sql;
    auto pos = sql.find("__CUSTOMER__");
    if (pos != std::string::npos) sql.replace(pos, 12, customer);
    std::printf("-- %s\n%s;\n", s.title, sql.c_str());
    if (!c.Run(sql, true)) rc = 1;
    if (s.explain) {
      std::printf("\nEXPLAIN:\n");
      c.Run("EXPLAIN " + sql, true, 50);
    }
    std::printf("\n");
  }
  std::printf(
      "-- Transactions are shard-local: a second shard in one transaction is refused "
      "(SQLSTATE 0A000)\n");
  c.Run("BEGIN", false);
  c.Run("UPDATE customers SET name = 'renamed' WHERE customer_id = '" + customer + "'", false);
  c.Run("UPDATE customers SET region = 'EAST' WHERE customer_id = '" +
            OtherShardCustomer(customer, shards) + "'",
        false);
  c.Run("ROLLBACK", false);
  std::printf("\n");
  std::fflush(stdout);
  return rc;
}

int RunSingleNode(const DemoOptions& o) {
  namespace fs = std::filesystem;
  char tmpl[] = "/tmp/scratchbird-demo-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) {
    std::fprintf(stderr, "scratchbird demo: cannot create a temporary directory: %s\n",
                 strerror(errno));
    return 1;
  }
  std::string dir = tmpl;
  BlockShutdownSignals();
  node::NodeOptions no;
  no.data_dir = dir + "/data";
  auto st = node::ParseListen("--sql-listen", o.sql_listen, &no.sql_host, &no.sql_port);
  if (st.ok()) st = node::ParseListen("--http-listen", o.http_listen, &no.http_host, &no.http_port);
  if (!st.ok()) {
    std::fprintf(stderr, "scratchbird demo: %s\n", st.message().c_str());
    fs::remove_all(dir);
    return 2;
  }
  auto started = node::Node::Start(no);
  if (!started.ok()) {
    // The default ports may be taken by another node: fall back to free ones.
    fs::remove_all(no.data_dir);
    no.sql_port = 0;
    no.http_port = 0;
    started = node::Node::Start(no);
  }
  if (!started.ok()) {
    std::fprintf(stderr, "scratchbird demo: cannot start a node: %s\n",
                 started.status().message().c_str());
    fs::remove_all(dir);
    return 1;
  }
  auto& node = *started;
  const std::string url =
      fmt::format("postgresql://demo@127.0.0.1:{}/scratchbird", node->sql_port());
  std::printf("ScratchBird demo: one node, %u shards, data in %s\n", node->shard_count(),
              no.data_dir.c_str());
  std::printf("  SQL:  %s\n  HTTP: http://127.0.0.1:%u/metrics\n\n", url.c_str(),
              node->http_port());

  int rc = LoadAndShowcase(url, url, o.customers, node->shard_count());
  if (rc == 0) {
    if (!o.script.empty()) {
      std::printf("Running %s with psql ...\n", o.script.c_str());
      std::fflush(stdout);
      rc = RunPsql(url, o.script);
    } else if (isatty(STDIN_FILENO) && isatty(STDOUT_FILENO)) {
      std::printf("Opening psql; type \\q to stop the demo.\n");
      std::fflush(stdout);
      RunPsql(url, "");
    } else {
      std::printf("Connect with:  psql \"%s\"\nPress Ctrl-C (or send SIGTERM) to stop the demo.\n",
                  url.c_str());
      std::fflush(stdout);
      WaitForShutdownSignal();
    }
  }
  node->Stop();
  if (!o.keep) {
    std::error_code ec;
    fs::remove_all(dir, ec);
  } else {
    std::printf("Data kept in %s\n", no.data_dir.c_str());
  }
  return rc;
}

// ---------------------------------------------------------------------------
// `demo --nodes N`: N `scratchbird start` child processes on 127.0.0.1.

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

bool CanBind(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  if (ok && port == 0) {
    socklen_t len = sizeof a;
    ok = getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0;
  }
  close(fd);
  return ok;
}

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
    port = ntohs(a.sin_port);
  close(fd);
  return port;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string LastLines(const std::string& text, int n) {
  size_t at = text.size();
  while (n-- > 0 && at > 0) {
    size_t nl = text.rfind('\n', at - 1);
    if (nl == std::string::npos) return text;
    at = nl;
  }
  return text.substr(at == 0 ? 0 : at + 1);
}

struct DemoNode {
  int index = 0;
  std::string certs, data, log;
  int rpc_port = 0, sql_port = 0, http_port = 0;
  pid_t pid = -1;
  std::string rpc() const { return fmt::format("127.0.0.1:{}", rpc_port); }
  std::string url() const {
    return fmt::format("postgresql://demo@127.0.0.1:{}/scratchbird", sql_port);
  }
};

// The demo's child processes and temporary directory. Every child is
// stopped by its PID (SIGTERM, bounded wait, SIGKILL) and the directory is
// removed when this goes out of scope, on every path out of the demo.
class LocalCluster {
 public:
  LocalCluster(std::string exe, std::string dir, bool keep)
      : exe_(std::move(exe)), dir_(std::move(dir)), keep_(keep) {}
  ~LocalCluster() {
    StopNodes();
    if (keep_) {
      std::printf("Files kept in %s\n", dir_.c_str());
    } else {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    }
    std::fflush(stdout);
  }
  LocalCluster(const LocalCluster&) = delete;
  LocalCluster& operator=(const LocalCluster&) = delete;

  const std::string& dir() const { return dir_; }
  std::vector<DemoNode>& nodes() { return nodes_; }
  // The shutdown signal that arrived while the demo waited, or 0.
  int shutdown_signal() const { return signal_; }

  // Runs `scratchbird args...` to completion (at most `timeout`), output in
  // *out. True when it exited 0.
  bool Tool(const std::vector<std::string>& args, milliseconds timeout, std::string* out) {
    const std::string log = dir_ + "/tool.out";
    pid_t pid = Spawn(args, log);
    if (pid < 0) {
      *out = "cannot fork";
      return false;
    }
    auto deadline = Clock::now() + timeout;
    int status = 0;
    for (;;) {
      pid_t r = waitpid(pid, &status, WNOHANG);
      if (r == pid) break;
      bool late = Clock::now() > deadline;
      if (late || !Pause(milliseconds(20))) {
        kill(pid, SIGKILL);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
        *out = ReadFile(log) + (late ? "(timed out)\n" : "(interrupted)\n");
        return false;
      }
    }
    *out = ReadFile(log);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
  }

  // Starts node n (`scratchbird start`, joining through `join` unless
  // empty) in the background.
  bool StartNode(DemoNode& n, const std::string& join) {
    std::vector<std::string> args = {"start",
                                     "--data-dir",
                                     n.data,
                                     "--certs-dir",
                                     n.certs,
                                     "--rpc-listen",
                                     n.rpc(),
                                     "--sql-listen",
                                     fmt::format("127.0.0.1:{}", n.sql_port),
                                     "--http-listen",
                                     fmt::format("127.0.0.1:{}", n.http_port)};
    if (!join.empty()) {
      args.push_back("--join");
      args.push_back(join);
    }
    n.pid = Spawn(args, n.log);
    return n.pid > 0;
  }

  // Waits (bounded) until node n logged that it started. False if it
  // exited, did not start in time, or a shutdown signal arrived.
  bool WaitStarted(DemoNode& n, milliseconds timeout) {
    auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      if (ReadFile(n.log).find(" started") != std::string::npos) return true;
      if (!Pause(milliseconds(50))) return false;
    }
    std::fprintf(stderr, "scratchbird demo: node %d did not start within %llds; its log:\n%s",
                 n.index, static_cast<long long>(timeout.count() / 1000),
                 LastLines(ReadFile(n.log), 15).c_str());
    return false;
  }

  // Sleeps up to d. False when a shutdown signal arrived or a node exited
  // (both reported).
  bool Pause(milliseconds d) {
    if (signal_ != 0) return false;
    if (int sig = TakeShutdownSignal(d); sig != 0) {
      signal_ = sig;
      std::printf("\nscratchbird demo: received signal %d, stopping\n", sig);
      return false;
    }
    for (auto& n : nodes_) {
      int status = 0;
      if (n.pid > 0 && waitpid(n.pid, &status, WNOHANG) == n.pid) {
        std::fprintf(stderr, "scratchbird demo: node %d (pid %d) exited (%s %d); its log:\n%s",
                     n.index, n.pid, WIFEXITED(status) ? "status" : "signal",
                     WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
                     LastLines(ReadFile(n.log), 15).c_str());
        n.pid = -1;
        died_ = true;
      }
    }
    return !died_;
  }

  void StopNodes() {
    bool any = false;
    for (auto& n : nodes_)
      if (n.pid > 0) {
        any = true;
        kill(n.pid, SIGTERM);
      }
    if (!any) return;
    std::printf("Stopping the nodes ...\n");
    std::fflush(stdout);
    auto deadline = Clock::now() + std::chrono::seconds(15);
    for (auto& n : nodes_) {
      if (n.pid <= 0) continue;
      int status = 0;
      bool exited = false;
      while (!exited && Clock::now() < deadline) {
        pid_t r = waitpid(n.pid, &status, WNOHANG);
        exited = r == n.pid || (r < 0 && errno != EINTR);
        if (!exited) std::this_thread::sleep_for(milliseconds(20));
      }
      if (!exited) {
        kill(n.pid, SIGKILL);
        while (waitpid(n.pid, &status, 0) < 0 && errno == EINTR) {
        }
        std::printf("  node %d (pid %d) killed after 15s\n", n.index, n.pid);
      } else {
        std::printf("  node %d (pid %d) stopped\n", n.index, n.pid);
      }
      n.pid = -1;
    }
  }

 private:
  // fork/exec of this binary in its own process group (the terminal's Ctrl-C
  // reaches the demo, which stops the children; psql's Ctrl-C does not reach
  // them), output to `log`, terminated if the demo dies.
  pid_t Spawn(const std::vector<std::string>& args, const std::string& log) {
    std::vector<std::string> all = {exe_};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : all) argv.push_back(a.data());
    argv.push_back(nullptr);
    const pid_t parent = getpid();
    std::fflush(stdout);
    std::fflush(stderr);
    pid_t pid = fork();
    if (pid != 0) return pid;
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) _exit(1);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    signal(SIGPIPE, SIG_DFL);
    int in = open("/dev/null", O_RDONLY);
    int out = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (in < 0 || out < 0) _exit(126);
    dup2(in, 0);
    dup2(out, 1);
    dup2(out, 2);
    execv(argv[0], argv.data());
    _exit(127);
  }

  std::string exe_, dir_;
  bool keep_;
  std::vector<DemoNode> nodes_;
  int signal_ = 0;
  bool died_ = false;
};

// One row of `node ls`: RAFT ID is two header words, so rows split into
// NODE, RAFT_ID, ROLE, STATE, SHARDS, RPC, SQL, HTTP.
struct MemberRow {
  std::string role, state, rpc;
  int shards = 0;
};

std::vector<MemberRow> ParseNodeLs(const std::string& out) {
  std::vector<MemberRow> rows;
  std::istringstream lines(out);
  std::string line;
  bool header = true;
  while (std::getline(lines, line)) {
    if (header) {
      header = false;
      continue;
    }
    std::istringstream f(line);
    std::string uuid, raft, shards;
    MemberRow m;
    if (f >> uuid >> raft >> m.role >> m.state >> shards >> m.rpc) {
      m.shards = std::atoi(shards.c_str());
      rows.push_back(m);
    }
  }
  return rows;
}

int RunCluster(const DemoOptions& o) {
  const int n_nodes = o.nodes;
  const uint32_t kShards = 16;
  std::error_code ec;
  std::string exe = std::filesystem::read_symlink("/proc/self/exe", ec).string();
  if (ec) {
    std::fprintf(stderr, "scratchbird demo: cannot find this binary: %s\n", ec.message().c_str());
    return 1;
  }
  std::string sql_host, http_host;
  uint16_t sql_base = 0, http_base = 0;
  auto st = node::ParseListen("--sql-listen", o.sql_listen, &sql_host, &sql_base);
  if (st.ok()) st = node::ParseListen("--http-listen", o.http_listen, &http_host, &http_base);
  if (!st.ok()) {
    std::fprintf(stderr, "scratchbird demo: %s\n", st.message().c_str());
    return 2;
  }
  char tmpl[] = "/tmp/scratchbird-demo-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) {
    std::fprintf(stderr, "scratchbird demo: cannot create a temporary directory: %s\n",
                 strerror(errno));
    return 1;
  }
  BlockShutdownSignals();
  LocalCluster cluster(exe, tmpl, o.keep);
  const std::string& dir = cluster.dir();
  std::printf("ScratchBird demo: %d nodes on 127.0.0.1, %u shards, files in %s\n", n_nodes, kShards,
              dir.c_str());

  // Ports: from the --sql-listen / --http-listen ports (and 7947 for RPC)
  // upwards, one per node, where free; any free port otherwise (all free
  // ports when --sql-listen has port 0).
  std::set<int> used;
  auto pick = [&](int preferred) {
    if (preferred > 0 && !used.count(preferred) && CanBind(preferred)) {
      used.insert(preferred);
      return preferred;
    }
    for (int tries = 0; tries < 100; ++tries) {
      int p = FreePort();
      if (p > 0 && !used.count(p)) {
        used.insert(p);
        return p;
      }
    }
    return 0;
  };
  auto& nodes = cluster.nodes();
  for (int i = 1; i <= n_nodes; ++i) {
    DemoNode n;
    n.index = i;
    n.certs = fmt::format("{}/node{}", dir, i);
    n.data = fmt::format("{}/data{}", dir, i);
    n.log = fmt::format("{}/node{}.log", dir, i);
    n.rpc_port = pick(sql_base == 0 ? 0 : 7947 + i - 1);
    n.sql_port = pick(sql_base == 0 ? 0 : sql_base + i - 1);
    n.http_port = pick(http_base == 0 ? 0 : http_base + i - 1);
    if (n.rpc_port == 0 || n.sql_port == 0 || n.http_port == 0) {
      std::fprintf(stderr, "scratchbird demo: no free loopback port\n");
      return 1;
    }
    nodes.push_back(n);
  }

  std::printf("Creating a throwaway CA and %d node certificates ...\n", n_nodes);
  std::fflush(stdout);
  std::string out;
  const std::string ca_dir = dir + "/ca";
  if (!cluster.Tool({"cert", "create-ca", "--certs-dir", ca_dir}, milliseconds(30000), &out)) {
    std::fprintf(stderr, "scratchbird demo: cert create-ca failed:\n%s", out.c_str());
    return 1;
  }
  for (auto& n : nodes) {
    if (!cluster.Tool(
            {"cert", "create-node", "--certs-dir", ca_dir, "--host", "127.0.0.1", "--out", n.certs},
            milliseconds(30000), &out)) {
      std::fprintf(stderr, "scratchbird demo: cert create-node failed:\n%s", out.c_str());
      return 1;
    }
  }

  for (auto& n : nodes) {
    const std::string join = n.index == 1 ? "" : nodes[0].rpc();
    if (!cluster.StartNode(n, join)) {
      std::fprintf(stderr, "scratchbird demo: cannot fork: %s\n", strerror(errno));
      return 1;
    }
    std::printf("Started node %d (pid %d): RPC %s, SQL 127.0.0.1:%d, HTTP 127.0.0.1:%d%s\n",
                n.index, n.pid, n.rpc().c_str(), n.sql_port, n.http_port,
                join.empty() ? "" : (", joining through " + join).c_str());
    std::fflush(stdout);
    // Node 1 first; the others join through it.
    if (n.index == 1 && !cluster.WaitStarted(n, milliseconds(30000))) return 1;
  }
  for (auto& n : nodes)
    if (n.index > 1 && !cluster.WaitStarted(n, milliseconds(30000))) return 1;

  std::printf("Initialising the cluster on node 1 (scratchbird cluster init --shards %u) ...\n",
              kShards);
  std::fflush(stdout);
  if (!cluster.Tool({"cluster", "init", "--host", nodes[0].rpc(), "--certs-dir", nodes[0].certs,
                     "--shards", std::to_string(kShards)},
                    milliseconds(40000), &out)) {
    std::fprintf(stderr, "scratchbird demo: cluster init failed:\n%s", out.c_str());
    return 1;
  }
  std::printf("  %s", out.c_str());

  // Every node must see N voters with the shards spread over them before
  // the tables are created (shards move only while they are empty).
  std::printf("Waiting until the %d nodes are voters and the shards are spread ...\n", n_nodes);
  std::fflush(stdout);
  const auto deadline = Clock::now() + std::chrono::seconds(90);
  for (auto& n : nodes) {
    std::string last_summary;
    for (;;) {
      bool ran = cluster.Tool({"node", "ls", "--host", n.rpc(), "--certs-dir", n.certs},
                              milliseconds(10000), &out);
      if (cluster.shutdown_signal() != 0) return 1;
      std::vector<MemberRow> rows = ran ? ParseNodeLs(out) : std::vector<MemberRow>{};
      int voters = 0, total = 0;
      bool spread = static_cast<int>(rows.size()) == n_nodes;
      std::string counts;
      for (const auto& m : rows) {
        if (m.role == "VOTER" && m.state == "ACTIVE") ++voters;
        if (m.shards == 0) spread = false;
        total += m.shards;
        counts += (counts.empty() ? "" : " ") + std::to_string(m.shards);
      }
      spread = spread && voters == n_nodes && total == static_cast<int>(kShards);
      std::string summary =
          ran ? fmt::format("  node {} sees {} voter(s) of {}; shards per member: {}", n.index,
                            voters, n_nodes, counts.empty() ? "-" : counts)
              : fmt::format("  node {} does not answer yet", n.index);
      if (summary != last_summary) {
        std::printf("%s\n", summary.c_str());
        std::fflush(stdout);
        last_summary = summary;
      }
      if (spread) break;
      if (Clock::now() > deadline) {
        std::fprintf(stderr,
                     "scratchbird demo: the cluster did not form within 90s; last node ls:\n%s"
                     "node %d log:\n%s",
                     out.c_str(), n.index, LastLines(ReadFile(n.log), 15).c_str());
        return 1;
      }
      if (!cluster.Pause(milliseconds(250))) return 1;
    }
  }

  std::printf("\nWhere each shard lives (scratchbird shard ls):\n");
  if (!cluster.Tool({"shard", "ls", "--host", nodes[0].rpc(), "--certs-dir", nodes[0].certs},
                    milliseconds(10000), &out)) {
    std::fprintf(stderr, "scratchbird demo: shard ls failed:\n%s", out.c_str());
    return 1;
  }
  std::printf("%s\n", out.c_str());

  // SQL engines answer once they applied the shard map; wait (bounded).
  for (auto& n : nodes) {
    auto sql_deadline = Clock::now() + std::chrono::seconds(30);
    for (;;) {
      Client c(n.url());
      if (c.ok() && c.Run("SELECT 1", false)) break;
      if (Clock::now() > sql_deadline) {
        std::fprintf(stderr, "scratchbird demo: node %d does not answer SQL: %s", n.index,
                     c.error().c_str());
        return 1;
      }
      if (!cluster.Pause(milliseconds(200))) return 1;
    }
  }

  const DemoNode& query_node = nodes[1];
  std::printf(
      "Sample data goes in through node 1; the showcase queries run through node 2, which "
      "reads the shards of the other nodes over gRPC.\n");
  int rc = LoadAndShowcase(nodes[0].url(), query_node.url(), o.customers, kShards);
  if (rc == 0 && cluster.shutdown_signal() == 0) {
    std::printf("Connection strings (any node answers SQL over all shards):\n");
    for (const auto& n : nodes)
      std::printf("  node %d (pid %d):  psql \"%s\"   RPC %s   HTTP http://127.0.0.1:%d/metrics\n",
                  n.index, n.pid, n.url().c_str(), n.rpc().c_str(), n.http_port);
    std::printf("Admin:  %s node ls --host %s --certs-dir %s\n\n", exe.c_str(),
                nodes[0].rpc().c_str(), nodes[0].certs.c_str());
    if (!o.script.empty()) {
      std::printf("Running %s with psql against node 1 ...\n", o.script.c_str());
      std::fflush(stdout);
      rc = RunPsql(nodes[0].url(), o.script);
    } else if (isatty(STDIN_FILENO) && isatty(STDOUT_FILENO)) {
      std::printf("Opening psql on node 1; type \\q to stop the demo.\n");
      std::fflush(stdout);
      RunPsql(nodes[0].url(), "");
    } else {
      std::printf("Press Ctrl-C (or send SIGTERM) to stop the demo.\n");
      std::fflush(stdout);
      while (cluster.Pause(milliseconds(500))) {
      }
      if (cluster.shutdown_signal() == 0) rc = 1;  // a node exited
    }
  } else if (rc == 0) {
    rc = 1;
  }
  return rc;
}

}  // namespace

int RunDemo(const DemoOptions& o) {
  return o.nodes > 1 ? RunCluster(o) : RunSingleNode(o);
}

}  // namespace sb::cli
