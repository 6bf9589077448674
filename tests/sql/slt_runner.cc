#include "slt_runner.h"

#include <libpq-fe.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <regex>
#include <set>
#include <sstream>

namespace sbtest {
namespace {

constexpr double kFloatTolerance = 1e-9;
constexpr unsigned kFloat4Oid = 700;
constexpr unsigned kFloat8Oid = 701;

const char kUnsupportedTag[] = "# expect-unsupported:";
const char kDeliberateTag[] = "# deliberate-difference:";
const char kKnownTag[] = "# known-mismatch:";

bool StartsWith(const std::string& s, const std::string& prefix) {
  return s.size() >= prefix.size() && s.compare(0, prefix.size(), prefix) == 0;
}

std::string Trim(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

std::vector<std::string> Words(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> out;
  std::string w;
  while (in >> w) out.push_back(w);
  return out;
}

std::string OneLine(std::string s, size_t max = 160) {
  for (char& c : s) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  std::string out;
  for (char c : s) {
    if (c == ' ' && !out.empty() && out.back() == ' ') continue;
    out += c;
  }
  out = Trim(out);
  if (out.size() > max) out = out.substr(0, max - 3) + "...";
  return out;
}

std::string TypeName(unsigned oid) {
  switch (oid) {
    case 16:
      return "boolean";
    case 17:
      return "bytea";
    case 20:
      return "bigint";
    case 21:
      return "smallint";
    case 23:
      return "integer";
    case 25:
      return "text";
    case 700:
      return "real";
    case 701:
      return "double precision";
    case 1043:
      return "varchar";
    case 1082:
      return "date";
    case 1114:
      return "timestamp";
    case 1184:
      return "timestamptz";
    case 1186:
      return "interval";
    case 1700:
      return "numeric";
    case 2950:
      return "uuid";
    default:
      return "oid " + std::to_string(oid);
  }
}

bool IsFloat(unsigned oid) {
  return oid == kFloat4Oid || oid == kFloat8Oid;
}

bool SameFloat(const std::string& a, const std::string& b) {
  if (a == b) return true;
  char* ea = nullptr;
  char* eb = nullptr;
  double x = std::strtod(a.c_str(), &ea);
  double y = std::strtod(b.c_str(), &eb);
  if (*ea != '\0' || *eb != '\0') return false;
  if (std::isnan(x) || std::isnan(y) || std::isinf(x) || std::isinf(y)) return false;
  double scale = std::max({1.0, std::fabs(x), std::fabs(y)});
  return std::fabs(x - y) <= kFloatTolerance * scale;
}

using Row = std::vector<std::optional<std::string>>;

std::string RowText(const Row& row) {
  std::string s = "(";
  for (size_t i = 0; i < row.size(); ++i) {
    if (i) s += ", ";
    s += row[i] ? "'" + *row[i] + "'" : "NULL";
  }
  return s + ")";
}

bool SameRow(const Row& a, const Row& b, const std::vector<unsigned>& types) {
  if (a.size() != b.size()) return false;
  for (size_t c = 0; c < a.size(); ++c) {
    if (a[c].has_value() != b[c].has_value()) return false;
    if (!a[c]) continue;
    bool fl = c < types.size() && IsFloat(types[c]);
    if (fl ? !SameFloat(*a[c], *b[c]) : *a[c] != *b[c]) return false;
  }
  return true;
}

bool RowLess(const Row& a, const Row& b) {
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    if (a[i] == b[i]) continue;
    if (!a[i]) return true;
    if (!b[i]) return false;
    return *a[i] < *b[i];
  }
  return a.size() < b.size();
}

// The rows' difference, or empty.
std::string CompareRows(const RawResult& sb, const RawResult& pg, bool rowsort) {
  if (sb.rows.size() != pg.rows.size()) {
    return "row count: ScratchBird " + std::to_string(sb.rows.size()) + ", PostgreSQL " +
           std::to_string(pg.rows.size());
  }
  const auto& types = pg.types;
  if (!rowsort) {
    for (size_t r = 0; r < sb.rows.size(); ++r) {
      if (!SameRow(sb.rows[r], pg.rows[r], types)) {
        return "row " + std::to_string(r + 1) + ": ScratchBird " + RowText(sb.rows[r]) +
               ", PostgreSQL " + RowText(pg.rows[r]);
      }
    }
    return {};
  }
  auto a = sb.rows, b = pg.rows;
  std::sort(a.begin(), a.end(), RowLess);
  std::sort(b.begin(), b.end(), RowLess);
  bool same = true;
  for (size_t r = 0; r < a.size() && same; ++r) same = SameRow(a[r], b[r], types);
  if (same) return {};
  // Floats within tolerance may sort differently: pair rows up greedily.
  std::vector<bool> used(b.size(), false);
  for (const auto& row : a) {
    bool found = false;
    for (size_t j = 0; j < b.size() && !found; ++j) {
      if (!used[j] && SameRow(row, b[j], types)) used[j] = found = true;
    }
    if (!found) {
      // Name a PostgreSQL row that ScratchBird lacks, too.
      std::vector<bool> used2(a.size(), false);
      std::string missing;
      for (const auto& prow : b) {
        bool f2 = false;
        for (size_t j = 0; j < a.size() && !f2; ++j) {
          if (!used2[j] && SameRow(a[j], prow, types)) used2[j] = f2 = true;
        }
        if (!f2) {
          missing = RowText(prow);
          break;
        }
      }
      return "ScratchBird row " + RowText(row) + " is not in PostgreSQL's result" +
             (missing.empty() ? "" : " (PostgreSQL has " + missing + ")");
    }
  }
  return {};
}

std::string ReadAll(const std::string& path, bool* ok) {
  std::ifstream in(path);
  *ok = static_cast<bool>(in);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool IsSetupStatement(const SltRecord& r) {
  return r.kind == SltRecord::Kind::kStatementOk;
}

std::string RecordWhere(const SltFile& f, const SltRecord& r) {
  return f.name + ":" + std::to_string(r.line);
}

std::string Indent(const std::string& text, const std::string& pad) {
  std::string out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) out += pad + line + "\n";
  return out;
}

}  // namespace

void SltCounts::Add(const SltCounts& o) {
  files += o.files;
  statements += o.statements;
  queries += o.queries;
  compared += o.compared;
  matched += o.matched;
  unsupported += o.unsupported;
  deliberate += o.deliberate;
  known += o.known;
  failures += o.failures;
  for (const auto& [k, v] : o.unsupported_by_reason) unsupported_by_reason[k] += v;
}

std::string ParseSltFile(const std::string& path, SltFile* out) {
  bool ok = false;
  std::string text = ReadAll(path, &ok);
  if (!ok) return "cannot read " + path;
  out->path = path;
  size_t slash = path.find_last_of('/');
  out->name = slash == std::string::npos ? path : path.substr(slash + 1);
  out->lines.clear();
  out->records.clear();
  {
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      out->lines.push_back(line);
    }
  }
  SltRecord pending;  // annotations collected for the next record
  bool in_body = false;
  bool in_results = false;  // after "----": expected results are ignored
  SltRecord cur;
  auto where = [&](size_t i) { return out->name + ":" + std::to_string(i + 1) + ": "; };
  auto finish = [&]() {
    while (!cur.sql.empty() && cur.sql.back() == '\n') cur.sql.pop_back();
    out->records.push_back(cur);
    cur = SltRecord();
    in_body = false;
    in_results = false;
  };
  for (size_t i = 0; i < out->lines.size(); ++i) {
    const std::string& raw = out->lines[i];
    std::string t = Trim(raw);
    if (in_body) {
      if (t.empty()) {
        if (cur.sql.empty()) return where(i) + "record without SQL";
        finish();
        continue;
      }
      if (t == "----") {
        in_results = true;
        continue;
      }
      if (!in_results) cur.sql += raw + "\n";
      continue;
    }
    if (t.empty()) continue;
    if (t[0] == '#') {
      auto value = [&](const char* tag) { return Trim(t.substr(std::string(tag).size())); };
      if (StartsWith(t, kUnsupportedTag)) {
        pending.has_unsupported = true;
        pending.unsupported = value(kUnsupportedTag);
        pending.annotation_lines.push_back(static_cast<int>(i));
      } else if (StartsWith(t, kDeliberateTag)) {
        pending.has_deliberate = true;
        pending.deliberate = value(kDeliberateTag);
        pending.annotation_lines.push_back(static_cast<int>(i));
      } else if (StartsWith(t, kKnownTag)) {
        pending.has_known = true;
        pending.known = value(kKnownTag);
        pending.annotation_lines.push_back(static_cast<int>(i));
      }
      continue;
    }
    std::vector<std::string> w = Words(t);
    cur = pending;
    pending = SltRecord();
    cur.line = static_cast<int>(i + 1);
    if (w[0] == "statement") {
      if (w.size() >= 2 && w[1] == "ok") {
        cur.kind = SltRecord::Kind::kStatementOk;
      } else if (w.size() >= 2 && w[1] == "error") {
        cur.kind = SltRecord::Kind::kStatementError;
        if (w.size() >= 3) cur.error_state = w[2];
      } else {
        return where(i) + "expected 'statement ok' or 'statement error'";
      }
    } else if (w[0] == "query") {
      cur.kind = SltRecord::Kind::kQuery;
      if (w.size() < 2) return where(i) + "query needs a column count or type string";
      const std::string& spec = w[1];
      if (std::all_of(spec.begin(), spec.end(), [](char c) { return std::isdigit(c); })) {
        cur.columns = std::atoi(spec.c_str());
      } else if (std::all_of(spec.begin(), spec.end(), [](char c) { return std::isalpha(c); })) {
        cur.columns = static_cast<int>(spec.size());
      } else {
        return where(i) + "bad column spec '" + spec + "'";
      }
      for (size_t k = 2; k < w.size(); ++k) {
        if (w[k] == "rowsort") {
          cur.rowsort = true;
        } else if (w[k] == "nosort") {
          cur.rowsort = false;
        } else {
          return where(i) + "unknown query option '" + w[k] + "'";
        }
      }
    } else {
      return where(i) + "unknown record type '" + w[0] + "'";
    }
    if (cur.has_unsupported + cur.has_deliberate + cur.has_known > 1) {
      return where(i) + "at most one of expect-unsupported, deliberate-difference, known-mismatch";
    }
    in_body = true;
  }
  if (in_body) {
    if (cur.sql.empty()) return out->name + ": record without SQL at the end";
    finish();
  }
  if (!pending.annotation_lines.empty())
    return out->name + ": annotation without a record at the end";
  return {};
}

