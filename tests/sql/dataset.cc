#include "dataset.h"

#include <sqlite3.h>

#include <cstdio>
#include <random>
#include <stdexcept>

namespace sbtest {
namespace {

class Rng {
 public:
  explicit Rng(uint64_t seed) : gen_(seed) {}
  // Uniform in [0, n).
  int64_t Below(int64_t n) { return static_cast<int64_t>(gen_() % static_cast<uint64_t>(n)); }
  int64_t Between(int64_t lo, int64_t hi) { return lo + Below(hi - lo + 1); }
  bool Percent(int p) { return Below(100) < p; }
  uint64_t Raw() { return gen_(); }

 private:
  std::mt19937_64 gen_;
};

DVal Null() {
  return {};
}
DVal Int(int64_t v) {
  DVal d;
  d.null = false;
  d.i = v;
  return d;
}
DVal Dbl(double v) {
  DVal d;
  d.null = false;
  d.d = v;
  return d;
}
DVal Str(std::string v) {
  DVal d;
  d.null = false;
  d.s = std::move(v);
  return d;
}

// Days since 1970-01-01 of 2025-01-01.
constexpr int64_t kDay2025 = 20089;

std::string Uuid(Rng* rng) {
  static const char* hex = "0123456789abcdef";
  uint64_t hi = rng->Raw(), lo = rng->Raw();
  std::string s;
  for (int i = 0; i < 32; ++i) {
    uint64_t word = i < 16 ? hi : lo;
    int shift = 60 - 4 * (i % 16);
    s += hex[(word >> shift) & 15];
    if (i == 7 || i == 11 || i == 15 || i == 19) s += '-';
  }
  return s;
}

std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

// Text values: case variants, LIKE metacharacters, the empty string, a
// leading space, and a non-ASCII word.
const std::vector<std::string>& Words() {
  static const std::vector<std::string> w = {
      "apple", "Apple", "APPLE", "banana",      "cherry", "a_b",   "a%b",  "",
      " pad",  "zeta",  "Zulu",  "\xC3\xA9lan", "x",      "mango", "kiwi", "apple pie"};
  return w;
}

TableSpec MakeT(Rng* rng) {
  TableSpec t;
  t.name = "t";
  t.columns = {{"id", CType::kBigint, false}, {"k", CType::kInt},     {"a", CType::kInt},
               {"b", CType::kBigint},         {"s", CType::kText},    {"n", CType::kNumeric},
               {"x", CType::kDouble},         {"flag", CType::kBool}, {"d", CType::kDate}};
  t.shard_key = {"id"};
  t.unique_key = "id";
  t.pg_ddl =
      "CREATE TABLE t (id bigint PRIMARY KEY, k integer, a integer, b bigint, s text, "
      "n numeric(10,2), x double precision, flag boolean, d date) SHARD BY HASH (id)";
  t.lite_ddl =
      "CREATE TABLE t (id INTEGER PRIMARY KEY, k INTEGER, a INTEGER, b INTEGER, s TEXT, "
      "n REAL, x REAL, flag INTEGER, d TEXT)";
  for (int i = 0; i < 700; ++i) {
    std::vector<DVal> row;
    row.push_back(Int(1000 + i * 7 + (i % 5)));
    row.push_back(rng->Percent(10) ? Null() : Int(rng->Between(0, 9)));
    row.push_back(rng->Percent(15) ? Null() : Int(rng->Between(-50, 50)));
    if (rng->Percent(15)) {
      row.push_back(Null());
    } else if (rng->Percent(30)) {
      row.push_back(Int(rng->Between(-100, 100)));
    } else {
      row.push_back(Int(rng->Between(-1000000000000, 1000000000000)));
    }
    row.push_back(
        rng->Percent(15) ? Null() : Str(Words()[rng->Below(static_cast<int64_t>(Words().size()))]));
    row.push_back(rng->Percent(15) ? Null() : Int(rng->Between(-100000, 100000)));
    row.push_back(rng->Percent(15) ? Null()
                                   : Dbl(static_cast<double>(rng->Between(-2000, 2000)) / 4));
    row.push_back(rng->Percent(20) ? Null() : Int(rng->Below(2)));
    row.push_back(rng->Percent(15) ? Null() : Str(DateFromDays(kDay2025 + rng->Below(730))));
    t.rows.push_back(std::move(row));
  }
  return t;
}

TableSpec MakeR(Rng* rng) {
  TableSpec t;
  t.name = "r";
  t.columns = {{"rk", CType::kInt, false}, {"grp", CType::kText},  {"w", CType::kNumeric},
               {"c", CType::kInt},         {"flag", CType::kBool}, {"d", CType::kDate}};
  t.unique_key = "rk";
  t.pg_ddl =
      "CREATE TABLE r (rk integer PRIMARY KEY, grp text, w numeric(10,2), c integer, "
      "flag boolean, d date) REPLICATED";
  t.lite_ddl =
      "CREATE TABLE r (rk INTEGER PRIMARY KEY, grp TEXT, w REAL, c INTEGER, flag INTEGER, d TEXT)";
  const std::vector<std::string> groups = {"red", "green", "blue", "Red"};
  for (int i = 1; i <= 48; ++i) {
    std::vector<DVal> row;
    row.push_back(Int(i));
    row.push_back(rng->Percent(15) ? Null() : Str(groups[rng->Below(4)]));
    row.push_back(rng->Percent(15) ? Null() : Int(rng->Between(-5000, 50000)));
    row.push_back(rng->Percent(15) ? Null() : Int(rng->Between(0, 20)));
    row.push_back(rng->Percent(20) ? Null() : Int(rng->Below(2)));
    row.push_back(rng->Percent(15) ? Null() : Str(DateFromDays(kDay2025 + rng->Below(400))));
    t.rows.push_back(std::move(row));
  }
  return t;
}

}  // namespace

int TableSpec::ColumnIndex(const std::string& n) const {
  for (size_t i = 0; i < columns.size(); ++i) {
    if (columns[i].name == n) return static_cast<int>(i);
  }
  return -1;
}

const TableSpec& Dataset::Table(const std::string& name) const {
  for (const auto& t : tables) {
    if (t.name == name) return t;
  }
  throw std::out_of_range("no table " + name);
}

std::string FormatCents(int64_t cents) {
  char buf[48];
  uint64_t a = cents < 0 ? static_cast<uint64_t>(-cents) : static_cast<uint64_t>(cents);
  std::snprintf(buf, sizeof buf, "%s%llu.%02llu", cents < 0 ? "-" : "",
                static_cast<unsigned long long>(a / 100), static_cast<unsigned long long>(a % 100));
  return buf;
}

std::string DateFromDays(int64_t z) {
  // Howard Hinnant's civil_from_days.
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = yoe + era * 400;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t d = doy - (153 * mp + 2) / 5 + 1;
  const int64_t m = mp < 10 ? mp + 3 : mp - 9;
  if (m <= 2) ++y;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04lld-%02lld-%02lld", static_cast<long long>(y),
                static_cast<long long>(m), static_cast<long long>(d));
  return buf;
}

