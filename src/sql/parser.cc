#include "sql/parser.h"

#include <pg_query.h>

#include <cctype>
#include <cstdlib>

namespace sb::sql {
namespace {

bool IsIdentChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$' ||
         static_cast<unsigned char>(c) >= 0x80;
}

// A minimal lexer: just enough to find top-level words and parentheses while
// skipping strings, quoted identifiers, dollar quotes and comments.
struct Token {
  enum Kind { kWord, kQuotedIdent, kOpen, kClose, kComma, kOther } kind;
  size_t begin, end;
  std::string word;  // lower-cased for kWord, verbatim for kQuotedIdent
};

std::vector<Token> Lex(std::string_view s) {
  std::vector<Token> out;
  size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else if (c == '-' && i + 1 < s.size() && s[i + 1] == '-') {
      while (i < s.size() && s[i] != '\n') ++i;
    } else if (c == '/' && i + 1 < s.size() && s[i + 1] == '*') {
      int depth = 0;
      do {
        if (s.compare(i, 2, "/*") == 0) {
          ++depth;
          i += 2;
        } else if (s.compare(i, 2, "*/") == 0) {
          --depth;
          i += 2;
        } else {
          ++i;
        }
      } while (depth > 0 && i < s.size());
    } else if (c == '\'') {
      size_t b = i++;
      while (i < s.size()) {
        if (s[i] == '\'' && i + 1 < s.size() && s[i + 1] == '\'') {
          i += 2;
        } else if (s[i] == '\'') {
          ++i;
          break;
        } else {
          ++i;
        }
      }
      out.push_back({Token::kOther, b, i, {}});
    } else if (c == '"') {
      size_t b = i++;
      std::string ident;
      while (i < s.size()) {
        if (s[i] == '"' && i + 1 < s.size() && s[i + 1] == '"') {
          ident += '"';
          i += 2;
        } else if (s[i] == '"') {
          ++i;
          break;
        } else {
          ident += s[i++];
        }
      }
      out.push_back({Token::kQuotedIdent, b, i, ident});
    } else if (c == '$' && i + 1 < s.size() && (s[i + 1] == '$' || std::isalpha(s[i + 1]))) {
      size_t tag_end = s.find('$', i + 1);
      if (tag_end == std::string_view::npos) {
        i = s.size();
        continue;
      }
      std::string_view tag = s.substr(i, tag_end - i + 1);
      size_t close = s.find(tag, tag_end + 1);
      size_t b = i;
      i = close == std::string_view::npos ? s.size() : close + tag.size();
      out.push_back({Token::kOther, b, i, {}});
    } else if (IsIdentChar(c)) {
      size_t b = i;
      while (i < s.size() && IsIdentChar(s[i])) ++i;
      std::string w(s.substr(b, i - b));
      for (auto& ch : w) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      out.push_back({Token::kWord, b, i, w});
    } else {
      Token::Kind k = c == '('   ? Token::kOpen
                      : c == ')' ? Token::kClose
                      : c == ',' ? Token::kComma
                                 : Token::kOther;
      out.push_back({k, i, i + 1, {}});
      ++i;
    }
  }
  return out;
}

void Blank(std::string& text, size_t begin, size_t end) {
  for (size_t i = begin; i < end && i < text.size(); ++i) {
    if (text[i] != '\n') text[i] = ' ';
  }
}

