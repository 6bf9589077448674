#include "query_gen.h"

#include <algorithm>
#include <cstdio>

namespace sbtest {
namespace {

std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

// Text constants: values present in the data and near misses.
const std::vector<std::string>& TextConstants() {
  static const std::vector<std::string> w = {
      "apple", "Apple",     "banana",      "a_b",      "a%b",   "",     "zeta",
      "kiwi",  "m",         "B",           "x",        "Zulu",  "red",  "blue",
      "Red",   "NEW",       "PAID",        "SHIPPED",  "NORTH", "toys", " pad",
      "b",     "apple pie", "\xC3\xA9lan", "CANCELLED"};
  return w;
}

// LIKE patterns: anchors, '_' and '%' wildcards, escaped metacharacters.
const std::vector<std::string>& LikePatterns() {
  static const std::vector<std::string> p = {"a%",   "%e",   "%a_b%", "A%",  "_",         "%\\_%",
                                             "",     "%",    "%p%",   "a%b", "%\\%%",     "_____",
                                             "%l_n", "%an%", "R%",    "%E%", "\xC3\xA9%", "__"};
  return p;
}

std::string FormatScaled(int64_t v, int scale) {
  std::string digits = std::to_string(v < 0 ? -v : v);
  while (static_cast<int>(digits.size()) <= scale) digits = "0" + digits;
  std::string s = digits.substr(0, digits.size() - scale);
  if (scale > 0) s += "." + digits.substr(digits.size() - scale);
  return (v < 0 ? "(-" : "") + s + (v < 0 ? ")" : "");
}

std::string Num(int64_t v) {
  return v < 0 ? "(" + std::to_string(v) + ")" : std::to_string(v);
}

}  // namespace

QueryGen::QueryGen(uint64_t seed, const Dataset* ds) : rng_(seed), ds_(ds) {}

Piece QueryGen::ToPiece(const E& e) {
  Piece p{e.pg, e.lite, {}};
  for (const auto& k : e.kids) p.simpler.push_back(ToPiece(k));
  return p;
}

const QueryGen::Source& QueryGen::OwnerOf(const ColumnSpec& c) const {
  for (const auto& s : scope_) {
    for (const auto& col : s.table->columns) {
      if (&col == &c) return s;
    }
  }
  return scope_.front();
}

void QueryGen::SetSingleScope(const TableSpec* t) {
  scope_ = {{t, t->name}};
  qualify_ = false;
  using_join_ = false;
}

std::vector<std::string> QueryGen::UniqueKeys() const {
  std::vector<std::string> out;
  for (const auto& s : scope_) {
    std::vector<std::string> cols;
    if (!s.table->unique_key.empty()) {
      cols.push_back(s.table->unique_key);
    } else if (s.table->name == "order_items") {
      cols = {"order_id", "product_id"};
    } else {
      for (const auto& c : s.table->columns) cols.push_back(c.name);
    }
    for (const auto& c : cols) out.push_back(Qualified() ? s.alias + "." + c : c);
  }
  return out;
}

std::vector<const ColumnSpec*> QueryGen::Columns(std::initializer_list<CType> types) const {
  std::vector<const ColumnSpec*> out;
  for (const auto& s : scope_) {
    for (const auto& c : s.table->columns) {
      for (CType t : types) {
        if (c.type == t) out.push_back(&c);
      }
    }
  }
  return out;
}

QueryGen::E QueryGen::Column(const ColumnSpec& c) const {
  E e;
  e.pg = e.lite = Qualified() ? OwnerOf(c).alias + "." + c.name : c.name;
  e.is_column = true;
  switch (c.type) {
    case CType::kInt:
    case CType::kBigint:
      e.type = T::kInt;
      break;
    case CType::kNumeric:
      e.type = T::kNum;
      e.scale = 2;
      break;
    case CType::kDouble:
      e.type = T::kFloat;
      break;
    case CType::kText:
      e.type = T::kText;
      break;
    case CType::kBool:
      e.type = T::kBool;
      break;
    case CType::kDate:
      e.type = T::kDate;
      break;
    case CType::kUuid:
      e.type = T::kUuid;
      break;
  }
  return e;
}

QueryGen::E QueryGen::Lit(T type, int scale) {
  E e;
  e.type = type;
  switch (type) {
    case T::kInt:
      e.pg = e.lite = Num(static_cast<int64_t>(Below(121)) - 60);
      break;
    case T::kNum:
    case T::kNumFree:
      e.type = T::kNum;
      e.scale = scale;
      e.pg = e.lite = FormatScaled(static_cast<int64_t>(Below(200001)) - 100000, scale);
      break;
    case T::kFloat: {
      double v = (static_cast<double>(Below(4001)) - 2000) / 4;
      char buf[64];
      std::snprintf(buf, sizeof buf, v < 0 ? "(%.2f)" : "%.2f", v);
      e.pg = e.lite = buf;
      break;
    }
    case T::kText:
      e.pg = e.lite = Quote(Pick(TextConstants()));
      break;
    case T::kBool:
      e.pg = e.lite = Pct(50) ? "true" : "false";
      break;
    case T::kDate: {
      std::string d = Quote(DateFromDays(20089 + static_cast<int64_t>(Below(800))));
      e.lite = d;
      uint64_t form = Below(3);
      e.pg = form == 0 ? d : form == 1 ? "DATE " + d : d + "::date";
      break;
    }
    case T::kUuid: {
      const auto& t = ds_->Table("customers");
      e.pg = e.lite = Quote(t.rows[Below(t.rows.size())][0].s);
      break;
    }
  }
  return e;
}

QueryGen::E QueryGen::ValueLit(const ColumnSpec& c) {
  E col = Column(c);
  const TableSpec& table = *OwnerOf(c).table;
  int idx = table.ColumnIndex(c.name);
  for (int attempt = 0; attempt < 8 && !table.rows.empty() && Pct(80); ++attempt) {
    const DVal& v = table.rows[Below(table.rows.size())][idx];
    if (v.null) continue;
    E e;
    e.type = col.type;
    e.scale = col.scale;
    e.pg = PgLiteral(c.type, v);
    e.lite = LiteLiteral(c.type, v);
    if (c.type == CType::kNumeric || c.type == CType::kInt || c.type == CType::kBigint ||
        c.type == CType::kDouble) {
      if (!e.pg.empty() && e.pg[0] == '-') {
        e.pg = "(" + e.pg + ")";
        e.lite = "(" + e.lite + ")";
      }
    }
    return e;
  }
  return Lit(col.type, 2);
}

QueryGen::E QueryGen::Bin(const E& a, const std::string& op, const E& b, T type) const {
  E e;
  e.pg = "(" + a.pg + " " + op + " " + b.pg + ")";
  e.lite = "(" + a.lite + " " + op + " " + b.lite + ")";
  e.type = type;
  e.exact = a.exact && b.exact;
  e.agg = a.agg || b.agg;
  return e;
}

QueryGen::E QueryGen::IntExpr(int depth) {
  auto cols = Columns({CType::kInt, CType::kBigint});
  uint64_t r = depth <= 0 ? Below(4) : Below(11);
  if (r < 4) return cols.empty() ? Lit(T::kInt) : Column(*Pick(cols));
  switch (r) {
    case 4:
    case 5:
      return Bin(IntExpr(depth - 1), Pct(50) ? "+" : "-",
                 Pct(70) ? IntExpr(depth - 1) : Lit(T::kInt), T::kInt);
    case 6: {
      E lit;
      lit.pg = lit.lite = Num(static_cast<int64_t>(Below(19)) - 9);
      return Bin(IntExpr(depth - 1), "*", lit, T::kInt);
    }
    case 7: {
      // Division and modulo by non-zero constants only: PostgreSQL raises
      // 22012 on division by zero where SQLite returns NULL.
      static const std::vector<int64_t> divisors = {1, 2, 3, 5, 7, 10, -3, 100};
      E lit;
      lit.pg = lit.lite = Num(Pick(divisors));
      return Bin(IntExpr(depth - 1), Pct(50) ? "/" : "%", lit, T::kInt);
    }
    case 8: {
      E a = IntExpr(depth - 1);
      E e = a;
      e.pg = Pct(50) ? "abs(" + a.pg + ")" : "(- " + a.pg + ")";
      e.lite = e.pg[0] == 'a' ? "abs(" + a.lite + ")" : "(- " + a.lite + ")";
      e.is_column = false;
      return e;
    }
    case 9: {
      auto texts = Columns({CType::kText});
      if (!texts.empty()) {
        E s = TextExpr(depth - 1);
        E e;
        e.type = T::kInt;
        e.pg = "length(" + s.pg + ")";
        e.lite = "length(" + s.lite + ")";
        e.exact = s.exact;
        return e;
      }
      [[fallthrough]];
    }
    default: {
      if (Pct(50) && !cols.empty()) {
        E c = Column(*Pick(cols)), l = Lit(T::kInt);
        E e;
        e.type = T::kInt;
        e.pg = "coalesce(" + c.pg + ", " + l.pg + ")";
        e.lite = "coalesce(" + c.lite + ", " + l.lite + ")";
        return e;
      }
      E p = Pred(depth - 1), a = IntExpr(depth - 1), b = IntExpr(depth - 1);
      E e;
      e.type = T::kInt;
      e.pg = "CASE WHEN " + p.pg + " THEN " + a.pg + " ELSE " + b.pg + " END";
      e.lite = "CASE WHEN " + p.lite + " THEN " + a.lite + " ELSE " + b.lite + " END";
      e.exact = a.exact && b.exact;
      return e;
    }
  }
}

QueryGen::E QueryGen::NumExpr(int depth) {
  auto cols = Columns({CType::kNumeric});
  if (cols.empty()) {
    E half;
    half.type = T::kNum;
    half.scale = 1;
    half.pg = half.lite = "0.5";
    E e = Bin(IntExpr(depth - 1), "*", half, T::kNum);
    e.scale = 1;
    e.exact = false;
    return e;
  }
  E n = Column(*Pick(cols));
  uint64_t r = depth <= 0 ? 0 : Below(9);
  E e;
  switch (r) {
    case 0:
    case 1:
      return n;
    case 2:
      e = Bin(n, Pct(50) ? "+" : "-", NumExpr(depth - 1), T::kNum);
      e.scale = 2;
      break;
    case 3:
      e = Bin(n, Pct(50) ? "+" : "-", IntExpr(depth - 1), T::kNum);
      e.scale = 2;
      break;
    case 4: {
      E lit;
      lit.pg = lit.lite = Num(static_cast<int64_t>(Below(11)) - 5);
      e = Bin(n, "*", lit, T::kNum);
      e.scale = 2;
      break;
    }
    case 5: {
      static const std::vector<std::pair<std::string, int>> factors = {
          {"1.5", 1}, {"0.25", 2}, {"2.0", 1}, {"0.1", 1}};
      const auto& f = Pick(factors);
      E lit;
      lit.pg = lit.lite = f.first;
      e = Bin(n, "*", lit, T::kNum);
      e.scale = 2 + f.second;
      break;
    }
    case 6:
      e = n;
      e.pg = "abs(" + n.pg + ")";
      e.lite = "abs(" + n.lite + ")";
      e.is_column = false;
      return e;
    case 7:
      e = n;
      e.pg = "(- " + n.pg + ")";
      e.lite = "(- " + n.lite + ")";
      e.is_column = false;
      return e;
    default: {
      E l = Lit(T::kNum, 2);
      e = n;
      e.pg = "coalesce(" + n.pg + ", " + l.pg + ")";
      e.lite = "coalesce(" + n.lite + ", " + l.lite + ")";
      e.is_column = false;
      return e;
    }
  }
  e.exact = false;  // the oracle computes on doubles
  return e;
}

QueryGen::E QueryGen::FloatExpr(int depth) {
  auto cols = Columns({CType::kDouble});
  E x = Column(*Pick(cols));
  uint64_t r = depth <= 0 ? 0 : Below(8);
  // The column holds multiples of 0.25 of moderate size: sums, differences
  // and products by small binary fractions are exact in both engines.
  switch (r) {
    case 0:
    case 1:
      return x;
    case 2:
      return Bin(x, Pct(50) ? "+" : "-", FloatExpr(depth - 1), T::kFloat);
    case 3: {
      E lit;
      lit.pg = lit.lite = Pick(std::vector<std::string>{"2", "0.5", "(-1.5)", "4"});
      return Bin(x, "*", lit, T::kFloat);
    }
    case 4:
      return Bin(x, Pct(50) ? "+" : "-", IntExpr(depth - 1), T::kFloat);
    case 5: {
      E e = x;
      e.pg = "abs(" + x.pg + ")";
      e.lite = "abs(" + x.lite + ")";
      e.is_column = false;
      return e;
    }
    case 6: {
      E l = Lit(T::kFloat);
      E e = x;
      e.pg = "coalesce(" + x.pg + ", " + l.pg + ")";
      e.lite = "coalesce(" + x.lite + ", " + l.lite + ")";
      e.is_column = false;
      return e;
    }
    default: {
      auto nums = Columns({CType::kNumeric});
      if (nums.empty()) return x;
      E e = Bin(x, "+", Column(*Pick(nums)), T::kFloat);  // numeric + float8 = float8
      e.exact = false;
      return e;
    }
  }
}

QueryGen::E QueryGen::TextExpr(int depth) {
  auto cols = Columns({CType::kText});
  E s = Column(*Pick(cols));
  uint64_t r = depth <= 0 ? Below(2) : Below(11);
  E e = s;
  e.is_column = false;
  switch (r) {
    case 9: {
      // Simple CASE: each WHEN compares under its own common type.
      auto ints = Columns({CType::kInt, CType::kBigint, CType::kNumeric});
      if (ints.empty()) return s;
      E a = Column(*Pick(ints));
      std::string body;
      int n = 1 + static_cast<int>(Below(3));
      for (int i = 0; i < n; ++i) {
        int64_t v = static_cast<int64_t>(Below(12)) - 2;
        std::string val = Pct(30) ? std::to_string(v) + ".5" : std::to_string(v);
        if (v < 0) val = "(" + val + ")";
        body += " WHEN " + val + " THEN " + Quote("w" + std::to_string(i));
      }
      e.pg = "CASE " + a.pg + body + (Pct(50) ? " ELSE 'else'" : "") + " END";
      e.lite = "CASE " + a.lite + body +
               (e.pg.find("ELSE") != std::string::npos ? " ELSE 'else'" : "") + " END";
      return e;
    }
    case 0:
    case 1:
      return s;
    case 2:
    case 3: {
      const char* f = r == 2 ? "lower" : "upper";
      e.pg = std::string(f) + "(" + s.pg + ")";
      e.lite = std::string(f) + "(" + s.lite + ")";
      return e;
    }
    case 4: {
      E l = Lit(T::kText);
      return Pct(50) ? Bin(s, "||", l, T::kText) : Bin(l, "||", s, T::kText);
    }
    case 5: {
      E l = Lit(T::kText);
      e.pg = "coalesce(" + s.pg + ", " + l.pg + ")";
      e.lite = "coalesce(" + s.lite + ", " + l.lite + ")";
      return e;
    }
    case 6: {
      auto ints = Columns({CType::kInt, CType::kBigint});
      if (ints.empty()) return s;
      return Bin(s, "||", Column(*Pick(ints)), T::kText);
    }
    case 7: {
      auto ints = Columns({CType::kInt, CType::kBigint});
      if (ints.empty()) return s;
      E a = Column(*Pick(ints));
      e.pg = Pct(50) ? a.pg + "::text" : "CAST(" + a.pg + " AS text)";
      e.lite = "CAST(" + a.lite + " AS TEXT)";
      return e;
    }
    default: {
      E p = Pred(depth - 1), l = Lit(T::kText);
      e.pg = "CASE WHEN " + p.pg + " THEN " + s.pg + " ELSE " + l.pg + " END";
      e.lite = "CASE WHEN " + p.lite + " THEN " + s.lite + " ELSE " + l.lite + " END";
      return e;
    }
  }
}

QueryGen::E QueryGen::DateExpr(int depth) {
  auto cols = Columns({CType::kDate});
  E d = Column(*Pick(cols));
  uint64_t r = depth <= 0 ? 0 : Below(6);
  E e = d;
  e.is_column = false;
  switch (r) {
    case 0:
    case 1:
      return d;
    case 4: {
      // date + a small (nullable) integer column: NULL days give NULL.
      std::vector<const ColumnSpec*> small;
      for (const auto* c : Columns({CType::kInt})) {
        if (c->name == "k" || c->name == "a" || c->name == "c") small.push_back(c);
      }
      if (small.empty()) return d;
      std::string k = Column(*Pick(small)).pg;
      bool plus = Pct(50);
      e.pg = "(" + d.pg + (plus ? " + " : " - ") + k + ")";
      e.lite = "date(" + d.lite + ", (" + (plus ? "" : "- ") + k + ") || ' days')";
      return e;
    }
    case 2:
    case 3: {
      int64_t days = static_cast<int64_t>(Below(181)) - 90;
      bool plus = r == 2;
      e.pg = "(" + d.pg + (plus ? " + " : " - ") + Num(days) + ")";
      e.lite = "date(" + d.lite + ", '" + std::to_string(plus ? days : -days) + " days')";
      return e;
    }
    default: {
      E l = Lit(T::kDate);
      e.pg = "coalesce(" + d.pg + ", " + l.pg + ")";
      e.lite = "coalesce(" + d.lite + ", " + l.lite + ")";
      return e;
    }
  }
}

QueryGen::E QueryGen::Compare(int depth) {
  static const std::vector<std::string> ops = {"=", "<>", "<", "<=", ">", ">="};
  std::vector<T> kinds;
  if (!Columns({CType::kInt, CType::kBigint}).empty()) kinds.insert(kinds.end(), 3, T::kInt);
  if (!Columns({CType::kNumeric}).empty()) kinds.insert(kinds.end(), 2, T::kNum);
  if (!Columns({CType::kDouble}).empty()) kinds.push_back(T::kFloat);
  if (!Columns({CType::kText}).empty()) kinds.insert(kinds.end(), 2, T::kText);
  if (!Columns({CType::kDate}).empty()) kinds.push_back(T::kDate);
  if (!Columns({CType::kBool}).empty()) kinds.push_back(T::kBool);
  if (!Columns({CType::kUuid}).empty()) kinds.push_back(T::kUuid);
  T kind = Pick(kinds);
  std::string op = Pick(ops);
  switch (kind) {
    case T::kInt: {
      E a = IntExpr(depth);
      if (!a.is_column && Pct(75)) op = Pick(std::vector<std::string>{"<", "<=", ">", ">="});
      E b;
      if (a.is_column && Pct(50)) {
        b = ValueLit(*Columns({CType::kInt, CType::kBigint})[0]);
        for (const auto* c : Columns({CType::kInt, CType::kBigint})) {
          if (Column(*c).pg == a.pg) b = ValueLit(*c);
        }
      } else {
        b = Pct(60) ? Lit(T::kInt) : IntExpr(depth - 1);
      }
      return Bin(a, op, b, T::kBool);
    }
    case T::kNum: {
      E a = NumExpr(depth);
      E b;
      if (a.exact) {
        b = a.is_column && Pct(50) ? ValueLit(*Columns({CType::kNumeric})[0]) : Lit(T::kNum, 2);
        if (Pct(15)) b = IntExpr(0);  // numeric vs integer
      } else {
        // Never equal to a value of `a` (one more digit, ending in 5), so the
        // oracle's rounding cannot flip the outcome.
        b = Lit(T::kNum, a.scale + 1);
        if (b.pg.back() != ')') {
          b.pg.back() = '5';
        } else {
          b.pg[b.pg.size() - 2] = '5';
        }
        b.lite = b.pg;
      }
      return Bin(a, op, b, T::kBool);
    }
    case T::kFloat: {
      E a = FloatExpr(depth);
      if (!a.exact) {
        E b = Lit(T::kFloat);
        b.pg = b.lite = "(" + b.pg + " + 0.125)";  // never equal to a value of `a`
        return Bin(a, op, b, T::kBool);
      }
      return Bin(a, op, Pct(70) ? Lit(T::kFloat) : IntExpr(depth - 1), T::kBool);
    }
    case T::kText: {
      E a = TextExpr(depth);
      E b = Lit(T::kText);
      return Pct(80) ? Bin(a, op, b, T::kBool) : Bin(b, op, a, T::kBool);
    }
    case T::kDate:
      return Bin(DateExpr(depth), op, Lit(T::kDate), T::kBool);
    case T::kBool: {
      E f = Column(*Pick(Columns({CType::kBool})));
      if (Pct(30)) return Bin(f, Pct(50) ? "=" : "<>", Compare(0), T::kBool);
      return Bin(f, Pct(50) ? "=" : "<>", Lit(T::kBool), T::kBool);
    }
    case T::kUuid:
    default: {
      const ColumnSpec& c = *Pick(Columns({CType::kUuid}));
      return Bin(Column(c), Pct(70) ? "=" : "<>", ValueLit(c), T::kBool);
    }
  }
}

QueryGen::E QueryGen::Pred(int depth) {
  uint64_t r = depth <= 0 ? Below(10) : Below(16);
  E e;
  e.type = T::kBool;
  auto wrap = [&](const std::string& pg, const std::string& lite) {
    e.pg = "(" + pg + ")";
    e.lite = "(" + lite + ")";
    return e;
  };
  switch (r) {
    case 0:
    case 1:
    case 2:
      return Compare(depth - 1);
    case 3: {  // BETWEEN
      std::string nt = Pct(25) ? " NOT" : "";
      std::vector<const ColumnSpec*> cols =
          Columns({CType::kInt, CType::kBigint, CType::kNumeric, CType::kDate, CType::kText});
      const ColumnSpec& c = *Pick(cols);
      E x = c.type == CType::kInt || c.type == CType::kBigint ? IntExpr(depth - 1) : Column(c);
      E lo = x.is_column ? ValueLit(c) : Lit(T::kInt);
      E hi = x.is_column ? ValueLit(c) : Lit(T::kInt);
      return wrap(x.pg + nt + " BETWEEN " + lo.pg + " AND " + hi.pg,
                  x.lite + nt + " BETWEEN " + lo.lite + " AND " + hi.lite);
    }
    case 4: {  // IN list
      std::string nt = Pct(30) ? " NOT" : "";
      std::vector<const ColumnSpec*> cols = Columns(
          {CType::kInt, CType::kBigint, CType::kNumeric, CType::kDate, CType::kText, CType::kUuid});
      const ColumnSpec& c = *Pick(cols);
      E x = Column(c);
      std::string pl, ll;
      int n = 1 + static_cast<int>(Below(5));
      for (int i = 0; i < n; ++i) {
        E v = Pct(10) ? E{"NULL", "NULL"} : ValueLit(c);
        pl += (i ? ", " : "") + v.pg;
        ll += (i ? ", " : "") + v.lite;
      }
      return wrap(x.pg + nt + " IN (" + pl + ")", x.lite + nt + " IN (" + ll + ")");
    }
    case 5: {  // LIKE
      if (Columns({CType::kText}).empty()) return Compare(depth - 1);
      E s = TextExpr(depth - 1);
      std::string pat = Quote(Pick(LikePatterns()));
      std::string nt = Pct(25) ? " NOT" : "";
      if (Pct(15)) {
        return wrap(s.pg + nt + " ILIKE " + pat,
                    "lower(" + s.lite + ")" + nt + " LIKE lower(" + pat + ") ESCAPE '\\'");
      }
      return wrap(s.pg + nt + " LIKE " + pat, s.lite + nt + " LIKE " + pat + " ESCAPE '\\'");
    }
    case 6: {  // IS [NOT] NULL
      std::string nt = Pct(40) ? " NOT" : "";
      E x = Pct(70)
                ? Column(*Pick(Columns({CType::kInt, CType::kBigint, CType::kNumeric,
                                        CType::kDouble, CType::kText, CType::kBool, CType::kDate})))
                : IntExpr(depth - 1);
      return wrap(x.pg + " IS" + nt + " NULL", x.lite + " IS" + nt + " NULL");
    }
    case 7: {  // boolean column tests
      auto bools = Columns({CType::kBool});
      if (bools.empty()) return Compare(depth - 1);
      std::string f = Column(*Pick(bools)).pg;
      switch (Below(6)) {
        case 0:
          e.pg = e.lite = f;
          return e;
        case 1:
          return wrap("NOT " + f, "NOT " + f);
        case 2:
          return wrap(f + " IS TRUE", f + " IS TRUE");
        case 3:
          return wrap(f + " IS NOT FALSE", f + " IS NOT FALSE");
        case 4:
          return wrap(f + " IS UNKNOWN", f + " IS NULL");
        default:
          return wrap(f + " IS NOT TRUE", f + " IS NOT TRUE");
      }
    }
    case 8: {  // IS [NOT] DISTINCT FROM
      bool nt = Pct(50);
      E a, b;
      if (Pct(50) && !Columns({CType::kText}).empty()) {
        a = TextExpr(depth - 1);
        b = Pct(30) ? E{"NULL", "NULL"} : Lit(T::kText);
      } else {
        a = IntExpr(depth - 1);
        b = Pct(30) ? E{"NULL", "NULL"} : (Pct(50) ? Lit(T::kInt) : IntExpr(depth - 1));
      }
      return wrap(a.pg + (nt ? " IS NOT DISTINCT FROM " : " IS DISTINCT FROM ") + b.pg,
                  a.lite + (nt ? " IS " : " IS NOT ") + b.lite);
    }
    case 9:
      return Compare(depth - 1);
    case 10:
    case 11:
    case 12: {
      E a = Pred(depth - 1), b = Pred(depth - 1);
      E c = Bin(a, "AND", b, T::kBool);
      c.kids = {a, b};
      return c;
    }
    case 13:
    case 14: {
      E a = Pred(depth - 1), b = Pred(depth - 1);
      E c = Bin(a, "OR", b, T::kBool);
      c.kids = {a, b};
      return c;
    }
    default: {
      E a = Pred(depth - 1);
      wrap("NOT " + a.pg, "NOT " + a.lite);
      e.kids = {a};
      return e;
    }
  }
}

QueryGen::E QueryGen::Projection() {
  uint64_t r = Below(23);
  std::vector<const ColumnSpec*> all =
      Columns({CType::kInt, CType::kBigint, CType::kNumeric, CType::kDouble, CType::kText,
               CType::kBool, CType::kDate, CType::kUuid});
  if (r < 8) return Column(*Pick(all));
  if (r >= 20) {
    // Mixed numeric types unified by COALESCE / CASE (int, numeric, float).
    std::vector<E> nums;
    for (const auto* c : Columns({CType::kInt, CType::kBigint, CType::kNumeric, CType::kDouble}))
      nums.push_back(Column(*c));
    nums.push_back(Lit(T::kNum, 1));
    nums.push_back(Lit(T::kInt));
    if (nums.size() < 3) return Column(*Pick(all));
    E a = Pick(nums), b = Pick(nums);
    E e;
    e.exact = false;
    e.type = T::kNum;
    if (r == 20) {
      e.pg = "coalesce(" + a.pg + ", " + b.pg + ")";
      e.lite = "coalesce(" + a.lite + ", " + b.lite + ")";
    } else if (r == 21) {
      E p = Pred(1);
      e.pg = "CASE WHEN " + p.pg + " THEN " + a.pg + " ELSE " + b.pg + " END";
      e.lite = "CASE WHEN " + p.lite + " THEN " + a.lite + " ELSE " + b.lite + " END";
    } else {
      const ColumnSpec& spec = *Pick(all);
      E c = Column(spec);
      if (c.type == T::kBool || c.type == T::kUuid) return c;
      E v = ValueLit(spec);
      e.type = c.type;
      e.pg = "nullif(" + c.pg + ", " + v.pg + ")";
      e.lite = "nullif(" + c.lite + ", " + v.lite + ")";
      e.exact = c.type != T::kNum;
    }
    return e;
  }
  switch (r) {
    case 8:
    case 9:
      if (!Columns({CType::kInt, CType::kBigint}).empty()) return IntExpr(2);
      break;
    case 10:
      if (!Columns({CType::kNumeric}).empty()) return NumExpr(2);
      break;
    case 11: {
      auto nums = Columns({CType::kNumeric});
      if (nums.empty()) break;
      // Exact numeric division: PostgreSQL's numeric result vs SQLite's REAL.
      E n = Column(*Pick(nums));
      E d;
      d.pg = d.lite = Pick(std::vector<std::string>{"4", "3", "7", "2.5", "(-6)"});
      E e = Bin(n, "/", d, T::kNumFree);
      e.exact = false;
      return e;
    }
    case 12:
      if (!Columns({CType::kDouble}).empty()) return FloatExpr(2);
      break;
    case 13:
    case 14:
      if (!Columns({CType::kText}).empty()) return TextExpr(2);
      break;
    case 15:
      if (!Columns({CType::kDate}).empty()) return DateExpr(2);
      break;
    case 16:
    case 17:
      return Pred(1);
    default: {
      auto ints = Columns({CType::kInt, CType::kBigint});
      if (ints.empty()) break;
      E a = Column(*Pick(ints));
      E d;
      d.pg = "2.0";
      d.lite = "2.0";
      E e = Bin(a, "/", d, T::kNumFree);  // integer / numeric constant
      e.exact = false;
      return e;
    }
  }
  return Column(*Pick(all));
}

QueryGen::E QueryGen::GroupKey() {
  std::vector<const ColumnSpec*> cols;
  for (const auto* c : Columns({CType::kInt, CType::kBigint, CType::kNumeric, CType::kDouble,
                                CType::kText, CType::kBool, CType::kDate, CType::kUuid})) {
    if (c->type != CType::kDouble) cols.push_back(c);
  }
  uint64_t r = Below(10);
  if (r < 5) return Column(*Pick(cols));
  auto ints = Columns({CType::kInt, CType::kBigint});
  auto texts = Columns({CType::kText});
  E e;
  switch (r) {
    case 5:
      if (!ints.empty()) {
        E a = Column(*Pick(ints)), m;
        m.pg = m.lite = Pick(std::vector<std::string>{"5", "3", "10"});
        return Bin(a, Pct(50) ? "%" : "/", m, T::kInt);
      }
      break;
    case 6:
      if (!texts.empty()) {
        E s = Column(*Pick(texts));
        e = s;
        e.is_column = false;
        const char* f = Pct(50) ? "lower" : "length";
        e.pg = std::string(f) + "(" + s.pg + ")";
        e.lite = std::string(f) + "(" + s.lite + ")";
        if (f[1] == 'e') e.type = T::kInt;
        return e;
      }
      break;
    case 7:
      if (!ints.empty()) {
        E a = Column(*Pick(ints));
        e = a;
        e.is_column = false;
        e.pg = "coalesce(" + a.pg + ", -1)";
        e.lite = "coalesce(" + a.lite + ", -1)";
        return e;
      }
      break;
    case 8:
      return Compare(0);  // a boolean key
    default:
      break;
  }
  return Column(*Pick(cols));
}

QueryGen::E QueryGen::Aggregate(bool one_place) {
  E e;
  e.agg = true;
  auto ints = Columns({CType::kInt, CType::kBigint});
  auto nums = Columns({CType::kNumeric});
  auto floats = Columns({CType::kDouble});
  std::vector<const ColumnSpec*> all =
      Columns({CType::kInt, CType::kBigint, CType::kNumeric, CType::kDouble, CType::kText,
               CType::kBool, CType::kDate, CType::kUuid});
  uint64_t r = Below(22);
  switch (r) {
    case 0:
    case 1:
    case 2:
      e.pg = e.lite = "count(*)";
      return e;
    case 3:
    case 4: {
      E c = Column(*Pick(all));
      e.pg = "count(" + c.pg + ")";
      e.lite = "count(" + c.lite + ")";
      return e;
    }
    case 5: {
      // COUNT(DISTINCT) across shards only on the shard key (0A000 otherwise);
      // not over joins.
      if (scope_.size() > 1) break;
      const TableSpec* table = scope_[0].table;
      std::string col =
          table->replicated() || one_place
              ? Column(*Pick(all)).pg
              : Column(table->columns[static_cast<size_t>(table->ColumnIndex(table->shard_key[0]))])
                    .pg;
      if (table->shard_key.size() > 1 && !one_place && !table->replicated()) break;
      e.pg = e.lite = "count(DISTINCT " + col + ")";
      return e;
    }
    case 6:
    case 7:
    case 8: {
      if (ints.empty()) break;
      E a = IntExpr(1);
      e.pg = "sum(" + a.pg + ")";
      e.lite = "sum(" + a.lite + ")";
      return e;
    }
    case 9:
    case 10: {
      if (nums.empty()) break;
      E n = NumExpr(1);
      e.type = T::kNum;
      e.scale = n.scale;
      e.pg = "sum(" + n.pg + ")";
      // Rounded to the sum's scale, the oracle's double sum is the exact
      // decimal (as the nearest double), so it sorts and compares as one.
      e.lite = "round(sum(" + n.lite + "), " + std::to_string(n.scale) + ")";
      return e;
    }
    case 11: {
      if (floats.empty()) break;
      E x = FloatExpr(1);
      e.type = T::kFloat;
      e.exact = x.exact;
      e.pg = "sum(" + x.pg + ")";
      e.lite = "sum(" + x.lite + ")";
      return e;
    }
    case 12:
    case 13:
    case 14:
    case 15: {
      const char* f = r % 2 ? "min" : "max";
      std::vector<const ColumnSpec*> cs;
      for (const auto* c : all) {
        if (c->type != CType::kBool && c->type != CType::kUuid) cs.push_back(c);
      }
      E a = r >= 14 && !ints.empty() ? IntExpr(1) : Column(*Pick(cs));
      if (r >= 14 && a.exact == false) a = Column(*Pick(cs));
      e.type = a.type;
      e.scale = a.scale;
      e.pg = std::string(f) + "(" + a.pg + ")";
      e.lite = std::string(f) + "(" + a.lite + ")";
      return e;
    }
    case 16:
    case 17: {
      E a;
      if (Pct(40) && !nums.empty()) {
        a = Column(*Pick(nums));
        e.type = T::kNumFree;
      } else if (Pct(30) && !floats.empty()) {
        a = FloatExpr(1);
        e.type = T::kFloat;
      } else if (!ints.empty()) {
        a = IntExpr(1);
        e.type = T::kNumFree;
      } else {
        break;
      }
      e.exact = false;
      e.pg = "avg(" + a.pg + ")";
      // PostgreSQL's avg of integer and numeric is exact: groups with the same
      // average tie. The oracle's double average differs in the last bits
      // with the order of addition, so it is rounded to keep such ties.
      e.lite = e.type == T::kNumFree ? "round(avg(" + a.lite + "), 10)" : "avg(" + a.lite + ")";
      return e;
    }
    case 18: {
      auto bools = Columns({CType::kBool});
      E p = bools.empty() || Pct(40) ? Compare(0) : Column(*Pick(bools));
      bool is_and = Pct(50);
      e.type = T::kBool;
      e.pg = std::string(is_and ? "bool_and(" : "bool_or(") + p.pg + ")";
      e.lite = std::string(is_and ? "min(" : "max(") + p.lite + ")";
      return e;
    }
    case 19: {
      if (!one_place || ints.empty()) break;
      E a = Column(*Pick(ints));
      const char* f = Pct(50) ? "sum" : "count";
      e.pg = e.lite = std::string(f) + "(DISTINCT " + a.pg + ")";
      return e;
    }
    case 20: {  // arithmetic over aggregates
      if (ints.empty()) break;
      E a = Column(*Pick(ints));
      if (Pct(30) && !nums.empty()) {
        // sum over a CASE unifying numeric and integer branches
        E n = Column(*Pick(nums)), p = Compare(0);
        e.type = T::kNum;
        e.pg = "sum(CASE WHEN " + p.pg + " THEN " + n.pg + " ELSE " + a.pg + " END)";
        e.lite =
            "round(sum(CASE WHEN " + p.lite + " THEN " + n.lite + " ELSE " + a.lite + " END), 2)";
        return e;
      }
      if (Pct(30)) {
        e.pg = e.lite = "(- sum(" + a.pg + "))";
        return e;
      }
      e.pg = "(max(" + a.pg + ") - min(" + a.pg + "))";
      e.lite = e.pg;
      return e;
    }
    default: {
      E lit = Lit(T::kInt);
      e.pg = "(count(*) * 2 + " + lit.pg + ")";
      e.lite = "(count(*) * 2 + " + lit.lite + ")";
      return e;
    }
  }
  e.pg = e.lite = "count(*)";
  return e;
}

QueryGen::E QueryGen::HavingPred(const std::vector<E>& aggs, const std::vector<E>& keys,
                                 int depth) {
  static const std::vector<std::string> ops = {"=", "<>", "<", "<=", ">", ">="};
  uint64_t r = depth <= 0 ? Below(6) : Below(9);
  E lit;
  switch (r) {
    case 0:
    case 1: {
      lit.pg = lit.lite = std::to_string(Below(25));
      E c;
      c.pg = c.lite = "count(*)";
      return Bin(c, Pick(ops), lit, T::kBool);
    }
    case 2:
    case 3: {
      // An aggregate of the select list (or a new one) against a constant of its type.
      E a = !aggs.empty() && Pct(60) ? Pick(aggs) : Aggregate(false);
      if (a.type == T::kNumFree) {
        // avg(): exact decimal text on the cluster, a double in the oracle.
        // A constant with 9 fraction digits ending in 5 is never equal to the
        // average of a group of fewer than 128 rows of cents, so the
        // oracle's rounding cannot flip the outcome.
        const int64_t whole = static_cast<int64_t>(Below(400)) - 100;
        const int64_t frac = static_cast<int64_t>(Below(100000000)) * 10 + 5;
        lit.pg = lit.lite = FormatScaled(whole * 1000000000 + (whole < 0 ? -frac : frac), 9);
        return Bin(a, Pick(ops), lit, T::kBool);
      }
      if (a.type == T::kFloat && !a.exact) {
        E c;
        c.pg = c.lite = "count(*)";
        a = c;
        a.type = T::kInt;
      }
      switch (a.type) {
        case T::kNum:
          lit = Lit(T::kNum, a.scale + 1);
          if (lit.pg.back() != ')') {
            lit.pg.back() = '5';
          } else {
            lit.pg[lit.pg.size() - 2] = '5';
          }
          lit.lite = lit.pg;
          break;
        case T::kText:
        case T::kDate:
        case T::kFloat:
        case T::kBool:
          lit = Lit(a.type);
          break;
        default:
          lit.pg = lit.lite = Num(static_cast<int64_t>(Below(400)) - 100);
      }
      return Bin(a, Pick(ops), lit, T::kBool);
    }
    case 4:
    case 5: {
      if (keys.empty()) return HavingPred(aggs, keys, 0);
      const E& k = Pick(keys);
      E e;
      e.type = T::kBool;
      e.pg = "(" + k.pg + " IS NOT NULL)";
      e.lite = "(" + k.lite + " IS NOT NULL)";
      return e;
    }
    case 6:
    case 7: {
      E a = HavingPred(aggs, keys, depth - 1), b = HavingPred(aggs, keys, depth - 1);
      E c = Bin(a, r == 6 ? "AND" : "OR", b, T::kBool);
      c.kids = {a, b};
      return c;
    }
    default: {
      E a = HavingPred(aggs, keys, depth - 1);
      E n = a;
      n.pg = "(NOT " + a.pg + ")";
      n.lite = "(NOT " + a.lite + ")";
      n.kids = {a};
      return n;
    }
  }
}

std::string QueryGen::OrderItem(const std::string& pg_expr, const std::string& lite_expr,
                                std::string* lite_out) {
  uint64_t dir = Below(3), nulls = Below(3);
  bool desc = dir == 2;
  std::string pg = pg_expr + (dir == 1 ? " ASC" : desc ? " DESC" : "");
  if (nulls == 1) pg += " NULLS FIRST";
  if (nulls == 2) pg += " NULLS LAST";
  // PostgreSQL's default: NULLS LAST for ASC, NULLS FIRST for DESC.
  bool nulls_first = nulls == 1 || (nulls == 0 && desc);
  *lite_out =
      lite_expr + (desc ? " DESC" : " ASC") + (nulls_first ? " NULLS FIRST" : " NULLS LAST");
  return pg;
}

namespace {

std::string LimitClause(uint64_t limit_roll, uint64_t offset_roll, bool has_limit,
                        bool has_offset) {
  std::string s;
  if (has_limit) s += " LIMIT " + std::to_string(limit_roll);
  if (has_offset) s += " OFFSET " + std::to_string(offset_roll);
  return s;
}

std::string Join(const std::vector<Piece>& v, const std::string& sep, bool pg, bool paren) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) {
    const std::string& t = pg ? v[i].pg : v[i].lite;
    s += (i ? sep : "") + (paren ? "(" + t + ")" : t);
  }
  return s;
}

}  // namespace