std::string PgLiteral(CType type, const DVal& v) {
  if (v.null) return "NULL";
  switch (type) {
    case CType::kInt:
    case CType::kBigint:
      return std::to_string(v.i);
    case CType::kNumeric:
      return FormatCents(v.i);
    case CType::kDouble: {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.17g", v.d);
      return buf;
    }
    case CType::kBool:
      return v.i ? "true" : "false";
    case CType::kText:
    case CType::kDate:
    case CType::kUuid:
      return Quote(v.s);
  }
  return "NULL";
}

std::string LiteLiteral(CType type, const DVal& v) {
  if (v.null) return "NULL";
  if (type == CType::kBool) return v.i ? "1" : "0";
  return PgLiteral(type, v);
}

NVal OracleValue(CType type, const DVal& v) {
  if (v.null) return NVal::Null();
  switch (type) {
    case CType::kInt:
    case CType::kBigint:
    case CType::kBool:
      return NVal::Int(v.i);
    case CType::kNumeric:
      return NVal::Real(static_cast<double>(v.i) / 100.0);
    case CType::kDouble:
      return NVal::Real(v.d);
    case CType::kText:
    case CType::kDate:
    case CType::kUuid:
      return NVal::Text(v.s);
  }
  return NVal::Null();
}

Dataset MakeDataset(uint64_t seed) {
  Rng rng(seed);
  Dataset ds;
  ds.tables.push_back(MakeT(&rng));
  ds.tables.push_back(MakeR(&rng));

  // The schema of req-05-06-11.md §5.1.
  TableSpec customers;
  customers.name = "customers";
  customers.columns = {
      {"customer_id", CType::kUuid, false}, {"name", CType::kText}, {"region", CType::kText}};
  customers.shard_key = {"customer_id"};
  customers.unique_key = "customer_id";
  customers.pg_ddl =
      "CREATE TABLE customers (customer_id uuid PRIMARY KEY, name text, region text) "
      "SHARD BY HASH (customer_id)";
  customers.lite_ddl =
      "CREATE TABLE customers (customer_id TEXT PRIMARY KEY, name TEXT, region TEXT)";
  const std::vector<std::string> names = {"Ann", "Bob", "Cleo", "Dan", "Eve", "Finn", "Gus", "Hal"};
  const std::vector<std::string> regions = {"NORTH", "SOUTH", "EAST", "WEST"};
  for (int i = 0; i < 64; ++i) {
    customers.rows.push_back({Str(Uuid(&rng)), Str(names[rng.Below(8)] + " " + std::to_string(i)),
                              rng.Percent(10) ? Null() : Str(regions[rng.Below(4)])});
  }

  TableSpec products;
  products.name = "products";
  products.columns = {{"product_id", CType::kInt, false},
                      {"category", CType::kText},
                      {"name", CType::kText},
                      {"price", CType::kNumeric}};
  products.unique_key = "product_id";
  products.pg_ddl =
      "CREATE TABLE products (product_id integer PRIMARY KEY, category text, name text, "
      "price numeric(10,2)) REPLICATED";
  products.lite_ddl =
      "CREATE TABLE products (product_id INTEGER PRIMARY KEY, category TEXT, name TEXT, "
      "price REAL)";
  const std::vector<std::string> categories = {"tools", "toys", "food", "books"};
  for (int i = 1; i <= 20; ++i) {
    products.rows.push_back({Int(i), Str(categories[rng.Below(4)]),
                             Str("product " + std::to_string(i)), Int(rng.Between(99, 20000))});
  }

  TableSpec orders;
  orders.name = "orders";
  orders.columns = {{"order_id", CType::kBigint, false},
                    {"customer_id", CType::kUuid, false},
                    {"order_date", CType::kDate},
                    {"total_amount", CType::kNumeric},
                    {"status", CType::kText}};
  orders.shard_key = {"customer_id"};
  orders.unique_key = "order_id";
  orders.pg_ddl =
      "CREATE TABLE orders (order_id bigint, customer_id uuid, order_date date, "
      "total_amount numeric(10,2), status text, PRIMARY KEY (customer_id, order_id)) "
      "SHARD BY HASH (customer_id)";
  orders.lite_ddl =
      "CREATE TABLE orders (order_id INTEGER, customer_id TEXT, order_date TEXT, "
      "total_amount REAL, status TEXT, PRIMARY KEY (customer_id, order_id))";
  TableSpec items;
  items.name = "order_items";
  items.columns = {{"order_id", CType::kBigint, false},
                   {"customer_id", CType::kUuid, false},
                   {"product_id", CType::kInt, false},
                   {"qty", CType::kInt},
                   {"price", CType::kNumeric}};
  items.shard_key = {"customer_id"};
  items.unique_key = "";  // (order_id, product_id)
  items.pg_ddl =
      "CREATE TABLE order_items (order_id bigint, customer_id uuid, product_id integer, "
      "qty integer, price numeric(10,2), PRIMARY KEY (customer_id, order_id, product_id)) "
      "SHARD BY HASH (customer_id)";
  items.lite_ddl =
      "CREATE TABLE order_items (order_id INTEGER, customer_id TEXT, product_id INTEGER, "
      "qty INTEGER, price REAL, PRIMARY KEY (customer_id, order_id, product_id))";
  const std::vector<std::string> statuses = {"NEW", "PAID", "SHIPPED", "CANCELLED"};
  for (int o = 1; o <= 640; ++o) {
    // The last eight customers have no orders.
    const DVal& cust = customers.rows[rng.Below(56)][0];
    orders.rows.push_back({Int(o), cust, Str(DateFromDays(kDay2025 + 150 + rng.Below(400))),
                           rng.Percent(5) ? Null() : Int(rng.Between(100, 250000)),
                           rng.Percent(5) ? Null() : Str(statuses[rng.Below(4)])});
    int64_t first = rng.Between(1, 18);
    int64_t n_items = rng.Between(1, 3);
    for (int64_t k = 0; k < n_items; ++k) {
      items.rows.push_back({Int(o), cust, Int(first + k),
                            rng.Percent(5) ? Null() : Int(rng.Between(1, 5)),
                            Int(rng.Between(99, 20000))});
    }
  }
  ds.tables.push_back(std::move(customers));
  ds.tables.push_back(std::move(orders));
  ds.tables.push_back(std::move(items));
  ds.tables.push_back(std::move(products));
  return ds;
}

