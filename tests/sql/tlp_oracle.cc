#include "tlp_oracle.h"

#include <algorithm>
#include <map>

namespace sbtest {
namespace {

double AsDouble(const NVal& v) {
  return v.kind == NVal::Kind::kInt ? static_cast<double>(v.i) : v.d;
}

struct RowLess {
  size_t n;  // compare the first n values
  bool operator()(const std::vector<NVal>& a, const std::vector<NVal>& b) const {
    for (size_t i = 0; i < n && i < a.size() && i < b.size(); ++i) {
      int c = CompareExact(a[i], b[i]);
      if (c != 0) return c < 0;
    }
    return false;
  }
};

NVal Fold(const NVal& a, const NVal& b, TlpCase::Combine how) {
  // Aggregates skip NULLs: an empty partition contributes nothing.
  if (a.kind == NVal::Kind::kNull) return b;
  if (b.kind == NVal::Kind::kNull) return a;
  switch (how) {
    case TlpCase::Combine::kSum:
      if (a.kind == NVal::Kind::kInt && b.kind == NVal::Kind::kInt) return NVal::Int(a.i + b.i);
      return NVal::Real(AsDouble(a) + AsDouble(b));
    case TlpCase::Combine::kMin:
    case TlpCase::Combine::kAnd:
      return CompareExact(b, a) < 0 ? b : a;
    case TlpCase::Combine::kMax:
    case TlpCase::Combine::kOr:
      return CompareExact(b, a) > 0 ? b : a;
  }
  return a;
}

}  // namespace

int CompareExact(const NVal& a, const NVal& b) {
  auto rank = [](const NVal& v) {
    switch (v.kind) {
      case NVal::Kind::kNull:
        return 0;
      case NVal::Kind::kInt:
      case NVal::Kind::kReal:
        return 1;
      case NVal::Kind::kText:
        return 2;
    }
    return 3;
  };
  int ra = rank(a), rb = rank(b);
  if (ra != rb) return ra < rb ? -1 : 1;
  if (ra == 1) {
    if (a.kind == NVal::Kind::kInt && b.kind == NVal::Kind::kInt) {
      return a.i < b.i ? -1 : a.i > b.i ? 1 : 0;
    }
    double x = AsDouble(a), y = AsDouble(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (ra == 2) return a.s < b.s ? -1 : a.s > b.s ? 1 : 0;
  return 0;
}

ResultSet CombineTlp(const TlpCase& c, const std::vector<ResultSet>& partitions) {
  ResultSet out;
  if (!partitions.empty()) out.columns = partitions[0].columns;
  const size_t width = out.columns.size();
  switch (c.kind) {
    case TlpCase::Kind::kWhere:
    case TlpCase::Kind::kHaving:
      for (const auto& p : partitions)
        out.rows.insert(out.rows.end(), p.rows.begin(), p.rows.end());
      break;
    case TlpCase::Kind::kDistinct:
    case TlpCase::Kind::kGroupKeys: {
      for (const auto& p : partitions)
        out.rows.insert(out.rows.end(), p.rows.begin(), p.rows.end());
      RowLess less{width};
      std::sort(out.rows.begin(), out.rows.end(), less);
      out.rows.erase(
          std::unique(out.rows.begin(), out.rows.end(),
                      [&](const auto& a, const auto& b) { return !less(a, b) && !less(b, a); }),
          out.rows.end());
      break;
    }
    case TlpCase::Kind::kAggregate: {
      const size_t nk = static_cast<size_t>(c.n_keys);
      std::map<std::vector<NVal>, std::vector<NVal>, RowLess> groups(RowLess{nk});
      for (const auto& p : partitions) {
        for (const auto& row : p.rows) {
          auto [it, fresh] = groups.emplace(row, row);
          if (fresh) continue;
          for (size_t i = nk; i < row.size() && i - nk < c.combine.size(); ++i) {
            it->second[i] = Fold(it->second[i], row[i], c.combine[i - nk]);
          }
        }
      }
      for (auto& [key, row] : groups) out.rows.push_back(std::move(row));
      break;
    }
  }
  return out;
}

}  // namespace sbtest