std::string StripDistribution(const std::string& sql) {
  static const std::regex create(R"(^\s*create\s+(unlogged\s+)?table\b)", std::regex::icase);
  if (!std::regex_search(sql, create)) return sql;
  static const std::regex shard_by(R"(\)\s*shard\s+by\s+hash\s*\([^)]*\))", std::regex::icase);
  static const std::regex replicated(R"(\)\s*replicated\b)", std::regex::icase);
  static const std::regex with_key(R"(\bwith\s*\(\s*shard_key\s*=\s*'[^']*'\s*\))",
                                   std::regex::icase);
  std::string s = std::regex_replace(sql, shard_by, ")");
  s = std::regex_replace(s, replicated, ")");
  s = std::regex_replace(s, with_key, "");
  return s;
}

std::string RawResult::Describe(size_t max_rows) const {
  std::ostringstream o;
  if (!ok) {
    o << "ERROR " << sqlstate << ": " << error << "\n";
    return o.str();
  }
  o << rows.size() << " row(s); columns:";
  for (size_t c = 0; c < names.size(); ++c) {
    o << " " << names[c] << "::" << (c < types.size() ? TypeName(types[c]) : "?");
  }
  o << "\n";
  for (size_t r = 0; r < rows.size() && r < max_rows; ++r) o << "  " << RowText(rows[r]) << "\n";
  if (rows.size() > max_rows) o << "  ... " << rows.size() - max_rows << " more\n";
  return o.str();
}