DiffQuery QuerySpec::Render() const {
  DiffQuery q;
  q.label = label;
  for (bool pg : {true, false}) {
    std::string s = distinct ? "SELECT DISTINCT " : "SELECT ";
    s += Join(select, ", ", pg, false);
    s += " FROM " + (pg ? from.pg : from.lite);
    if (!where.empty()) s += " WHERE " + Join(where, " AND ", pg, where.size() > 1);
    if (!group_by.empty()) s += " GROUP BY " + Join(group_by, ", ", pg, false);
    if (!having.empty()) s += " HAVING " + Join(having, " AND ", pg, having.size() > 1);
    if (!order_by.empty()) s += " ORDER BY " + Join(order_by, ", ", pg, false);
    s += pg ? limit_pg : limit_lite;
    (pg ? q.pg : q.lite) = s;
  }
  q.ordered = ordered && !order_by.empty();
  // Parameters only while the query still uses them (a shrunk query may not).
  if (q.pg.find('$') != std::string::npos) q.params = params;
  return q;
}

const char* TlpCase::KindName(Kind k) {
  switch (k) {
    case Kind::kWhere:
      return "where";
    case Kind::kAggregate:
      return "aggregate";
    case Kind::kDistinct:
      return "distinct";
    case Kind::kGroupKeys:
      return "group-keys";
    case Kind::kHaving:
      return "having";
  }
  return "?";
}

