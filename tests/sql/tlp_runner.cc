#include "tlp_runner.h"

#include <cstdio>
#include <functional>
#include <utility>
#include <vector>

#include "tlp_oracle.h"

namespace sbtest {
namespace {

constexpr const char* kUnsupported = "unsupported";

std::string ParamsText(const std::vector<Param>& params) {
  std::string s;
  for (size_t i = 0; i < params.size(); ++i) {
    s += (i ? ", $" : "$") + std::to_string(i + 1) + " = " +
         (params[i].pg_text ? "'" + *params[i].pg_text + "'" : "NULL");
  }
  return s;
}

std::string Indent(const std::string& text, const std::string& pad) {
  std::string out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    out += pad + text.substr(pos, nl - pos) + "\n";
    pos = nl + 1;
  }
  return out;
}

// Smaller variants of a query, the biggest cuts first.
std::vector<QuerySpec> SimplerQueries(const QuerySpec& q, bool drop_select) {
  std::vector<QuerySpec> out;
  auto add = [&](const std::function<void(QuerySpec&)>& f) {
    QuerySpec c = q;
    f(c);
    out.push_back(std::move(c));
  };
  if (!q.limit_pg.empty()) {
    add([](QuerySpec& c) { c.limit_pg.clear(), c.limit_lite.clear(); });
  }
  if (!q.order_by.empty()) {
    add([](QuerySpec& c) {
      c.order_by.clear();
      c.limit_pg.clear();
      c.limit_lite.clear();
      c.ordered = false;
    });
  }
  if (!q.having.empty()) add([](QuerySpec& c) { c.having.clear(); });
  for (size_t i = 0; i < q.having.size(); ++i) {
    for (const auto& s : q.having[i].simpler) add([&](QuerySpec& c) { c.having[i] = s; });
  }
  for (size_t i = 0; i < q.where.size(); ++i) {
    add([&](QuerySpec& c) { c.where.erase(c.where.begin() + static_cast<ptrdiff_t>(i)); });
    for (const auto& s : q.where[i].simpler) add([&](QuerySpec& c) { c.where[i] = s; });
  }
  for (const auto& s : q.from.simpler) add([&](QuerySpec& c) { c.from = s; });
  if (drop_select && q.select.size() > 1) {
    for (size_t i = 0; i < q.select.size(); ++i) {
      add([&](QuerySpec& c) { c.select.erase(c.select.begin() + static_cast<ptrdiff_t>(i)); });
    }
  }
  if (q.distinct && drop_select) add([](QuerySpec& c) { c.distinct = false; });
  return out;
}

std::vector<TlpCase> SimplerTlp(const TlpCase& t) {
  std::vector<TlpCase> out;
  for (const auto& s : t.p.simpler) {
    out.push_back(t);
    out.back().p = s;
  }
  // DISTINCT and GROUP BY keys are sets only as long as every key is selected;
  // aggregate columns line up with their combine rule.
  bool drop_select = t.kind == TlpCase::Kind::kWhere || t.kind == TlpCase::Kind::kHaving;
  for (auto& b : SimplerQueries(t.base, drop_select)) {
    if (t.kind == TlpCase::Kind::kDistinct && !b.distinct) continue;
    out.push_back(t);
    out.back().base = std::move(b);
  }
  if (t.kind == TlpCase::Kind::kAggregate) {
    const size_t nk = static_cast<size_t>(t.n_keys);
    for (size_t i = nk; i < t.base.select.size() && t.combine.size() > 1; ++i) {
      TlpCase c = t;
      c.base.select.erase(c.base.select.begin() + static_cast<ptrdiff_t>(i));
      c.combine.erase(c.combine.begin() + static_cast<ptrdiff_t>(i - nk));
      out.push_back(std::move(c));
    }
    if (nk > 0) {
      TlpCase c = t;
      c.base.select.erase(c.base.select.begin(),
                          c.base.select.begin() + static_cast<ptrdiff_t>(nk));
      c.base.group_by.clear();
      c.n_keys = 0;
      out.push_back(std::move(c));
    }
  }
  return out;
}

// Greedy shrinking: take the first smaller variant that still fails the
// same way, until none does or the budget is spent.
template <typename S>
S Shrink(const S& start, const std::string& sig, int budget,
         const std::function<std::vector<S>(const S&)>& candidates,
         const std::function<std::string(const S&)>& signature) {
  S best = start;
  bool progress = true;
  while (progress && budget > 0) {
    progress = false;
    for (const auto& c : candidates(best)) {
      if (budget-- <= 0) break;
      if (signature(c) == sig) {
        best = c;
        progress = true;
        break;
      }
    }
  }
  return best;
}

}  // namespace

struct Checker::DiffRun {
  DiffQuery q;
  ResultSet c, o;
  std::string sig;  // empty: pass
  std::string why;
};

struct Checker::TlpRun {
  std::vector<DiffQuery> qs;
  std::vector<ResultSet> res;
  ResultSet combined;
  std::string sig;
  std::string why;
};