// Finds SHARD BY HASH (...) / SHARD BY RANGE (...) / REPLICATED after the
// column list of a CREATE TABLE, records it and blanks it out of `text`
// (blanking, not deleting, keeps error positions exact).
Status PreParseCreateTable(std::string& text, size_t begin, size_t end,
                           DistributionClause* clause) {
  auto toks = Lex(std::string_view(text).substr(begin, end - begin));
  if (toks.size() < 2 || toks[0].kind != Token::kWord || toks[0].word != "create") {
    return Status::Ok();
  }
  size_t i = 1;
  // CREATE [TEMP|TEMPORARY|UNLOGGED] TABLE
  while (i < toks.size() && toks[i].kind == Token::kWord &&
         (toks[i].word == "temp" || toks[i].word == "temporary" || toks[i].word == "unlogged")) {
    ++i;
  }
  if (i >= toks.size() || toks[i].kind != Token::kWord || toks[i].word != "table") {
    return Status::Ok();
  }
  // Skip to the end of the column list: the first '(' at depth 0 and its match.
  int depth = 0;
  bool seen_list = false;
  for (++i; i < toks.size(); ++i) {
    if (toks[i].kind == Token::kOpen) {
      ++depth;
    } else if (toks[i].kind == Token::kClose) {
      if (--depth == 0) {
        seen_list = true;
        ++i;
        break;
      }
    }
  }
  if (!seen_list) return Status::Ok();
  for (; i < toks.size(); ++i) {
    const Token& t = toks[i];
    if (depth == 0 && t.kind == Token::kWord && t.word == "replicated") {
      clause->replicated = true;
      Blank(text, begin + t.begin, begin + t.end);
      continue;
    }
    if (depth == 0 && t.kind == Token::kWord && t.word == "shard" && i + 2 < toks.size() &&
        toks[i + 1].kind == Token::kWord && toks[i + 1].word == "by") {
      const Token& method = toks[i + 2];
      if (method.kind != Token::kWord || (method.word != "hash" && method.word != "range")) {
        return Status(sqlstate::kSyntaxError, "syntax error in SHARD BY clause: expected HASH",
                      "Write SHARD BY HASH (column, ...).",
                      static_cast<int>(begin + method.begin) + 1);
      }
      size_t j = i + 3;
      if (j >= toks.size() || toks[j].kind != Token::kOpen) {
        return Status(sqlstate::kSyntaxError, "syntax error in SHARD BY clause: expected '('",
                      "Write SHARD BY HASH (column, ...).",
                      static_cast<int>(begin + method.end) + 1);
      }
      std::vector<std::string> cols;
      bool closed = false;
      bool expect_name = true;
      for (++j; j < toks.size(); ++j) {
        const Token& c = toks[j];
        if (c.kind == Token::kClose) {
          closed = true;
          break;
        }
        if (c.kind == Token::kComma && !expect_name) {
          expect_name = true;
          continue;
        }
        if ((c.kind == Token::kWord || c.kind == Token::kQuotedIdent) && expect_name) {
          cols.push_back(c.word);
          expect_name = false;
          continue;
        }
        return Status(sqlstate::kSyntaxError, "syntax error in SHARD BY HASH column list",
                      "Write SHARD BY HASH (column, ...) with plain column names.",
                      static_cast<int>(begin + c.begin) + 1);
      }
      if (!closed || cols.empty() || expect_name) {
        return Status(sqlstate::kSyntaxError, "incomplete SHARD BY HASH column list",
                      "Write SHARD BY HASH (column, ...).", static_cast<int>(begin + t.begin) + 1);
      }
      if (method.word == "range") {
        clause->shard_by_range = true;
      } else {
        clause->shard_by_hash = cols;
      }
      Blank(text, begin + t.begin, begin + toks[j].end);
      i = j;
      continue;
    }
    if (t.kind == Token::kOpen) ++depth;
    if (t.kind == Token::kClose) --depth;
  }
  return Status::Ok();
}

}  // namespace

const Json& Get(const Json& j, std::string_view key) {
  static const Json kNull;
  if (!j.is_object()) return kNull;
  auto it = j.find(key);
  return it == j.end() ? kNull : *it;
}

const Json& At(const Json& j, size_t index) {
  static const Json kNull;
  if (!j.is_array() || index >= j.size()) return kNull;
  return j[index];
}

std::vector<std::string> NameList(const Json& list) {
  std::vector<std::string> out;
  if (!list.is_array()) return out;
  for (const auto& item : list) {
    if (item.contains("String")) {
      out.push_back(Get(item, "String").value("sval", ""));
    } else if (item.contains("A_Star")) {
      out.push_back("*");
    }
  }
  return out;
}

