#include "exec/merge.h"

#include "common/interval.h"

#include <cstring>
#include <queue>

namespace sb::exec {

int CompareValues(const Value& a, const Value& b) {
  auto rank = [](const Value& v) {
    if (std::holds_alternative<int64_t>(v) || std::holds_alternative<double>(v)) return 1;
    if (std::holds_alternative<std::string>(v)) return 2;
    if (std::holds_alternative<Blob>(v)) return 3;
    return 0;
  };
  int ra = rank(a), rb = rank(b);
  if (ra != rb) return ra < rb ? -1 : 1;
  if (ra == 1) {
    if (std::holds_alternative<int64_t>(a) && std::holds_alternative<int64_t>(b)) {
      int64_t x = std::get<int64_t>(a), y = std::get<int64_t>(b);
      return x < y ? -1 : x > y ? 1 : 0;
    }
    double x = std::holds_alternative<int64_t>(a) ? static_cast<double>(std::get<int64_t>(a))
                                                  : std::get<double>(a);
    double y = std::holds_alternative<int64_t>(b) ? static_cast<double>(std::get<int64_t>(b))
                                                  : std::get<double>(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (ra == 2 || ra == 3) {
    const std::string& x = ra == 2 ? std::get<std::string>(a) : std::get<Blob>(a).bytes;
    const std::string& y = ra == 2 ? std::get<std::string>(b) : std::get<Blob>(b).bytes;
    int c = std::memcmp(x.data(), y.data(), std::min(x.size(), y.size()));
    if (c != 0) return c < 0 ? -1 : 1;
    return x.size() < y.size() ? -1 : x.size() > y.size() ? 1 : 0;
  }
  return 0;
}

namespace {

// A decimal's parts: sign (-1, 0, 1), integer digits without leading zeros,
// fraction digits without trailing zeros.
struct DecimalParts {
  int sign = 0;
  std::string_view int_digits, frac_digits;
};

bool SplitDecimal(std::string_view s, DecimalParts* out) {
  bool negative = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  size_t dot = s.find('.');
  std::string_view ip = s.substr(0, dot);
  std::string_view fp = dot == std::string_view::npos ? std::string_view() : s.substr(dot + 1);
  if (ip.empty() && fp.empty()) return false;
  for (char c : ip) {
    if (c < '0' || c > '9') return false;
  }
  for (char c : fp) {
    if (c < '0' || c > '9') return false;
  }
  while (!ip.empty() && ip.front() == '0') ip.remove_prefix(1);
  while (!fp.empty() && fp.back() == '0') fp.remove_suffix(1);
  out->int_digits = ip;
  out->frac_digits = fp;
  out->sign = ip.empty() && fp.empty() ? 0 : negative ? -1 : 1;
  return true;
}

int Sign(int c) {
  return c < 0 ? -1 : c > 0 ? 1 : 0;
}

}  // namespace

int CompareDecimalText(std::string_view a, std::string_view b) {
  DecimalParts x, y;
  bool xa = SplitDecimal(a, &x), yb = SplitDecimal(b, &y);
  if (!xa || !yb) {
    if (xa != yb) return xa ? -1 : 1;
    return Sign(a.compare(b));
  }
  if (x.sign != y.sign) return x.sign < y.sign ? -1 : 1;
  if (x.sign == 0) return 0;
  int mag;  // |x| vs |y|
  if (x.int_digits.size() != y.int_digits.size()) {
    mag = x.int_digits.size() < y.int_digits.size() ? -1 : 1;
  } else {
    mag = Sign(x.int_digits.compare(y.int_digits));
    if (mag == 0) mag = Sign(x.frac_digits.compare(y.frac_digits));
  }
  return x.sign < 0 ? -mag : mag;
}

int CompareRows(const Row& a, const Row& b, const std::vector<SortKey>& keys) {
  for (const auto& k : keys) {
    const Value& x = a[k.column];
    const Value& y = b[k.column];
    bool xn = IsNull(x), yn = IsNull(y);
    if (xn || yn) {
      if (xn && yn) continue;
      // NULL sorts first only with NULLS FIRST, whatever the direction.
      return (xn == k.nulls_first) ? -1 : 1;
    }
    const bool both_text =
        std::holds_alternative<std::string>(x) && std::holds_alternative<std::string>(y);
    int c = 0;
    if (k.decimal_text && both_text) {
      c = CompareDecimalText(std::get<std::string>(x), std::get<std::string>(y));
    } else if (k.interval_span && both_text) {
      c = CompareIntervalSpans(std::get<std::string>(x), std::get<std::string>(y));
    } else {
      c = CompareValues(x, y);
    }
    if (c != 0) return k.descending ? -c : c;
  }
  return 0;
}

std::vector<Row> MergeSorted(std::vector<std::vector<Row>> runs, const std::vector<SortKey>& keys,
                             int64_t offset, std::optional<int64_t> limit) {
  struct Cursor {
    size_t run;
    size_t pos;
  };
  auto later = [&](const Cursor& a, const Cursor& b) {
    int c = CompareRows(runs[a.run][a.pos], runs[b.run][b.pos], keys);
    if (c != 0) return c > 0;
    return a.run > b.run;  // stable across runs
  };
  std::priority_queue<Cursor, std::vector<Cursor>, decltype(later)> heap(later);
  for (size_t i = 0; i < runs.size(); ++i) {
    if (!runs[i].empty()) heap.push({i, 0});
  }
  std::vector<Row> out;
  int64_t skipped = 0;
  while (!heap.empty()) {
    if (limit && static_cast<int64_t>(out.size()) >= *limit) break;
    Cursor c = heap.top();
    heap.pop();
    if (skipped < offset) {
      ++skipped;
    } else {
      out.push_back(std::move(runs[c.run][c.pos]));
    }
    if (c.pos + 1 < runs[c.run].size()) heap.push({c.run, c.pos + 1});
  }
  return out;
}

}  // namespace sb::exec