Checker::Checker(std::string conninfo, Oracle* oracle)
    : conninfo_(std::move(conninfo)), oracle_(oracle) {}

Checker::~Checker() = default;

ResultSet Checker::Cluster(const DiffQuery& q) {
  if (pg_ == nullptr || !pg_->connected()) pg_ = std::make_unique<PgClient>(conninfo_);
  ++statements_;
  return pg_->Query(q.pg, q.params);
}

Checker::DiffRun Checker::RunDiff(const QuerySpec& spec) {
  DiffRun r;
  r.q = spec.Render();
  r.c = Cluster(r.q);
  if (!r.c.ok && r.c.sqlstate == "0A000" && spec.category != kSingleTable) {
    r.sig = kUnsupported;
    return r;
  }
  r.o = oracle_->Query(r.q.lite, r.q.params);
  if (r.c.ok && r.o.ok) {
    r.why = CompareResults(r.c, r.o, r.q.ordered);
    if (!r.why.empty()) r.sig = "rows";
  } else if (!r.c.ok && r.o.ok) {
    r.sig = "cluster error " + r.c.sqlstate;
    r.why = "the cluster failed, the oracle did not";
  } else if (r.c.ok) {
    r.sig = "oracle error";
    r.why = "the oracle failed (a generator bug)";
  } else {
    r.sig = "both failed";
    r.why = "both engines failed (a generator bug)";
  }
  return r;
}

Outcome Checker::Differential(const QuerySpec& spec) {
  CategoryCounts& n = counts_["diff " + spec.category];
  ++n.run;
  DiffRun r = RunDiff(spec);
  Outcome out;
  if (r.sig == kUnsupported) {
    ++n.unsupported;
    out.kind = Outcome::Kind::kUnsupported;
    return out;
  }
  ++n.compared;
  if (r.sig.empty()) return out;
  ++n.mismatches;
  out.kind = Outcome::Kind::kMismatch;

  const std::string sig = r.sig;
  QuerySpec small = Shrink<QuerySpec>(
      spec, sig, shrink_budget_, [](const QuerySpec& q) { return SimplerQueries(q, true); },
      [this](const QuerySpec& q) { return RunDiff(q).sig; });
  DiffRun s = small.Render().pg == r.q.pg ? r : RunDiff(small);
  std::string rep = "MISMATCH [" + spec.label + "] category " + spec.category + ": " + s.why + "\n";
  rep += "  PostgreSQL dialect (cluster): " + s.q.pg + "\n";
  rep += "  SQLite dialect (oracle):      " + s.q.lite + "\n";
  if (!s.q.params.empty()) rep += "  parameters: " + ParamsText(s.q.params) + "\n";
  rep += std::string("  compared ") + (s.q.ordered ? "in order" : "as multisets") + "\n";
  rep += "  cluster: " + s.c.Describe();
  rep += "  oracle:  " + s.o.Describe();
  if (s.q.pg != r.q.pg) {
    rep += "  shrunk from:\n";
    rep += "  PostgreSQL dialect (cluster): " + r.q.pg + "\n";
    rep += "  SQLite dialect (oracle):      " + r.q.lite + "\n";
    if (!r.q.params.empty()) rep += "  parameters: " + ParamsText(r.q.params) + "\n";
    rep += "  (" + r.why + ")\n";
  }
  out.report = rep;
  return out;
}

Checker::TlpRun Checker::RunTlp(const TlpCase& c) {
  static const char* const kNames[] = {"base", "p", "NOT p", "p IS NULL"};
  TlpRun r;
  for (int i = 0; i < 4; ++i) {
    r.qs.push_back(c.Partition(i).Render());
    r.res.push_back(Cluster(r.qs.back()));
    const ResultSet& res = r.res.back();
    if (!res.ok) {
      if (res.sqlstate == "0A000" && c.base.category != kSingleTable) {
        r.sig = kUnsupported;
      } else {
        r.sig = std::string(i == 0 ? "base" : "partition") + " error " + res.sqlstate;
        r.why =
            std::string("the ") + kNames[i] + " query failed: " + res.sqlstate + " " + res.error;
      }
      return r;
    }
  }
  r.combined = CombineTlp(c, {r.res[1], r.res[2], r.res[3]});
  std::string why = CompareResults(r.res[0], r.combined, false);
  if (!why.empty()) {
    // CompareResults names its sides cluster and oracle: here they are the
    // base query and the recombined partitions.
    r.sig = "rows";
    for (const auto& [from, to] : std::vector<std::pair<std::string, std::string>>{
             {"cluster row", "base row"},
             {"the oracle's result", "the recombined partitions"},
             {"cluster ", "base "},
             {"oracle ", "recombined "}}) {
      for (size_t at = why.find(from); at != std::string::npos; at = why.find(from, at + 1)) {
        why.replace(at, from.size(), to);
      }
    }
    r.why = "base query vs recombined partitions: " + why;
  }
  return r;
}