RawResult Execute(pg_conn* conn, const std::string& sql) {
  RawResult out;
  if (PQstatus(conn) != CONNECTION_OK) PQreset(conn);
  PGresult* res = PQexec(conn, sql.c_str());
  if (res == nullptr) {
    out.ok = false;
    out.sqlstate = "NORES";
    out.error = OneLine(PQerrorMessage(conn), 400);
    return out;
  }
  ExecStatusType st = PQresultStatus(res);
  if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
    out.ok = false;
    const char* code = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    const char* msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
    out.sqlstate = code ? code : "CONN";
    out.error = OneLine(msg ? msg : PQresultErrorMessage(res), 400);
    PQclear(res);
    return out;
  }
  const int nf = PQnfields(res);
  for (int c = 0; c < nf; ++c) {
    out.names.push_back(PQfname(res, c));
    out.types.push_back(PQftype(res, c));
  }
  for (int r = 0; r < PQntuples(res); ++r) {
    Row row;
    row.reserve(nf);
    for (int c = 0; c < nf; ++c) {
      if (PQgetisnull(res, r, c)) {
        row.emplace_back(std::nullopt);
      } else {
        row.emplace_back(
            std::string(PQgetvalue(res, r, c), static_cast<size_t>(PQgetlength(res, r, c))));
      }
    }
    out.rows.push_back(std::move(row));
  }
  PQclear(res);
  return out;
}