std::string LoadDataset(const Dataset& ds, PgClient* pg, Oracle* oracle) {
  for (const auto& t : ds.tables) {
    ResultSet r = pg->Query(t.pg_ddl);
    if (!r.ok) return "cluster: " + t.pg_ddl + ": " + r.error;
    r = oracle->Query(t.lite_ddl);
    if (!r.ok) return "oracle: " + t.lite_ddl + ": " + r.error;

    // Cluster: multi-row INSERTs (split per shard in autocommit).
    constexpr size_t kBatch = 100;
    for (size_t start = 0; start < t.rows.size(); start += kBatch) {
      std::string sql = "INSERT INTO " + t.name + " VALUES ";
      for (size_t i = start; i < t.rows.size() && i < start + kBatch; ++i) {
        sql += i > start ? ", (" : "(";
        for (size_t c = 0; c < t.columns.size(); ++c) {
          sql += (c ? ", " : "") + PgLiteral(t.columns[c].type, t.rows[i][c]);
        }
        sql += ")";
      }
      r = pg->Query(sql);
      if (!r.ok) return "cluster: loading " + t.name + ": " + r.error;
    }

    // Oracle: bound values.
    std::string sql = "INSERT INTO " + t.name + " VALUES (";
    for (size_t c = 0; c < t.columns.size(); ++c) sql += c ? ", ?" : "?";
    sql += ")";
    sqlite3_exec(oracle->db(), "BEGIN", nullptr, nullptr, nullptr);
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(oracle->db(), sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
      return "oracle: " + sql + ": " + sqlite3_errmsg(oracle->db());
    }
    for (const auto& row : t.rows) {
      for (size_t c = 0; c < t.columns.size(); ++c) {
        NVal v = OracleValue(t.columns[c].type, row[c]);
        int idx = static_cast<int>(c + 1);
        switch (v.kind) {
          case NVal::Kind::kNull:
            sqlite3_bind_null(stmt, idx);
            break;
          case NVal::Kind::kInt:
            sqlite3_bind_int64(stmt, idx, v.i);
            break;
          case NVal::Kind::kReal:
            sqlite3_bind_double(stmt, idx, v.d);
            break;
          case NVal::Kind::kText:
            sqlite3_bind_text(stmt, idx, v.s.data(), static_cast<int>(v.s.size()),
                              SQLITE_TRANSIENT);
            break;
        }
      }
      if (sqlite3_step(stmt) != SQLITE_DONE) {
        std::string err = sqlite3_errmsg(oracle->db());
        sqlite3_finalize(stmt);
        return "oracle: loading " + t.name + ": " + err;
      }
      sqlite3_reset(stmt);
    }
    sqlite3_finalize(stmt);
    sqlite3_exec(oracle->db(), "COMMIT", nullptr, nullptr, nullptr);
  }
  return {};
}

}  // namespace sbtest