std::string Checker::TlpReport(const TlpCase& c, const TlpRun& r) {
  static const char* const kNames[] = {"base     ", "p        ", "NOT p    ", "p IS NULL"};
  std::string rep = "TLP MISMATCH [" + c.label + "] " + TlpCase::KindName(c.kind) + ", category " +
                    c.base.category + ": " + r.why + "\n";
  rep += "  predicate p (PostgreSQL): " + c.p.pg + "\n";
  rep += "  queries (PostgreSQL dialect, run on the cluster):\n";
  for (size_t i = 0; i < r.qs.size(); ++i)
    rep += "    " + std::string(kNames[i]) + " " + r.qs[i].pg + "\n";
  if (!r.qs.empty() && !r.qs[0].params.empty()) {
    rep += "    parameters: " + ParamsText(r.qs[0].params) + "\n";
  }
  rep += "  cluster results:\n";
  for (size_t i = 0; i < r.res.size(); ++i) {
    rep += Indent(std::string(kNames[i]) + ": " + r.res[i].Describe(20), "    ");
  }
  if (r.res.size() == 4) rep += Indent("recombined: " + r.combined.Describe(20), "    ");
  // The same queries on the oracle point at the wrong one.
  rep += "  the same queries on the SQLite oracle (SQLite dialect):\n";
  for (size_t i = 0; i < r.qs.size(); ++i) {
    ResultSet o = oracle_->Query(r.qs[i].lite, r.qs[i].params);
    rep += "    " + std::string(kNames[i]) + " " + r.qs[i].lite + "\n";
    rep += Indent("oracle: " + o.Describe(20), "      ");
    if (i < r.res.size()) {
      std::string why = CompareResults(r.res[i], o, false);
      rep += "      " +
             (why.empty() ? std::string("same rows as the cluster")
                          : "DIFFERS from the cluster: " + why) +
             "\n";
    }
  }
  return rep;
}

Outcome Checker::Tlp(const TlpCase& c) {
  CategoryCounts& n = counts_["tlp " + c.base.category];
  ++n.run;
  TlpRun r = RunTlp(c);
  Outcome out;
  if (r.sig == kUnsupported) {
    ++n.unsupported;
    out.kind = Outcome::Kind::kUnsupported;
    return out;
  }
  ++n.compared;
  if (r.sig.empty()) return out;
  ++n.mismatches;
  out.kind = Outcome::Kind::kMismatch;
  const std::string sig = r.sig;
  TlpCase small = Shrink<TlpCase>(
      c, sig, shrink_budget_ / 2, [](const TlpCase& t) { return SimplerTlp(t); },
      [this](const TlpCase& t) { return RunTlp(t).sig; });
  TlpRun s = RunTlp(small);
  out.report = TlpReport(small, s);
  if (s.qs.empty() || s.qs[0].pg != r.qs[0].pg || small.p.pg != c.p.pg) {
    out.report += "  shrunk from: base " + r.qs[0].pg + "\n    with p = " + c.p.pg + "\n";
  }
  return out;
}

void Checker::Merge(const std::map<std::string, CategoryCounts>& other) {
  for (const auto& [k, v] : other) {
    CategoryCounts& n = counts_[k];
    n.run += v.run;
    n.compared += v.compared;
    n.unsupported += v.unsupported;
    n.mismatches += v.mismatches;
  }
}

CategoryCounts Checker::Total() const {
  CategoryCounts t;
  for (const auto& [k, v] : counts_) {
    t.run += v.run;
    t.compared += v.compared;
    t.unsupported += v.unsupported;
    t.mismatches += v.mismatches;
  }
  return t;
}

std::string SummaryOf(const std::map<std::string, CategoryCounts>& counts) {
  std::string s;
  char buf[200];
  std::snprintf(buf, sizeof buf, "  %-32s %8s %9s %12s %11s\n", "oracle category", "run",
                "compared", "unsupported", "mismatches");
  s += buf;
  for (const auto& [k, v] : counts) {
    std::snprintf(buf, sizeof buf, "  %-32s %8lld %9lld %12lld %11lld\n", k.c_str(),
                  static_cast<long long>(v.run), static_cast<long long>(v.compared),
                  static_cast<long long>(v.unsupported), static_cast<long long>(v.mismatches));
    s += buf;
  }
  return s;
}

std::string Checker::Summary() const {
  return SummaryOf(counts_);
}

std::string Checker::UnsupportedLine() const {
  std::map<std::string, int64_t> by;
  for (const auto& [k, v] : counts_) {
    if (v.unsupported == 0) continue;
    by[k.substr(k.find(' ') + 1)] += v.unsupported;
  }
  std::string s;
  for (const auto& [k, v] : by) s += (s.empty() ? "" : ", ") + k + " " + std::to_string(v);
  return s.empty() ? "none" : s;
}

}  // namespace sbtest