QuerySpec TlpCase::Partition(int which) const {
  QuerySpec q = base;
  if (which == 0) return q;
  static const char* const kNames[] = {"", "p", "NOT p", "p IS NULL"};
  Piece c;
  auto make = [&](const std::string& p) {
    return which == 1 ? "(" + p + ")" : which == 2 ? "(NOT (" + p + "))" : "((" + p + ") IS NULL)";
  };
  c.pg = make(p.pg);
  c.lite = make(p.lite);
  (kind == Kind::kHaving ? q.having : q.where).push_back(c);
  q.label += std::string(" [") + kNames[which] + "]";
  return q;
}

void QueryGen::PlainQuery(QuerySpec* q, bool allow_limit) {
  std::vector<E> items;
  bool star = !using_join_ && Pct(8);
  if (star) {
    q->select.push_back({"*", "*", {}});
    for (const auto& s : scope_) {
      for (const auto& c : s.table->columns) items.push_back(Column(c));
    }
  } else {
    int n = 1 + static_cast<int>(Below(4));
    for (int i = 0; i < n; ++i) {
      E e = Projection();
      std::string alias = " AS c" + std::to_string(i + 1);
      q->select.push_back({e.pg + alias, e.lite + alias, {}});
      items.push_back(e);
    }
  }
  if (Pct(70)) {
    auto add = [&](const std::string& pg_expr, const std::string& lite_expr) {
      std::string lo;
      std::string p = OrderItem(pg_expr, lite_expr, &lo);
      q->order_by.push_back({p, lo, {}});
    };
    int n = static_cast<int>(Below(3));
    for (int i = 0; i < n; ++i) {
      uint64_t which = Below(items.size());
      const E& it = items[which];
      if (!it.exact && it.type != T::kNumFree) continue;
      uint64_t how = star ? Below(2) : Below(3);
      if (how == 0) {
        add(std::to_string(which + 1), std::to_string(which + 1));
      } else if (how == 1) {
        add(it.pg, it.lite);
      } else {
        add("c" + std::to_string(which + 1), "c" + std::to_string(which + 1));
      }
    }
    if (Pct(30)) {  // a sort key that is not in the select list
      const Source& s = Pick(scope_);
      const ColumnSpec& c = s.table->columns[Below(s.table->columns.size())];
      if (c.type != CType::kDouble || Pct(50)) {
        E col = Column(c);
        add(col.pg, col.lite);
      }
    }
    for (const auto& k : UniqueKeys()) add(k, k);
    q->ordered = true;
    if (allow_limit) {
      bool has_limit = Pct(45), has_offset = Pct(25);
      std::string lim = LimitClause(Below(40), Below(60), has_limit, has_offset);
      q->limit_pg = lim;
      q->limit_lite = has_offset && !has_limit ? " LIMIT -1" + lim : lim;
    }
  }
}