int64_t ConstIntValue(const Json& a_const, std::string_view full_text) {
  const Json& ival = Get(a_const, "ival");
  if (ival.contains("ival")) return Get(ival, "ival").get<int64_t>();
  // libpg_query leaves 0 and negative integers out of its JSON ("ival": {}),
  // so read the constant back from the text: the parser folds signs into the
  // constant ("-(-(-5))" is one A_Const at the first sign), possibly with
  // parentheses, spaces and comments between the signs and the digits.
  int loc = a_const.value("location", -1);
  if (loc < 0 || static_cast<size_t>(loc) >= full_text.size()) return 0;
  size_t i = static_cast<size_t>(loc);
  bool neg = false;
  while (i < full_text.size()) {
    const char c = full_text[i];
    if (c == '-' && i + 1 < full_text.size() && full_text[i + 1] == '-') {  // -- comment
      while (i < full_text.size() && full_text[i] != '\n') ++i;
    } else if (c == '/' && i + 1 < full_text.size() && full_text[i + 1] == '*') {
      size_t end = full_text.find("*/", i + 2);
      i = end == std::string_view::npos ? full_text.size() : end + 2;
    } else if (c == '-') {
      neg = !neg;
      ++i;
    } else if (c == '+' || c == '(' || std::isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else {
      break;
    }
  }
  int64_t v = 0;
  while (i < full_text.size() && std::isdigit(static_cast<unsigned char>(full_text[i]))) {
    v = v * 10 + (full_text[i] - '0');
    ++i;
  }
  return neg ? -v : v;
}

namespace {

// Writes the value of every integer constant libpg_query left out back into
// the tree, so that comparing trees (SameExpression) sees n * 0 and n * (-1)
// as different expressions.
void FillIntegerConstants(Json& node, std::string_view text) {
  if (node.is_object()) {
    if (node.contains("A_Const")) {
      Json& c = node["A_Const"];
      if (c.contains("ival") && c["ival"].is_object() && !c["ival"].contains("ival")) {
        c["ival"]["ival"] = ConstIntValue(c, text);
      }
      return;
    }
    for (auto it = node.begin(); it != node.end(); ++it) FillIntegerConstants(it.value(), text);
  } else if (node.is_array()) {
    for (auto& e : node) FillIntegerConstants(e, text);
  }
}

}  // namespace

Result<ParsedScript> Parse(std::string_view sql) {
  ParsedScript script;
  script.text = std::string(sql);
  std::vector<DistributionClause> clauses;
  std::vector<std::pair<size_t, size_t>> ranges;
  {
    PgQuerySplitResult split = pg_query_split_with_scanner(script.text.c_str());
    if (split.error) {
      Status st(sqlstate::kSyntaxError, split.error->message, {}, split.error->cursorpos);
      pg_query_free_split_result(split);
      return st;
    }
    for (int i = 0; i < split.n_stmts; ++i) {
      ranges.emplace_back(split.stmts[i]->stmt_location,
                          split.stmts[i]->stmt_location + split.stmts[i]->stmt_len);
    }
    pg_query_free_split_result(split);
  }
  for (auto [b, e] : ranges) {
    DistributionClause clause;
    SB_RETURN_IF_ERROR(PreParseCreateTable(script.text, b, e, &clause));
    clauses.push_back(clause);
  }
  PgQueryParseResult r = pg_query_parse(script.text.c_str());
  if (r.error) {
    Status st(sqlstate::kSyntaxError, r.error->message, {}, r.error->cursorpos);
    pg_query_free_parse_result(r);
    return st;
  }
  Json tree = Json::parse(r.parse_tree, nullptr, /*allow_exceptions=*/false);
  pg_query_free_parse_result(r);
  if (tree.is_discarded()) return Status::Internal("could not read the parse tree");
  FillIntegerConstants(tree, script.text);
  size_t idx = 0;
  for (auto& raw : Get(tree, "stmts")) {
    ParsedStatement st;
    st.node = std::move(Get(raw, "stmt"));
    st.location = raw.value("stmt_location", 0);
    int len = raw.value("stmt_len", 0);
    st.text = len > 0 ? script.text.substr(st.location, len) : script.text.substr(st.location);
    // Match the pre-parser's ranges by start offset (the scanner and the
    // parser agree on statement boundaries).
    for (size_t k = 0; k < ranges.size(); ++k) {
      if (static_cast<int>(ranges[k].first) == st.location) st.distribution = clauses[k];
    }
    if (!st.node.is_object() || st.node.empty()) continue;
    script.statements.push_back(std::move(st));
    ++idx;
  }
  return script;
}

}  // namespace sb::sql
