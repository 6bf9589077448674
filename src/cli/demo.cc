#include "cli/demo.h"

#include <libpq-fe.h>
#include <spdlog/spdlog.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
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
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

}  // namespace

int RunDemo(const DemoOptions& o) {
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

  int rc = 0;
  {
    Client c(url);
    if (!c.ok()) {
      std::fprintf(stderr, "scratchbird demo: cannot connect: %s", c.error().c_str());
      rc = 1;
    } else {
      std::printf(
          "Creating the sample schema (customers, orders, order_items sharded by customer_id; "
          "products "
          "REPLICATED) ...\n");
      if (!c.Run(kSchema, false)) rc = 1;
      std::string customer;
      if (rc == 0) {
        std::printf("Loading sample data with COPY ...\n");
        customer = LoadSample(c, o.customers);
        if (customer.empty()) rc = 1;
      }
      if (rc == 0) {
        std::printf("  %s customers, %s orders, %s order items, %s products\n\n",
                    c.Scalar("SELECT count(*) FROM customers").c_str(),
                    c.Scalar("SELECT count(*) FROM orders").c_str(),
                    c.Scalar("SELECT count(*) FROM order_items").c_str(),
                    c.Scalar("SELECT count(*) FROM products").c_str());
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
        c.Run("UPDATE customers SET name = 'renamed' WHERE customer_id = '" + customer + "'",
              false);
        c.Run("UPDATE customers SET region = 'EAST' WHERE customer_id = '" +
                  OtherShardCustomer(customer, node->shard_count()) + "'",
              false);
        c.Run("ROLLBACK", false);
        std::printf("\n");
      }
    }
  }
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

}  // namespace sb::cli