void QueryGen::AggregateQuery(QuerySpec* q, bool one_place, bool scalar) {
  std::vector<E> keys;
  if (!scalar) {
    int n = 1 + static_cast<int>(Pct(35));
    for (int i = 0; i < n; ++i) {
      E k = GroupKey();
      bool dup = std::any_of(keys.begin(), keys.end(), [&](const E& x) { return x.pg == k.pg; });
      if (!dup) keys.push_back(k);
    }
  }
  std::vector<E> aggs;
  int n_aggs = 1 + static_cast<int>(Below(3));
  for (int i = 0; i < n_aggs; ++i) aggs.push_back(Aggregate(one_place));

  struct Item {
    E e;
    bool is_key;
  };
  std::vector<Item> items;
  std::vector<int> key_ordinal(keys.size(), 0);
  for (size_t i = 0; i < keys.size(); ++i) {
    if (Pct(85)) {
      items.push_back({keys[i], true});
      key_ordinal[i] = static_cast<int>(items.size());
    }
  }
  for (const auto& a : aggs) items.push_back({a, false});
  for (const auto& it : items) q->select.push_back({it.e.pg, it.e.lite, {}});
  for (size_t i = 0; i < keys.size(); ++i) {
    bool by_ordinal = key_ordinal[i] > 0 && Pct(30);
    if (by_ordinal) {
      std::string o = std::to_string(key_ordinal[i]);
      q->group_by.push_back({o, o, {}});
    } else {
      q->group_by.push_back({keys[i].pg, keys[i].lite, {}});
    }
  }
  if (Pct(30) || (scalar && Pct(20))) q->having.push_back(ToPiece(HavingPred(aggs, keys, 2)));
  if (!keys.empty() && Pct(60)) {
    auto add = [&](const std::string& pg_expr, const std::string& lite_expr) {
      std::string lo;
      std::string p = OrderItem(pg_expr, lite_expr, &lo);
      q->order_by.push_back({p, lo, {}});
    };
    int n = static_cast<int>(Below(3));
    for (int i = 0; i < n; ++i) {
      uint64_t which = Below(items.size());
      const E& it = items[which].e;
      if (!it.exact && it.type != T::kNumFree) continue;
      std::string ipg = Pct(50) ? std::to_string(which + 1) : it.pg;
      std::string ilite = ipg == it.pg ? it.lite : ipg;
      add(ipg, ilite);
    }
    // Every group key last: the groups are then totally ordered.
    for (const auto& k : keys) add(k.pg, k.lite);
    q->ordered = true;
    bool has_limit = Pct(40), has_offset = Pct(20);
    std::string lim = LimitClause(Below(12), Below(8), has_limit, has_offset);
    q->limit_pg = lim;
    q->limit_lite = has_offset && !has_limit ? " LIMIT -1" + lim : lim;
  }
}