std::string CompareRaw(const RawResult& sb, const RawResult& pg, bool rowsort) {
  if (sb.names.size() != pg.names.size()) {
    return "column count: ScratchBird " + std::to_string(sb.names.size()) + ", PostgreSQL " +
           std::to_string(pg.names.size());
  }
  std::vector<std::string> diffs;
  if (std::string rows = CompareRows(sb, pg, rowsort); !rows.empty()) diffs.push_back(rows);
  for (size_t c = 0; c < sb.types.size(); ++c) {
    if (sb.types[c] != pg.types[c]) {
      diffs.push_back("column " + std::to_string(c + 1) + " type: ScratchBird " +
                      TypeName(sb.types[c]) + ", PostgreSQL " + TypeName(pg.types[c]));
      break;
    }
  }
  for (size_t c = 0; c < sb.names.size(); ++c) {
    if (sb.names[c] != pg.names[c]) {
      diffs.push_back("column " + std::to_string(c + 1) + " name: ScratchBird \"" + sb.names[c] +
                      "\", PostgreSQL \"" + pg.names[c] + "\"");
      break;
    }
  }
  std::string out;
  for (const auto& d : diffs) out += (out.empty() ? "" : "; ") + d;
  return out;
}

SltFileReport RunSltFile(SltFile* file, pg_conn* sb, pg_conn* pg, const SltOptions& opts) {
  SltFileReport rep;
  rep.counts.files = 1;
  // Annotations to write in annotate mode: record index -> new auto annotation
  // line ("" = none). Deliberate-difference lines are never touched.
  std::map<size_t, std::string> new_auto;

  for (size_t idx = 0; idx < file->records.size(); ++idx) {
    SltRecord& r = file->records[idx];
    const bool setup = IsSetupStatement(r);
    const std::string where = RecordWhere(*file, r);
    const std::string pg_sql = StripDistribution(r.sql);
    RawResult s = Execute(sb, r.sql);
    RawResult p = Execute(pg, pg_sql);
    std::string current_auto;
    if (r.has_unsupported) current_auto = std::string(kUnsupportedTag) + " " + r.unsupported;
    if (r.has_known) current_auto = std::string(kKnownTag) + " " + r.known;
    std::string next_auto = current_auto;

    if (setup) {
      ++rep.counts.statements;
    } else {
      ++rep.counts.queries;
    }
    auto header = [&](const std::string& what) {
      std::string m = where + ": " + what + "\n";
      m += Indent(r.sql, "    ");
      if (pg_sql != r.sql) m += "  PostgreSQL ran:\n" + Indent(pg_sql, "    ");
      return m;
    };
    auto both = [&]() {
      return "  ScratchBird: " + s.Describe() + "  PostgreSQL:  " + p.Describe();
    };
    auto fail = [&](const std::string& what) {
      ++rep.counts.failures;
      rep.failures.push_back(header(what) + both());
      if (opts.verbose) std::cout << "FAIL " << where << ": " << what << "\n";
    };
    auto note = [&](const std::string& what) {
      if (opts.verbose) std::cout << what << " " << where << "\n";
    };

    const bool pg_should_fail = r.kind == SltRecord::Kind::kStatementError;
    if (!p.ok && !pg_should_fail) {
      fail("PostgreSQL fails: the corpus record is wrong (fix the SQL)");
      continue;
    }
    if (p.ok && pg_should_fail) {
      fail("PostgreSQL succeeds on a 'statement error' record: the corpus record is wrong");
      continue;
    }
    if (pg_should_fail && !r.error_state.empty() && p.sqlstate != r.error_state) {
      fail("PostgreSQL fails with " + p.sqlstate + ", the record expects " + r.error_state);
      continue;
    }

    if (r.has_deliberate) {
      if (!s.ok && !pg_should_fail) {
        fail("deliberate-difference record fails on ScratchBird: it must run on both");
        continue;
      }
      ++rep.counts.deliberate;
      std::string diff =
          pg_should_fail ? (s.ok ? "ScratchBird succeeds" : "") : CompareRaw(s, p, r.rowsort);
      const bool exact =
          s.ok == p.ok && s.rows == p.rows && s.names == p.names && s.types == p.types;
      std::string equal_note = !diff.empty() ? ""
                               : exact       ? "  (the results are currently identical)\n"
                                       : "  (the results are equal within the float tolerance)\n";
      rep.deliberate.push_back(header("deliberate difference: " + r.deliberate) + equal_note +
                               both());
      note("DELIBERATE");
      continue;
    }

    const bool sb_unsupported = !s.ok && s.sqlstate == "0A000" && p.sqlstate != "0A000";
    if (sb_unsupported) {
      std::string reason =
          r.has_unsupported && !opts.annotate ? r.unsupported : OneLine(s.error, 120);
      if (r.has_unsupported || opts.annotate) {
        if (setup) {  // an annotated statement is a check, not setup
          --rep.counts.statements;
          ++rep.counts.queries;
        }
        ++rep.counts.unsupported;
        ++rep.counts.unsupported_by_reason[reason];
        next_auto = std::string(kUnsupportedTag) + " " + reason;
        note("UNSUPPORTED");
      } else {
        fail("ScratchBird refuses with 0A000 (" + s.error +
             "): add '# expect-unsupported: <reason>' above the record, or run the oracle with "
             "--annotate");
      }
      if (next_auto != current_auto) new_auto[idx] = next_auto;
      continue;
    }
    if (r.has_unsupported) {
      if (!opts.annotate) {
        std::string diff = pg_should_fail ? "" : s.ok ? CompareRaw(s, p, r.rowsort) : "";
        fail(std::string("now supported: remove the expect-unsupported annotation (") +
             (!s.ok          ? "ScratchBird now fails with " + s.sqlstate
              : diff.empty() ? "and the result matches PostgreSQL"
                             : "but the result differs: " + diff) +
             ")");
        continue;
      }
      next_auto.clear();
    }

    // Compare.
    std::string diff;
    if (pg_should_fail) {
      if (s.ok) {
        diff = "ScratchBird succeeds, PostgreSQL fails with " + p.sqlstate;
      } else if (s.sqlstate != p.sqlstate) {
        diff = "SQLSTATE: ScratchBird " + s.sqlstate + ", PostgreSQL " + p.sqlstate;
      }
    } else if (!s.ok) {
      diff = "ScratchBird fails with " + s.sqlstate + ": " + s.error;
    } else if (r.kind == SltRecord::Kind::kQuery) {
      if (r.columns >= 0 && static_cast<size_t>(r.columns) != p.names.size()) {
        fail("the record declares " + std::to_string(r.columns) +
             " column(s), PostgreSQL returns " + std::to_string(p.names.size()));
        continue;
      }
      diff = CompareRaw(s, p, r.rowsort);
    }
    if (setup) {
      if (!diff.empty() && !r.has_known) {
        if (opts.annotate) {
          next_auto = std::string(kKnownTag) + " " + OneLine(diff, 120);
        }
        fail("setup statement differs: " + diff);
      }
      if (next_auto != current_auto) new_auto[idx] = next_auto;
      continue;
    }
    ++rep.counts.compared;
    if (diff.empty()) {
      ++rep.counts.matched;
      if (r.has_known) {
        if (opts.annotate) {
          next_auto.clear();
        } else {
          fail("known mismatch now matches: remove the known-mismatch annotation");
        }
      }
      note("MATCH");
    } else if (r.has_known || opts.annotate) {
      ++rep.counts.known;
      if (!r.has_known) next_auto = std::string(kKnownTag) + " " + OneLine(diff, 120);
      rep.known.push_back(header("known mismatch: " + (r.has_known ? r.known : diff)) +
                          "  difference: " + diff + "\n" + both());
      if (!opts.allow_known && !opts.annotate) {
        ++rep.counts.failures;
        rep.failures.push_back(
            header("known mismatch (set SB_SLT_ALLOW_KNOWN=1 to allow): " + r.known) +
            "  difference: " + diff + "\n" + both());
      }
      note("KNOWN");
    } else {
      fail("MISMATCH: " + diff);
    }
    if (next_auto != current_auto) new_auto[idx] = next_auto;
  }

  if (opts.annotate && !new_auto.empty()) {
    std::set<int> drop;                        // lines of auto annotations of records that change
    std::map<int, std::string> insert_before;  // 0-based header line -> annotation
    for (const auto& [idx, text] : new_auto) {
      const SltRecord& r = file->records[idx];
      for (int l : r.annotation_lines) {
        std::string t = Trim(file->lines[static_cast<size_t>(l)]);
        if (StartsWith(t, kUnsupportedTag) || StartsWith(t, kKnownTag)) drop.insert(l);
      }
      if (!text.empty()) insert_before[r.line - 1] = text;
    }
    std::string out;
    for (size_t i = 0; i < file->lines.size(); ++i) {
      if (drop.count(static_cast<int>(i))) continue;
      if (auto it = insert_before.find(static_cast<int>(i)); it != insert_before.end()) {
        out += it->second + "\n";
      }
      out += file->lines[i] + "\n";
    }
    std::ofstream o(file->path, std::ios::trunc);
    o << out;
    rep.rewritten = true;
  }
  return rep;
}

}  // namespace sbtest