void QueryGen::DistinctQuery(QuerySpec* q) {
  std::vector<E> items;
  int n = 1 + static_cast<int>(Below(3));
  for (int i = 0; i < n; ++i) items.push_back(GroupKey());
  q->distinct = true;
  for (const auto& it : items) q->select.push_back({it.pg, it.lite, {}});
  if (Pct(60)) {
    for (size_t i = 0; i < items.size(); ++i) {
      std::string lo, ord = std::to_string(i + 1);
      std::string p = OrderItem(ord, ord, &lo);
      q->order_by.push_back({p, lo, {}});
    }
    q->ordered = true;
    if (Pct(40)) q->limit_pg = q->limit_lite = " LIMIT " + std::to_string(Below(15));
  }
}

std::string QueryGen::Shape(QuerySpec* q, bool one_place) {
  uint64_t shape = Below(100);
  if (shape < 30) {
    PlainQuery(q, true);
    return "plain";
  }
  if (shape < 42) {
    for (const auto& k : UniqueKeys()) q->select.push_back({k, k, {}});
    return "probe";
  }
  if (shape < 72) {
    AggregateQuery(q, one_place, false);
    return "group";
  }
  if (shape < 84) {
    AggregateQuery(q, one_place, true);
    return "scalar-agg";
  }
  DistinctQuery(q);
  return "distinct";
}

Piece QueryGen::ShardPin(std::vector<Param>* params, bool* one_place) {
  // Pin the shard key of the first table: equality (one shard, maybe a $1
  // parameter) or an IN list.
  const TableSpec& t = *scope_[0].table;
  const ColumnSpec& key = t.columns[static_cast<size_t>(t.ColumnIndex(t.shard_key[0]))];
  const std::string name = Column(key).pg;
  Piece out;
  if (Pct(60)) {
    E v = ValueLit(key);
    if (params != nullptr && Pct(40)) {
      const DVal& dv = t.rows[Below(t.rows.size())][static_cast<size_t>(t.ColumnIndex(key.name))];
      Param p;
      p.pg_text = key.type == CType::kUuid ? dv.s : std::to_string(dv.i);
      p.lite = OracleValue(key.type, dv);
      params->push_back(p);
      out.pg = name + " = $1";
      out.lite = name + " = ?1";
    } else {
      out.pg = name + " = " + v.pg;
      out.lite = name + " = " + v.lite;
    }
    if (one_place != nullptr) *one_place = true;
  } else {
    int n = 2 + static_cast<int>(Below(4));
    std::string pl, ll;
    for (int i = 0; i < n; ++i) {
      E v = ValueLit(key);
      pl += (i ? ", " : "") + v.pg;
      ll += (i ? ", " : "") + v.lite;
    }
    out.pg = name + " IN (" + pl + ")";
    out.lite = name + " IN (" + ll + ")";
  }
  return out;
}

namespace {

// One join step: the table joined, and its equality conditions with an
// earlier table of the FROM clause (by position).
struct JoinStep {
  const char* table;
  int left;
  std::vector<std::pair<const char*, const char*>> on;  // left column = right column
  bool can_use_using;  // the column names are the same on both sides
};
struct JoinTemplate {
  const char* first;
  std::vector<JoinStep> steps;
  const char* kind;  // colocated, reference, noncolocated
};

const std::vector<JoinTemplate>& JoinTemplates() {
  static const std::vector<JoinTemplate> v = {
      // Co-located on customer_id (the join condition contains the shard key).
      {"customers", {{"orders", 0, {{"customer_id", "customer_id"}}, true}}, "colocated"},
      {"orders", {{"customers", 0, {{"customer_id", "customer_id"}}, true}}, "colocated"},
      {"orders",
       {{"order_items", 0, {{"customer_id", "customer_id"}, {"order_id", "order_id"}}, true}},
       "colocated"},
      {"customers", {{"order_items", 0, {{"customer_id", "customer_id"}}, true}}, "colocated"},
      {"customers",
       {{"orders", 0, {{"customer_id", "customer_id"}}, false},
        {"order_items", 1, {{"customer_id", "customer_id"}, {"order_id", "order_id"}}, false}},
       "colocated"},
      // With a REPLICATED table, on either side.
      {"order_items", {{"products", 0, {{"product_id", "product_id"}}, true}}, "reference"},
      {"products", {{"order_items", 0, {{"product_id", "product_id"}}, true}}, "reference"},
      {"t", {{"r", 0, {{"k", "c"}}, false}}, "reference"},
      {"r", {{"t", 0, {{"c", "k"}}, false}}, "reference"},
      {"t", {{"products", 0, {{"k", "product_id"}}, false}}, "reference"},
      {"r", {{"products", 0, {{"c", "product_id"}}, false}}, "reference"},
      {"orders",
       {{"order_items", 0, {{"customer_id", "customer_id"}, {"order_id", "order_id"}}, false},
        {"products", 1, {{"product_id", "product_id"}}, false}},
       "reference"},
      // Not on the shard key, or tables sharded on different keys.
      {"t", {{"orders", 0, {{"a", "order_id"}}, false}}, "noncolocated"},
      {"orders", {{"t", 0, {{"order_id", "a"}}, false}}, "noncolocated"},
      {"orders", {{"order_items", 0, {{"order_id", "order_id"}}, true}}, "noncolocated"},
      {"customers",
       {{"orders", 0, {{"customer_id", "customer_id"}}, false},
        {"t", 1, {{"order_id", "a"}}, false}},
       "noncolocated"},
      // Self-joins.
      {"orders",
       {{"orders", 0, {{"customer_id", "customer_id"}, {"order_date", "order_date"}}, true}},
       "colocated"},
      {"t", {{"t", 0, {{"b", "b"}}, true}}, "noncolocated"},
      {"customers", {{"customers", 0, {{"region", "region"}}, false}}, "noncolocated"},
  };
  return v;
}

}  // namespace

const TableSpec* QueryGen::SecondCopy(const std::string& name) {
  auto& copy = second_copies_[name];
  if (copy == nullptr) copy = std::make_unique<TableSpec>(ds_->Table(name));
  return copy.get();
}

Piece QueryGen::JoinFrom(std::string* category, std::vector<Piece>* where) {
  const JoinTemplate& jt = Pick(JoinTemplates());
  std::vector<const TableSpec*> tables = {&ds_->Table(jt.first)};
  for (const auto& s : jt.steps) {
    // A table joined with itself: the second occurrence is a copy, so that
    // its columns are told apart (and spelled with their own alias).
    bool again = std::any_of(tables.begin(), tables.end(),
                             [&](const TableSpec* t) { return t->name == s.table; });
    tables.push_back(again ? SecondCopy(s.table) : &ds_->Table(s.table));
  }
  auto alias = [](size_t i) { return "j" + std::to_string(i + 1); };

  qualify_ = true;
  using_join_ = false;
  bool any_outer = false, any_extra = false;
  bool use_using = jt.steps.size() == 1 && jt.steps[0].can_use_using && Pct(35);
  // Each step: its join type, the equality conditions, the extra ON predicate.
  // 0 INNER, 1 LEFT, 2 RIGHT, 3 FULL.
  std::vector<int> outer(jt.steps.size());
  int worst = 0;
  std::vector<std::string> cond_pg(jt.steps.size()), cond_lite(jt.steps.size());
  std::vector<std::string> extra_pg(jt.steps.size()), extra_lite(jt.steps.size());
  for (size_t i = 0; i < jt.steps.size(); ++i) {
    const JoinStep& s = jt.steps[i];
    uint64_t r = Below(100);
    outer[i] = r < 45 ? 0 : r < 80 ? 1 : r < 90 ? 2 : 3;
    any_outer = any_outer || outer[i] != 0;
    worst = std::max(worst, outer[i]);
    if (use_using) {
      std::string cols;
      for (const auto& [l, r] : s.on) cols += (cols.empty() ? "" : ", ") + std::string(l);
      cond_pg[i] = cond_lite[i] = " USING (" + cols + ")";
      using_join_ = true;
      continue;
    }
    std::string c;
    for (const auto& [l, r] : s.on) {
      c += (c.empty() ? "" : " AND ") + alias(static_cast<size_t>(s.left)) + "." + l + " = " +
           alias(i + 1) + "." + r;
    }
    cond_pg[i] = cond_lite[i] = c;
    if (Pct(30)) {
      // An extra ON condition over the tables joined so far (for a LEFT JOIN
      // it decides which rows are NULL-extended, unlike the same in WHERE).
      scope_.clear();
      for (size_t k = 0; k <= i + 1; ++k) scope_.push_back({tables[k], alias(k)});
      E p = Pred(1);
      extra_pg[i] = " AND " + p.pg;
      extra_lite[i] = " AND " + p.lite;
      any_extra = true;
    }
  }
  scope_.clear();
  for (size_t k = 0; k < tables.size(); ++k) scope_.push_back({tables[k], alias(k)});

  auto render = [&](bool pg, bool extras, bool outers) {
    static const char* const kJoins[] = {" JOIN ", " LEFT JOIN ", " RIGHT JOIN ", " FULL JOIN "};
    std::string s = tables[0]->name + " AS " + alias(0);
    for (size_t i = 0; i < jt.steps.size(); ++i) {
      s += std::string(kJoins[outers ? outer[i] : 0]) + tables[i + 1]->name + " AS " + alias(i + 1);
      const std::string& c = pg ? cond_pg[i] : cond_lite[i];
      if (use_using) {
        s += c;
      } else {
        s += " ON (" + c + (extras ? (pg ? extra_pg[i] : extra_lite[i]) : "") + ")";
      }
    }
    return s;
  };
  static const char* const kCategory[] = {"join-", "left-join-", "right-join-", "full-join-"};
  *category = std::string(kCategory[worst]) + jt.kind;
  if (!use_using && worst == 0 && Pct(20)) {
    // The same inner join written as a list of tables and WHERE conditions.
    Piece from;
    for (size_t k = 0; k < tables.size(); ++k) {
      from.pg += (k ? ", " : "") + tables[k]->name + " AS " + alias(k);
    }
    from.lite = from.pg;
    for (size_t i = 0; i < jt.steps.size(); ++i) {
      where->push_back({cond_pg[i], cond_lite[i], {}});
      if (!extra_pg[i].empty()) {
        where->push_back({extra_pg[i].substr(5), extra_lite[i].substr(5), {}});  // " AND "
      }
    }
    return from;
  }
  Piece from{render(true, true, true), render(false, true, true), {}};
  if (any_extra)
    from.simpler.push_back({render(true, false, true), render(false, false, true), {}});
  if (any_outer) {
    from.simpler.push_back({render(true, true, false), render(false, true, false), {}});
  }
  if (any_extra && any_outer) {
    from.simpler.push_back({render(true, false, false), render(false, false, false), {}});
  }
  return from;
}

namespace {

// Type-compatible columns of two tables, for IN and scalar subqueries.
struct SubqueryPair {
  const char* outer_table;
  const char* outer_col;
  const char* inner_table;
  const char* inner_col;
  bool orderable;  // min/max exist (not uuid)
};

const std::vector<SubqueryPair>& SubqueryPairs() {
  static const std::vector<SubqueryPair> v = {
      {"t", "k", "r", "c", true},
      {"t", "a", "orders", "order_id", true},
      {"t", "k", "products", "product_id", true},
      {"t", "d", "r", "d", true},
      {"t", "a", "t", "k", true},
      {"r", "c", "t", "k", true},
      {"r", "rk", "t", "a", true},
      {"r", "d", "orders", "order_date", true},
      {"orders", "customer_id", "customers", "customer_id", false},
      {"orders", "order_id", "order_items", "order_id", true},
      {"orders", "order_id", "t", "a", true},
      {"customers", "customer_id", "orders", "customer_id", false},
      {"order_items", "product_id", "products", "product_id", true},
      {"order_items", "order_id", "orders", "order_id", true},
      {"products", "product_id", "order_items", "product_id", true},
      {"products", "product_id", "t", "k", true},
  };
  return v;
}

}  // namespace

Piece QueryGen::SubqueryPred(std::string* category) {
  const TableSpec* outer = scope_[0].table;
  std::vector<const SubqueryPair*> pairs;
  for (const auto& p : SubqueryPairs()) {
    if (outer->name == p.outer_table) pairs.push_back(&p);
  }
  const SubqueryPair& pair = *Pick(pairs);
  const TableSpec& inner = ds_->Table(pair.inner_table);
  const ColumnSpec& ocol = outer->columns[static_cast<size_t>(outer->ColumnIndex(pair.outer_col))];
  E outer_col = Column(ocol);

  // The inner query's WHERE, over the inner table only (uncorrelated).
  auto saved_scope = scope_;
  bool saved_qualify = qualify_;
  scope_ = {{&inner, "sq"}};
  qualify_ = true;
  std::string where_pg, where_lite;
  if (Pct(75)) {
    E p = Pred(static_cast<int>(Below(3)));
    where_pg = " WHERE " + p.pg;
    where_lite = " WHERE " + p.lite;
  }
  uint64_t kind = Below(100);
  Piece out;
  std::string from = " FROM " + inner.name + " AS sq";
  if (kind < 45) {
    std::string nt = Pct(30) ? " NOT" : "";
    out.pg = "(" + outer_col.pg + nt + " IN (SELECT sq." + pair.inner_col + from + where_pg + "))";
    out.lite =
        "(" + outer_col.lite + nt + " IN (SELECT sq." + pair.inner_col + from + where_lite + "))";
    *category = "subquery-in";
  } else if (kind < 70) {
    if (Pct(30)) {
      // Matches exactly one row, or none.
      const ColumnSpec& k = inner.columns[0];
      E v = Pct(50) ? ValueLit(k) : Lit(Column(k).type);
      where_pg += (where_pg.empty() ? " WHERE " : " AND ") + Column(k).pg + " = " + v.pg;
      where_lite += (where_lite.empty() ? " WHERE " : " AND ") + Column(k).lite + " = " + v.lite;
    }
    std::string nt = Pct(40) ? "NOT " : "";
    out.pg = "(" + nt + "EXISTS (SELECT 1" + from + where_pg + "))";
    out.lite = "(" + nt + "EXISTS (SELECT 1" + from + where_lite + "))";
    *category = "subquery-exists";
  } else {
    static const std::vector<std::string> ops = {"=", "<>", "<", "<=", ">", ">="};
    std::string op = Pick(ops);
    std::string agg;
    if (pair.orderable && Pct(75)) {
      agg = std::string(Pct(50) ? "min" : "max") + "(sq." + pair.inner_col + ")";
    } else {
      agg = "count(*)";
      // count(*) against an integer column of the outer table.
      scope_ = saved_scope;
      qualify_ = saved_qualify;
      auto ints = Columns({CType::kInt, CType::kBigint});
      if (ints.empty()) {
        agg = "count(*)";
        outer_col.pg = outer_col.lite = "0";
      } else {
        outer_col = Column(*Pick(ints));
      }
    }
    out.pg = "(" + outer_col.pg + " " + op + " (SELECT " + agg + from + where_pg + "))";
    out.lite = "(" + outer_col.lite + " " + op + " (SELECT " + agg + from + where_lite + "))";
    *category = "subquery-scalar";
  }
  scope_ = saved_scope;
  qualify_ = saved_qualify;
  return out;
}

QueryGen::E QueryGen::TlpAggregate(TlpCase::Combine* how) {
  E e;
  e.agg = true;
  *how = TlpCase::Combine::kSum;
  auto ints = Columns({CType::kInt, CType::kBigint});
  auto nums = Columns({CType::kNumeric});
  auto floats = Columns({CType::kDouble});
  std::vector<const ColumnSpec*> orderable;
  for (const auto* c : Columns({CType::kInt, CType::kBigint, CType::kNumeric, CType::kDouble,
                                CType::kText, CType::kDate})) {
    orderable.push_back(c);
  }
  switch (Below(10)) {
    case 0:
      e.pg = e.lite = "count(*)";
      return e;
    case 1: {
      E c = Column(*Pick(orderable));
      e.pg = e.lite = "count(" + c.pg + ")";
      return e;
    }
    case 2:
    case 3:
      if (ints.empty()) break;
      e.pg = e.lite = "sum(" + IntExpr(1).pg + ")";
      return e;
    case 4:
      if (nums.empty()) break;
      e.pg = e.lite = "sum(" + NumExpr(1).pg + ")";
      return e;
    case 5:
      if (floats.empty()) break;
      e.pg = e.lite = "sum(" + FloatExpr(1).pg + ")";
      return e;
    case 6:
    case 7: {
      bool is_min = Pct(50);
      *how = is_min ? TlpCase::Combine::kMin : TlpCase::Combine::kMax;
      std::string a = !ints.empty() && Pct(30) ? IntExpr(1).pg : Column(*Pick(orderable)).pg;
      e.pg = e.lite = std::string(is_min ? "min(" : "max(") + a + ")";
      return e;
    }
    case 8: {
      auto bools = Columns({CType::kBool});
      std::string p = bools.empty() || Pct(40) ? Compare(0).pg : Column(*Pick(bools)).pg;
      bool is_and = Pct(50);
      *how = is_and ? TlpCase::Combine::kAnd : TlpCase::Combine::kOr;
      e.pg = e.lite = std::string(is_and ? "bool_and(" : "bool_or(") + p + ")";
      return e;
    }
    default:
      break;
  }
  e.pg = e.lite = "count(*)";
  return e;
}

Piece QueryGen::DerivedFrom(std::string* category) {
  uint64_t tr = Below(100);
  const TableSpec& base = ds_->Table(tr < 45   ? "t"
                                     : tr < 65 ? "r"
                                     : tr < 85 ? "orders"
                                               : "order_items");
  SetSingleScope(&base);
  std::string where_pg, where_lite;
  if (Pct(60)) {
    E p = Pred(static_cast<int>(Below(3)));
    where_pg = " WHERE " + p.pg;
    where_lite = " WHERE " + p.lite;
  }
  derived_ = std::make_unique<TableSpec>();
  TableSpec& d = *derived_;
  d.name = "d";
  std::string inner_pg, inner_lite;
  std::vector<std::string> keys;  // of the base table
  if (!base.unique_key.empty()) {
    keys.push_back(base.unique_key);
  } else {
    keys = {"order_id", "product_id"};
  }
  if (Pct(60)) {
    // Projection (and filter), maybe DISTINCT or ORDER BY ... LIMIT: an
    // outer condition must not be applied below the LIMIT.
    std::vector<size_t> cols;
    for (const auto& k : keys) cols.push_back(static_cast<size_t>(base.ColumnIndex(k)));
    int extra = 1 + static_cast<int>(Below(4));
    for (int i = 0; i < extra; ++i) {
      size_t c = Below(base.columns.size());
      if (std::find(cols.begin(), cols.end(), c) == cols.end()) cols.push_back(c);
    }
    bool distinct = Pct(25);
    if (distinct) cols.erase(cols.begin(), cols.begin() + static_cast<ptrdiff_t>(keys.size()));
    // At least one integer column: the expression generators need one.
    if (std::none_of(cols.begin(), cols.end(), [&](size_t c) {
          return base.columns[c].type == CType::kInt || base.columns[c].type == CType::kBigint;
        })) {
      cols.push_back(static_cast<size_t>(base.ColumnIndex(keys[0])));
    }
    std::string list;
    for (size_t c : cols) {
      d.columns.push_back(base.columns[c]);
      list += (list.empty() ? "" : ", ") + base.columns[c].name;
    }
    for (const auto& row : base.rows) {
      std::vector<DVal> r;
      for (size_t c : cols) r.push_back(row[c]);
      d.rows.push_back(std::move(r));
    }
    if (!distinct && keys.size() == 1) {
      d.unique_key = keys[0];
      d.shard_key = {keys[0]};
    } else {
      d.shard_key = {d.columns[0].name};
    }
    inner_pg = inner_lite =
        std::string(distinct ? "SELECT DISTINCT " : "SELECT ") + list + " FROM " + base.name;
    inner_pg += where_pg;
    inner_lite += where_lite;
    if (!distinct && Pct(45)) {
      bool desc = Pct(40);
      std::string order;
      for (const auto& k : keys) order += (order.empty() ? "" : ", ") + k + (desc ? " DESC" : "");
      std::string lim = " LIMIT " + std::to_string(5 + Below(80));
      if (Pct(30)) lim += " OFFSET " + std::to_string(Below(40));
      inner_pg += " ORDER BY " + order + lim;
      inner_lite += " ORDER BY " + order + lim;
    }
    *category = "derived-table";
  } else {
    // Groups: key, count, sum of an integer column, min or max.
    std::vector<const ColumnSpec*> gcols, ints, ordered;
    for (const auto& c : base.columns) {
      if (c.type != CType::kDouble) gcols.push_back(&c);
      if (c.type == CType::kInt) ints.push_back(&c);  // sum(int4) is bigint
      if (c.type != CType::kBool && c.type != CType::kUuid && c.type != CType::kDouble) {
        ordered.push_back(&c);
      }
    }
    const ColumnSpec& g = *Pick(gcols);
    d.columns.push_back(g);
    d.columns.push_back({"cnt", CType::kBigint, false});
    std::string list = g.name + ", count(*) AS cnt";
    if (!ints.empty() && Pct(70)) {
      d.columns.push_back({"s1", CType::kBigint, true});
      list += ", sum(" + Pick(ints)->name + ") AS s1";
    }
    if (Pct(70)) {
      const ColumnSpec& m = *Pick(ordered);
      d.columns.push_back({"m1", m.type, true});
      list += std::string(Pct(50) ? ", min(" : ", max(") + m.name + ") AS m1";
    }
    d.unique_key = g.name;
    d.shard_key = {g.name};
    inner_pg = inner_lite = "SELECT " + list + " FROM " + base.name;
    inner_pg += where_pg + " GROUP BY " + g.name;
    inner_lite += where_lite + " GROUP BY " + g.name;
    if (Pct(25)) {
      std::string h = " HAVING count(*) > " + std::to_string(Below(6));
      inner_pg += h;
      inner_lite += h;
    }
    *category = "derived-aggregate";
  }
  scope_ = {{derived_.get(), "d"}};
  qualify_ = Pct(50);
  using_join_ = false;
  return {"(" + inner_pg + ") AS d", "(" + inner_lite + ") AS d", {}};
}

QuerySpec QueryGen::NextSpec() {
  ++counter_;
  QuerySpec q;
  uint64_t kind = Below(100);
  bool one_place = false;
  std::string on;
  if (kind < static_cast<uint64_t>(join_pct_)) {
    q.from = JoinFrom(&q.category, &q.where);
    on = "join " + q.from.pg;
    // Pin the first table's shard key (the whole join then runs on one shard
    // when it is co-located).
    if (!scope_[0].table->replicated() && Pct(20)) q.where.push_back(ShardPin(&q.params, nullptr));
    if (Pct(subquery_pct_)) {
      std::string sub;
      q.where.push_back(SubqueryPred(&sub));
      q.category = "join+subquery";
    }
  } else if (kind >= static_cast<uint64_t>(join_pct_ + subquery_pct_) &&
             kind < static_cast<uint64_t>(join_pct_ + subquery_pct_ + derived_pct_)) {
    q.from = DerivedFrom(&q.category);
    on = "derived " + q.from.pg;
  } else {
    bool subquery = kind < static_cast<uint64_t>(join_pct_ + subquery_pct_);
    uint64_t tr = Below(100);
    const char* name = tr < 55 ? "t" : tr < 80 ? "r" : "orders";
    if (subquery) {
      name = tr < 40   ? "t"
             : tr < 55 ? "r"
             : tr < 75 ? "orders"
             : tr < 85 ? "customers"
                       : "order_items";
    }
    SetSingleScope(&ds_->Table(name));
    on = name;
    q.from = {name, name, {}};
    one_place = scope_[0].table->replicated();
    if (!scope_[0].table->replicated() && Pct(25)) {
      q.where.push_back(ShardPin(&q.params, &one_place));
    }
    if (subquery) q.where.push_back(SubqueryPred(&q.category));
  }
  if (Pct(80)) q.where.push_back(ToPiece(Pred(static_cast<int>(Below(4)))));
  std::string shape = Shape(&q, one_place);
  if (shape == "plain" && scope_.size() == 1 && q.category.rfind("subquery", 0) == 0 && Pct(30)) {
    // A scalar subquery in the select list.
    auto saved = scope_;
    const TableSpec& inner = ds_->Table(Pick(std::vector<std::string>{"r", "t", "products"}));
    scope_ = {{&inner, "sq"}};
    qualify_ = true;
    E p = Pred(1);
    scope_ = saved;
    qualify_ = false;
    std::string agg = Pct(50) ? "count(*)" : "max(sq." + inner.columns[0].name + ")";
    q.select.push_back({"(SELECT " + agg + " FROM " + inner.name + " AS sq WHERE " + p.pg + ")",
                        "(SELECT " + agg + " FROM " + inner.name + " AS sq WHERE " + p.lite + ")",
                        {}});
    q.category = "subquery-scalar";
  }
  q.label = "gen#" + std::to_string(counter_) + " " + q.category + " " + shape + " on " + on;
  return q;
}

TlpCase QueryGen::NextTlp() {
  ++counter_;
  TlpCase c;
  QuerySpec& q = c.base;
  bool one_place = false;
  std::string on;
  uint64_t from_kind = Below(100);
  if (from_kind < 30) {
    q.from = JoinFrom(&q.category, &q.where);
    on = "join " + q.from.pg;
  } else if (from_kind < 30 + static_cast<uint64_t>(derived_pct_) * 2) {
    q.from = DerivedFrom(&q.category);
    on = "derived " + q.from.pg;
  } else {
    uint64_t tr = Below(100);
    const char* name = tr < 45   ? "t"
                       : tr < 60 ? "r"
                       : tr < 80 ? "orders"
                       : tr < 85 ? "customers"
                       : tr < 95 ? "order_items"
                                 : "products";
    SetSingleScope(&ds_->Table(name));
    on = name;
    q.from = {name, name, {}};
    one_place = scope_[0].table->replicated();
    if (!scope_[0].table->replicated() && Pct(15)) {
      q.where.push_back(ShardPin(&q.params, &one_place));
    }
  }
  if (Pct(40)) q.where.push_back(ToPiece(Pred(static_cast<int>(Below(3)))));

  uint64_t k = Below(100);
  c.kind = k < 35   ? TlpCase::Kind::kWhere
           : k < 65 ? TlpCase::Kind::kAggregate
           : k < 80 ? TlpCase::Kind::kDistinct
           : k < 85 ? TlpCase::Kind::kGroupKeys
                    : TlpCase::Kind::kHaving;
  std::vector<E> keys;
  auto make_keys = [&](int n) {
    for (int i = 0; i < n; ++i) {
      E key = GroupKey();
      bool dup = std::any_of(keys.begin(), keys.end(), [&](const E& x) { return x.pg == key.pg; });
      if (!dup) keys.push_back(key);
    }
    for (const auto& key : keys) {
      q.select.push_back({key.pg, key.lite, {}});
      q.group_by.push_back({key.pg, key.lite, {}});
    }
  };
  switch (c.kind) {
    case TlpCase::Kind::kWhere:
      PlainQuery(&q, false);
      break;
    case TlpCase::Kind::kAggregate: {
      make_keys(static_cast<int>(Below(3)));
      c.n_keys = static_cast<int>(keys.size());
      int n = 1 + static_cast<int>(Below(4));
      for (int i = 0; i < n; ++i) {
        TlpCase::Combine how;
        E a = TlpAggregate(&how);
        q.select.push_back({a.pg, a.lite, {}});
        c.combine.push_back(how);
      }
      break;
    }
    case TlpCase::Kind::kDistinct:
      DistinctQuery(&q);
      q.order_by.clear();
      q.limit_pg = q.limit_lite = "";
      q.ordered = false;
      break;
    case TlpCase::Kind::kGroupKeys:
      make_keys(1 + static_cast<int>(Below(2)));
      break;
    case TlpCase::Kind::kHaving: {
      make_keys(1 + static_cast<int>(Below(2)));
      std::vector<E> aggs;
      int n = 1 + static_cast<int>(Below(3));
      for (int i = 0; i < n; ++i) {
        aggs.push_back(Aggregate(one_place));
        q.select.push_back({aggs.back().pg, aggs.back().lite, {}});
      }
      c.p = ToPiece(HavingPred(aggs, keys, 2));
      break;
    }
  }
  if (c.kind != TlpCase::Kind::kHaving) {
    if (!scope_[0].table->replicated() && q.category.rfind("derived", 0) != 0 && Pct(20)) {
      c.p = ShardPin(nullptr, nullptr);  // routing: the partitions pin, negate, scatter
    } else if (scope_.size() == 1 && q.category == kSingleTable && Pct(15)) {
      // An IN / EXISTS / scalar subquery as p: NOT IN and NULLs.
      c.p = SubqueryPred(&q.category);
    } else {
      c.p = ToPiece(Pred(static_cast<int>(Below(4))));
    }
  }
  c.label = "tlp#" + std::to_string(counter_) + " " + q.category + " " + TlpCase::KindName(c.kind) +
            " on " + on;
  q.label = c.label;
  return c;
}

}  // namespace sbtest
