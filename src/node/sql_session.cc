#include "node/sql_session.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <thread>

#include "common/datetime.h"
#include "common/value_codec.h"
#include "meta/cluster_state.h"
#include "sql/parser.h"

namespace sb::node {
namespace {

// How long a statement refused for a stale schema or shard-map version is
// planned again and retried before the error reaches the client.
constexpr std::chrono::seconds kStaleVersionRetry{10};

using pgwire::StatementResult;
using Clock = std::chrono::steady_clock;

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

SqlType TypeFromOid(uint32_t oid) {
  switch (oid) {
    case 16:
      return SqlType::Of(TypeId::kBool);
    case 17:
      return SqlType::Of(TypeId::kBytea);
    case 20:
      return SqlType::Of(TypeId::kInt8);
    case 21:
      return SqlType::Of(TypeId::kInt2);
    case 23:
      return SqlType::Of(TypeId::kInt4);
    case 25:
      return SqlType::Of(TypeId::kText);
    case 700:
      return SqlType::Of(TypeId::kFloat4);
    case 701:
      return SqlType::Of(TypeId::kFloat8);
    case 1043:
      return SqlType::Of(TypeId::kVarchar);
    case 1082:
      return SqlType::Of(TypeId::kDate);
    case 1114:
      return SqlType::Of(TypeId::kTimestamp);
    case 1184:
      return SqlType::Of(TypeId::kTimestamptz);
    case 2950:
      return SqlType::Of(TypeId::kUuid);
    default:
      return SqlType();
  }
}

std::vector<pgwire::ColumnDesc> Describe(const std::vector<exec::OutputColumn>& cols) {
  std::vector<pgwire::ColumnDesc> out;
  out.reserve(cols.size());
  for (const auto& c : cols) {
    // Unconstrained numeric has typmod -1 on the wire, like PostgreSQL's.
    out.push_back(
        {c.name, c.type.oid(), c.type.typlen(), c.type.precision < 0 ? -1 : c.type.typmod()});
  }
  return out;
}

bool SameShape(const std::vector<pgwire::ColumnDesc>& a, const std::vector<pgwire::ColumnDesc>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].name != b[i].name || a[i].type_oid != b[i].type_oid ||
        a[i].type_modifier != b[i].type_modifier) {
      return false;
    }
  }
  return true;
}

bool SameParamTypes(const std::vector<SqlType>& types, const std::vector<uint32_t>& oids) {
  if (types.size() != oids.size()) return false;
  for (size_t i = 0; i < types.size(); ++i) {
    if (types[i].oid() != oids[i]) return false;
  }
  return true;
}

std::vector<pgwire::TextRow> Format(const std::vector<exec::OutputColumn>& cols,
                                    const std::vector<Row>& rows) {
  std::vector<pgwire::TextRow> out;
  out.reserve(rows.size());
  for (const auto& r : rows) {
    pgwire::TextRow t;
    t.reserve(cols.size());
    for (size_t i = 0; i < cols.size() && i < r.size(); ++i) {
      if (IsNull(r[i])) {
        t.push_back(std::nullopt);
      } else if (cols[i].type.id == TypeId::kNumeric && std::holds_alternative<std::string>(r[i])) {
        t.push_back(std::get<std::string>(r[i]));  // exact decimal text from sb_numdiv/sb_numavg
      } else {
        t.push_back(FormatTextValue(cols[i].type, r[i]));
      }
    }
    out.push_back(std::move(t));
  }
  return out;
}

bool IsDdl(const std::string& kind) {
  return kind == "CreateStmt" || kind == "DropStmt" || kind == "IndexStmt" ||
         kind == "AlterTableStmt";
}

std::string StatementType(const sql::ParsedStatement& stmt) {
  const std::string k = stmt.kind();
  if (k == "SelectStmt") return "select";
  if (k == "InsertStmt") return "insert";
  if (k == "UpdateStmt") return "update";
  if (k == "DeleteStmt") return "delete";
  if (k == "CopyStmt") return "copy";
  if (IsDdl(k)) return "ddl";
  if (k == "TransactionStmt") return "transaction";
  return "utility";
}

std::string NowStored() {
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                std::chrono::system_clock::now().time_since_epoch())
                .count();
  return MicrosToTimestamp(us);
}

Result<int64_t> ParseDurationMs(const std::string& v) {
  size_t i = 0;
  while (i < v.size() && (std::isdigit(static_cast<unsigned char>(v[i])) || v[i] == '.')) ++i;
  if (i == 0)
    return Status(sqlstate::kInvalidParameterValue,
                  "invalid value for parameter \"statement_timeout\": \"" + v + "\"");
  double n = std::stod(v.substr(0, i));
  std::string unit = Lower(v.substr(i));
  unit.erase(0, unit.find_first_not_of(' '));
  double factor = 1;
  if (unit.empty() || unit == "ms")
    factor = 1;
  else if (unit == "s")
    factor = 1000;
  else if (unit == "min")
    factor = 60000;
  else if (unit == "h")
    factor = 3600000;
  else if (unit == "d")
    factor = 86400000;
  else {
    return Status(sqlstate::kInvalidParameterValue,
                  "invalid value for parameter \"statement_timeout\": \"" + v + "\"",
                  "Valid units for this parameter are \"ms\", \"s\", \"min\", \"h\", and \"d\".");
  }
  return static_cast<int64_t>(n * factor);
}

// A memory size as PostgreSQL writes it: a number with B, kB, MB, GB or TB
// (a bare number is kB, as for work_mem).
Result<int64_t> ParseMemoryBytes(const std::string& name, const std::string& v) {
  size_t i = 0;
  while (i < v.size() && std::isdigit(static_cast<unsigned char>(v[i]))) ++i;
  std::string unit = v.substr(i);
  unit.erase(0, unit.find_first_not_of(' '));
  static const std::map<std::string, int64_t> kUnits = {{"", 1024},
                                                        {"B", 1},
                                                        {"kB", 1024},
                                                        {"MB", 1 << 20},
                                                        {"GB", int64_t{1} << 30},
                                                        {"TB", int64_t{1} << 40}};
  auto it = kUnits.find(unit);
  if (i == 0 || i > 12 || it == kUnits.end()) {
    return Status(sqlstate::kInvalidParameterValue,
                  "invalid value for parameter \"" + name + "\": \"" + v + "\"",
                  "Valid units for this parameter are \"B\", \"kB\", \"MB\", \"GB\", and "
                  "\"TB\".");
  }
  const int64_t n = std::stoll(v.substr(0, i));
  if (n > (int64_t{1} << 50) / it->second) {
    return Status(sqlstate::kInvalidParameterValue,
                  "value for parameter \"" + name + "\" is out of range: \"" + v + "\"");
  }
  return n * it->second;
}

Result<std::string> ParseBool(const std::string& name, const std::string& v) {
  std::string l = Lower(v);
  if (l == "on" || l == "true" || l == "yes" || l == "1" || l == "t") return std::string("on");
  if (l == "off" || l == "false" || l == "no" || l == "0" || l == "f") return std::string("off");
  return Status(sqlstate::kInvalidParameterValue,
                fmt::format("parameter \"{}\" requires a Boolean value", name));
}

}  // namespace

std::map<std::string, std::string> DefaultSettings() {
  return {
      {"application_name", ""},
      {"bytea_output", "hex"},
      {"client_encoding", "UTF8"},
      {"client_min_messages", "notice"},
      {"datestyle", "ISO, MDY"},
      {"default_transaction_isolation", "read committed"},
      {"extra_float_digits", "1"},
      {"integer_datetimes", "on"},
      {"intervalstyle", "postgres"},
      {"is_superuser", "on"},
      {"lc_collate", "C"},
      {"lc_ctype", "C"},
      {"lc_messages", "C"},
      {"max_identifier_length", "63"},
      {"scratchbird.allow_multi_shard_writes", "off"},
      {"scratchbird.join_memory_limit", "256MB"},
      {"scratchbird.max_merge_memory", "512MB"},
      {"search_path", "\"$user\", public"},
      {"server_encoding", "UTF8"},
      {"server_version", kServerVersion},
      {"server_version_num", "150000"},
      {"standard_conforming_strings", "on"},
      {"statement_timeout", "0"},
      {"synchronous_commit", "on"},
      {"timezone", "UTC"},
      {"transaction_isolation", "read committed"},
      {"transaction_read_only", "off"},
  };
}

struct SqlSession::Prepared : pgwire::PreparedStatement {
  std::string text;
  sql::ParsedScript script;
  std::vector<SqlType> declared;
  mutable sql::PlannedStatement planned;
  mutable std::shared_ptr<const meta::Catalog> catalog;
  bool empty = false;
  bool is_ddl = false;
  pgwire::PreparedInfo pinfo;
  const pgwire::PreparedInfo& info() const override { return pinfo; }
};

SqlSession::SqlSession(Engine* engine, std::string user)
    : engine_(engine),
      user_(std::move(user)),
      session_id_(engine->NextSessionId()),
      settings_(DefaultSettings()) {
  engine_->metrics().Add("scratchbird_active_connections", {}, 1);
}

SqlSession::~SqlSession() {
  engine_->executor().Rollback(&txn_);
  engine_->metrics().Add("scratchbird_active_connections", {}, -1);
}

std::vector<std::pair<std::string, std::string>> SqlSession::StartupParameters() {
  return {{"server_version", kServerVersion},
          {"server_encoding", "UTF8"},
          {"client_encoding", "UTF8"},
          {"DateStyle", "ISO, MDY"},
          {"TimeZone", "UTC"},
          {"integer_datetimes", "on"},
          {"IntervalStyle", "postgres"},
          {"is_superuser", "on"},
          {"session_authorization", user_},
          {"standard_conforming_strings", "on"},
          {"application_name", settings_["application_name"]}};
}

exec::ExecOptions SqlSession::Options() {
  // The settings-derived part of the statement context is rebuilt only when
  // a SET changed something; the timestamp changes every statement.
  if (settings_ != context_settings_) {
    context_settings_ = settings_;
    context_.values = settings_;
    context_.values["session_user"] = user_;
    context_.values["server_version_full"] =
        fmt::format("PostgreSQL {} (ScratchBird Cluster {}) on x86_64-pc-linux-gnu", kServerVersion,
                    kProductVersion);
    auto t = ParseDurationMs(settings_["statement_timeout"]);
    statement_timeout_ms_ = t.ok() ? *t : 0;
    allow_multi_shard_writes_ = settings_["scratchbird.allow_multi_shard_writes"] == "on";
    auto limit = ParseMemoryBytes("scratchbird.join_memory_limit",
                                  settings_["scratchbird.join_memory_limit"]);
    join_memory_limit_ = limit.ok() ? *limit : int64_t{256} << 20;
    auto merge =
        ParseMemoryBytes("scratchbird.max_merge_memory", settings_["scratchbird.max_merge_memory"]);
    max_merge_memory_ = merge.ok() ? *merge : int64_t{512} << 20;
  }
  context_.values["statement_timestamp"] = NowStored();
  exec::ExecOptions o;
  o.allow_multi_shard_writes = allow_multi_shard_writes_;
  o.join_memory_limit = join_memory_limit_;
  o.max_merge_memory = max_merge_memory_;
  o.context = &context_;
  o.cancel = &cancel_;
  o.schema_version = last_catalog_ ? last_catalog_->schema_version() : 0;
  cancel_.Reset(std::chrono::milliseconds(statement_timeout_ms_));
  return o;
}

void SqlSession::RecordOutcome(const std::string& type, const Status& st, Clock::time_point start) {
  auto& m = engine_->metrics();
  m.Increment("scratchbird_queries_total", {{"type", type}, {"status", st.ok() ? "ok" : "error"}});
  if (!st.ok()) m.Increment("scratchbird_query_errors_total", {{"sqlstate", st.code()}});
  m.Observe("scratchbird_query_duration_seconds", {{"type", type}},
            std::chrono::duration<double>(Clock::now() - start).count());
}

Status SqlSession::CheckTransactionNotFailed(const sql::ParsedStatement& stmt) const {
  if (!txn_.in_block || !txn_.failed) return Status::Ok();
  if (stmt.kind() == "TransactionStmt") {
    std::string k = stmt.body().value("kind", "");
    if (k == "TRANS_STMT_COMMIT" || k == "TRANS_STMT_ROLLBACK") return Status::Ok();
  }
  return Status(sqlstate::kInFailedTransaction,
                "current transaction is aborted, commands ignored until end of transaction block",
                "Run ROLLBACK to end the transaction.");
}

Result<std::vector<Value>> SqlSession::ConvertParams(const std::vector<SqlType>& types,
                                                     const std::vector<pgwire::TextValue>& params) {
  if (params.size() != types.size()) {
    return Status(
        sqlstate::kProtocolViolation,
        fmt::format("bind message supplies {} parameters, but prepared statement requires {}",
                    params.size(), types.size()));
  }
  std::vector<Value> out;
  out.reserve(params.size());
  for (size_t i = 0; i < params.size(); ++i) {
    if (!params[i]) {
      out.emplace_back(std::monostate{});
      continue;
    }
    auto v = ParseTextValue(types[i], *params[i]);
    if (!v.ok()) return v.status();
    out.push_back(std::move(*v));
  }
  return out;
}

Result<StatementResult> SqlSession::Run(const sql::ParsedStatement& stmt, std::string_view text,
                                        const std::vector<SqlType>& declared,
                                        const std::vector<pgwire::TextValue>* text_params,
                                        const sql::PlannedStatement* preplanned) {
  SB_RETURN_IF_ERROR(CheckTransactionNotFailed(stmt));
  struct ActiveQuery {
    observability::Registry& m;
    explicit ActiveQuery(observability::Registry& r) : m(r) {
      m.Add("scratchbird_active_queries", {}, 1);
    }
    ~ActiveQuery() { m.Add("scratchbird_active_queries", {}, -1); }
  } active(engine_->metrics());
  if (IsDdl(stmt.kind())) {
    if (txn_.in_block) {
      return Status(
          sqlstate::kActiveSqlTransaction,
          "schema changes inside a transaction block are not supported",
          "Run CREATE, DROP and ALTER statements outside BEGIN ... COMMIT; each one is atomic "
          "across all shards.");
    }
    SB_ASSIGN_OR_RETURN(exec::DdlPlan plan, engine_->RunDdl(stmt, text));
    StatementResult r;
    r.command_tag = plan.command_tag;
    if (!plan.notice.empty()) r.notices.push_back(plan.notice);
    return r;
  }
  sql::PlannedStatement local;
  const sql::PlannedStatement* planned = preplanned;
  if (planned == nullptr) {
    last_catalog_ = engine_->catalog();
    sql::Planner planner(last_catalog_.get());
    SB_ASSIGN_OR_RETURN(local, planner.Plan(stmt, text, declared));
    planned = &local;
  }
  std::vector<pgwire::TextValue> none;
  SB_ASSIGN_OR_RETURN(std::vector<Value> params,
                      ConvertParams(planned->param_types, text_params ? *text_params : none));
  auto result = Execute(*planned, params);
  // In a cluster, a shard's owner refuses a statement planned against
  // another schema version (SB003) before it changed anything: one of the two
  // nodes has not applied the latest schema change yet. Outside a transaction
  // block, plan again once this node's catalog is current and retry, for a
  // bounded time (R05-24, C-28).
  const auto retry_until = std::chrono::steady_clock::now() + kStaleVersionRetry;
  while (!result.ok() && result.status().code() == sqlstate::kStaleShardVersion && !txn_.in_block &&
         std::chrono::steady_clock::now() < retry_until) {
    // A failed subplan stops its siblings through the cancel state; only the
    // client's own cancel or the statement timeout end the retries.
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (cancel_.cancelled_by_user() || cancel_.timed_out()) break;
    last_catalog_ = engine_->catalog();
    sql::Planner planner(last_catalog_.get());
    auto again = planner.Plan(stmt, text, declared);
    if (!again.ok()) return again.status();
    if (preplanned != nullptr &&
        (!SameShape(Describe(again->columns()), Describe(preplanned->columns())) ||
         again->param_types.size() != preplanned->param_types.size()))
      return result;  // the client was told another shape; it must prepare again
    local = std::move(*again);
    result = Execute(local, params);
  }
  return result;
}

Result<StatementResult> SqlSession::Execute(const sql::PlannedStatement& planned,
                                            const std::vector<Value>& params) {
  StatementResult r;
  auto& ex = engine_->executor();
  if (auto* p = std::get_if<exec::SelectPlan>(&planned.plan)) {
    auto opts = Options();
    SB_ASSIGN_OR_RETURN(exec::ExecResult res, ex.Select(*p, params, &txn_, opts));
    for (const auto& s : res.stats) {
      engine_->metrics().Increment(
          "scratchbird_shard_queries_total",
          {{"shard_id", meta::ShardMap::ShardName(static_cast<uint32_t>(s.shard))}});
    }
    r.returns_rows = true;
    r.columns = Describe(p->output);
    r.rows = Format(p->output, res.rows);
    r.command_tag = "SELECT " + std::to_string(r.rows.size());
    return r;
  }
  if (auto* p = std::get_if<exec::InsertPlan>(&planned.plan)) {
    auto opts = Options();
    SB_ASSIGN_OR_RETURN(exec::ExecResult res, ex.Insert(*p, params, &txn_, opts));
    r.returns_rows = !p->returning.empty();
    r.columns = Describe(p->returning);
    r.rows = Format(p->returning, res.rows);
    r.command_tag = "INSERT 0 " + std::to_string(res.affected);
    return r;
  }
  if (auto* p = std::get_if<exec::ModifyPlan>(&planned.plan)) {
    auto opts = Options();
    SB_ASSIGN_OR_RETURN(exec::ExecResult res, ex.Modify(*p, params, &txn_, opts));
    r.returns_rows = !p->returning.empty();
    r.columns = Describe(p->returning);
    r.rows = Format(p->returning, res.rows);
    r.command_tag =
        std::string(p->is_update ? "UPDATE " : "DELETE ") + std::to_string(res.affected);
    return r;
  }
  if (auto* p = std::get_if<exec::CopyPlan>(&planned.plan)) {
    uint64_t h = next_copy_++;
    copies_[h] = PendingCopy{*p, last_catalog_};
    r.copy_in = true;
    r.copy_column_count = static_cast<int>(p->columns.size());
    r.copy_csv = p->csv;
    r.copy_handle = h;
    return r;
  }
  if (auto* p = std::get_if<sql::TransactionCommand>(&planned.plan)) {
    switch (p->op) {
      case sql::TransactionCommand::Op::kBegin:
        if (txn_.in_block) r.notices.push_back("there is already a transaction in progress");
        txn_.in_block = true;
        r.command_tag = "BEGIN";
        return r;
      case sql::TransactionCommand::Op::kCommit:
        if (!txn_.in_block) {
          r.notices.push_back("there is no transaction in progress");
          r.command_tag = "COMMIT";
          return r;
        }
        if (txn_.failed) {
          ex.Rollback(&txn_);
          r.command_tag = "ROLLBACK";
          return r;
        }
        SB_RETURN_IF_ERROR(ex.Commit(&txn_));
        r.command_tag = "COMMIT";
        return r;
      case sql::TransactionCommand::Op::kRollback:
        if (!txn_.in_block) r.notices.push_back("there is no transaction in progress");
        ex.Rollback(&txn_);
        r.command_tag = "ROLLBACK";
        return r;
    }
  }
  if (auto* p = std::get_if<sql::SetCommand>(&planned.plan)) return ApplySet(*p);
  if (auto* p = std::get_if<sql::ShowCommand>(&planned.plan)) return Show(*p);
  if (auto* p = std::get_if<sql::ExplainCommand>(&planned.plan)) return Explain(*p, params);
  if (auto* p = std::get_if<sql::EmptyCommand>(&planned.plan)) {
    r.command_tag = p->command_tag;
    return r;
  }
  if (auto* p = std::get_if<sql::DeallocateCommand>(&planned.plan)) {
    if (p->all) {
      if (statement_names_ != nullptr) statement_names_->CloseAllStatements();
      r.command_tag = "DEALLOCATE ALL";
      return r;
    }
    if (statement_names_ == nullptr || !statement_names_->CloseStatement(p->name)) {
      return Status(sqlstate::kInvalidSqlStatementName,
                    "prepared statement \"" + p->name + "\" does not exist");
    }
    r.command_tag = "DEALLOCATE";
    return r;
  }
  return Status::Internal("statement kind without an executor");
}

Result<StatementResult> SqlSession::ApplySet(const sql::SetCommand& set) {
  StatementResult r;
  r.command_tag = set.is_reset ? "RESET" : "SET";
  auto defaults = DefaultSettings();
  if (set.reset_all) {
    settings_ = defaults;
    return r;
  }
  std::string name = set.name;
  if (name == "time zone") name = "timezone";
  if (set.is_reset) {
    auto it = defaults.find(name);
    if (it != defaults.end()) {
      settings_[name] = it->second;
    } else if (name.find('.') != std::string::npos) {
      settings_.erase(name);
    } else {
      return Status(sqlstate::kUndefinedObject,
                    fmt::format("unrecognized configuration parameter \"{}\"", name));
    }
    return r;
  }
  std::string v = set.value;
  if (name == "statement_timeout") {
    SB_ASSIGN_OR_RETURN(int64_t ms, ParseDurationMs(v));
    v = std::to_string(ms);
  } else if (name == "timezone") {
    static const std::set<std::string> kUtc = {"utc",  "gmt",       "etc/utc", "etc/gmt", "z",
                                               "zulu", "uct",       "+00",     "00:00",   "+00:00",
                                               "0",    "universal", "utc0"};
    if (!kUtc.count(Lower(v))) {
      return Status(sqlstate::kFeatureNotSupported,
                    fmt::format("time zone \"{}\" is not supported", v),
                    "ScratchBird sessions run in UTC; convert times in the client.");
    }
    v = "UTC";
  } else if (name == "client_encoding" || name == "names") {
    std::string l = Lower(v);
    if (l != "utf8" && l != "utf-8" && l != "unicode") {
      return Status(sqlstate::kFeatureNotSupported,
                    fmt::format("client encoding \"{}\" is not supported", v),
                    "Only UTF8 is supported.");
    }
    name = "client_encoding";
    v = "UTF8";
  } else if (name == "datestyle") {
    if (Lower(v).find("iso") == std::string::npos && Lower(v) != "mdy") {
      return Status(sqlstate::kFeatureNotSupported,
                    fmt::format("DateStyle \"{}\" is not supported", v),
                    "Only ISO output is supported.");
    }
    v = "ISO, MDY";
  } else if (name == "standard_conforming_strings") {
    SB_ASSIGN_OR_RETURN(v, ParseBool(name, v));
    if (v != "on")
      return Status(sqlstate::kFeatureNotSupported, "standard_conforming_strings must stay on");
  } else if (name == "bytea_output") {
    if (Lower(v) != "hex")
      return Status(sqlstate::kFeatureNotSupported, "bytea_output must be hex");
  } else if (name == "scratchbird.allow_multi_shard_writes") {
    SB_ASSIGN_OR_RETURN(v, ParseBool(name, v));
  } else if (name == "scratchbird.join_memory_limit" || name == "scratchbird.max_merge_memory") {
    SB_RETURN_IF_ERROR(ParseMemoryBytes(name, v).status());
  } else if (defaults.find(name) == defaults.end() && name.find('.') == std::string::npos) {
    static const std::set<std::string> kAccepted = {"work_mem",
                                                    "maintenance_work_mem",
                                                    "jit",
                                                    "lock_timeout",
                                                    "idle_in_transaction_session_timeout",
                                                    "lc_monetary",
                                                    "lc_numeric",
                                                    "lc_time",
                                                    "geqo",
                                                    "enable_seqscan",
                                                    "random_page_cost",
                                                    "row_security",
                                                    "check_function_bodies",
                                                    "default_with_oids",
                                                    "xmloption",
                                                    "session_replication_role",
                                                    "idle_session_timeout",
                                                    "cursor_tuple_fraction",
                                                    "plan_cache_mode"};
    if (!kAccepted.count(name)) {
      return Status(sqlstate::kUndefinedObject,
                    fmt::format("unrecognized configuration parameter \"{}\"", name));
    }
  } else if (name == "server_version" || name == "server_encoding" || name == "lc_collate" ||
             name == "lc_ctype" || name == "integer_datetimes" || name == "is_superuser" ||
             name == "max_identifier_length" || name == "server_version_num") {
    return Status(sqlstate::kCantChangeRuntimeParam,
                  fmt::format("parameter \"{}\" cannot be changed", name));
  }
  settings_[name] = v;
  return r;
}

Result<StatementResult> SqlSession::Show(const sql::ShowCommand& show) {
  StatementResult r;
  r.returns_rows = true;
  r.command_tag = "SHOW";
  std::string name = show.name == "time zone" ? "timezone" : show.name;
  if (name == "all") {
    r.columns = {{"name", 25, -1, -1}, {"setting", 25, -1, -1}, {"description", 25, -1, -1}};
    for (const auto& [k, v] : settings_) r.rows.push_back({k, v, std::string()});
    return r;
  }
  if (name == "transaction isolation level") name = "transaction_isolation";
  auto it = settings_.find(name);
  if (it == settings_.end()) {
    return Status(sqlstate::kUndefinedObject,
                  fmt::format("unrecognized configuration parameter \"{}\"", name));
  }
  r.columns = {{show.name, 25, -1, -1}};
  r.rows.push_back({it->second});
  return r;
}

Result<StatementResult> SqlSession::Explain(const sql::ExplainCommand& e,
                                            const std::vector<Value>& params) {
  StatementResult r;
  r.returns_rows = true;
  r.command_tag = "EXPLAIN";
  r.columns = {{"QUERY PLAN", 25, -1, -1}};
  auto& ex = engine_->executor();
  const int total = ex.shard_count();
  std::vector<std::string> lines;
  auto route_line = [&](const exec::RouteSpec& route,
                        const char* what) -> Result<std::vector<int>> {
    std::vector<int> shards;
    std::string type;
    bool needs_params = false;
    for (const auto& t : route.tuples) {
      for (const auto& v : t) needs_params = needs_params || (!v.constant && v.param > 0);
    }
    if (needs_params && params.empty()) {
      lines.push_back(fmt::format(
          "{} (type=SINGLE_SHARD, map_version={}, shards=chosen at Bind from parameters)", what,
          ex.map_version()));
      return shards;
    }
    SB_ASSIGN_OR_RETURN(shards, ex.ResolveRoute(route, params));
    switch (route.kind) {
      case exec::RouteSpec::Kind::kAllShards:
        type = "ALL_SHARDS";
        break;
      case exec::RouteSpec::Kind::kAnyOneShard:
        type = "REFERENCE (any one shard)";
        break;
      case exec::RouteSpec::Kind::kCoordinator:
        type = "COORDINATOR";
        break;
      case exec::RouteSpec::Kind::kKeyTuples:
        type = shards.size() == 1 ? "SINGLE_SHARD" : "MULTI_SHARD";
        break;
    }
    std::string names;
    for (size_t i = 0; i < shards.size() && i < 8; ++i) {
      names += (i ? ", " : "") + ex.ShardLabel(shards[i]);
    }
    if (shards.size() > 8) names += ", ...";
    lines.push_back(fmt::format("{} (type={}, map_version={}, shards={}/{}{})", what, type,
                                ex.map_version(), shards.size(), total,
                                names.empty() ? "" : ": " + names));
    return shards;
  };
  const sql::PlannedStatement& inner = *e.inner;
  if (auto* p = std::get_if<exec::SelectPlan>(&inner.plan); p != nullptr && !p->inputs.empty()) {
    // Joins, subqueries, set operations, windows: each base table is read
    // from the shards, the query runs at the coordinator.
    lines.push_back(
        fmt::format("Coordinator Query (joins, subqueries, set operations and windows run at the "
                    "coordinator over {} input(s); memory cap scratchbird.join_memory_limit)",
                    p->inputs.size()));
    for (const auto& in : p->inputs) {
      SB_ASSIGN_OR_RETURN(
          auto shards,
          route_line(in.route, ("  Input " + in.name + ": " + in.description).c_str()));
      (void)shards;
      lines.push_back("    Subplan: " + in.shard_sql);
    }
    lines.push_back("  Coordinator SQL: " + p->coordinator_sql);
    // Co-location only helps when two different tables meet; one table read
    // at the coordinator (DISTINCT ON, grouping sets, percentiles, ...) is
    // narrowed by its WHERE clause instead.
    std::set<const meta::TableDef*> tables;
    for (const auto& in : p->inputs) tables.insert(in.route.table);
    lines.push_back(
        tables.size() > 1
            ? "  Hint: a join of tables sharded by the same key, on that key (plus REPLICATED "
              "tables), runs on the shards instead; see docs/sql.md, \"Co-location guide\"."
            : "  Hint: this query shape runs at the coordinator over the table's rows; a WHERE "
              "on the shard key reads fewer shards and rows.");
    if (e.analyze) {
      auto opts = Options();
      auto start = Clock::now();
      SB_ASSIGN_OR_RETURN(exec::ExecResult res, ex.Select(*p, params, &txn_, opts));
      double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
      int64_t fetched = 0;
      for (const auto& st : res.stats) fetched += st.rows;
      lines.push_back(fmt::format("  Rows fetched from shards: {}", fetched));
      lines.push_back(fmt::format("  Result rows: {}", res.rows.size()));
      lines.push_back(fmt::format("Execution Time: {:.3f} ms", ms));
    }
  } else if (auto* p = std::get_if<exec::SelectPlan>(&inner.plan)) {
    SB_ASSIGN_OR_RETURN(auto shards, route_line(p->route, "Distributed Query"));
    if (p->colocated_join) {
      lines.push_back(
          "  Join: co-located (sharded tables joined on their shard keys, REPLICATED tables): "
          "runs whole on each shard");
    }
    lines.push_back("  Merge: " + p->merge_description);
    if (p->merge == exec::SelectPlan::Merge::kCoordinator)
      lines.push_back("  Coordinator SQL: " + p->coordinator_sql);
    if (p->merge == exec::SelectPlan::Merge::kSortMerge) {
      std::string keys;
      for (const auto& k : p->sort_keys) {
        keys += (keys.empty() ? "" : ", ") + std::string("c") + std::to_string(k.column) +
                (k.descending ? " DESC" : " ASC") +
                (k.nulls_first ? " NULLS FIRST" : " NULLS LAST");
      }
      lines.push_back("  Sort keys: " + keys);
    }
    std::string where =
        p->route.kind == exec::RouteSpec::Kind::kCoordinator ? "Coordinator" : "Subplan MAP";
    lines.push_back(
        fmt::format("  {} x{}: {}", where, std::max<size_t>(shards.size(), 1), p->shard_sql));
    if (e.analyze) {
      auto opts = Options();
      auto start = Clock::now();
      SB_ASSIGN_OR_RETURN(exec::ExecResult res, ex.Select(*p, params, &txn_, opts));
      double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
      for (const auto& s : res.stats) {
        lines.push_back(fmt::format("    {}: rows={} time={:.3f} ms",
                                    meta::ShardMap::ShardName(static_cast<uint32_t>(s.shard)),
                                    s.rows, s.micros / 1000.0));
      }
      lines.push_back(fmt::format("  Result rows: {}", res.rows.size()));
      lines.push_back(fmt::format("Execution Time: {:.3f} ms", ms));
    }
  } else if (auto* p = std::get_if<exec::InsertPlan>(&inner.plan)) {
    lines.push_back(
        fmt::format("Distributed Insert on {} ({}, {} row(s))", p->table->name,
                    p->table->replicated ? "reference table: every shard" : "routed by shard key",
                    p->rows.size()));
  } else if (auto* p = std::get_if<exec::ModifyPlan>(&inner.plan)) {
    SB_ASSIGN_OR_RETURN(auto shards, route_line(p->route, p->is_update ? "Distributed Update"
                                                                       : "Distributed Delete"));
    (void)shards;
    lines.push_back("  Subplan: " + p->shard_sql);
  } else {
    lines.push_back("Utility statement (runs on the coordinator)");
  }
  for (auto& l : lines) r.rows.push_back({l});
  return r;
}

std::vector<StatementResult> SqlSession::ExecuteSimple(std::string_view sql, Status* error) {
  std::vector<StatementResult> results;
  auto start = Clock::now();
  auto parsed = sql::Parse(sql);
  if (!parsed.ok()) {
    *error = parsed.status();
    OnError();
    RecordOutcome("parse", *error, start);
    return results;
  }
  for (const auto& stmt : parsed->statements) {
    start = Clock::now();
    auto r = Run(stmt, parsed->text, {}, nullptr, nullptr);
    RecordOutcome(StatementType(stmt), r.status(), start);
    if (!r.ok()) {
      *error = r.status();
      OnError();
      return results;
    }
    results.push_back(std::move(*r));
    if (results.back().copy_in) break;  // the COPY sub-protocol takes over
  }
  return results;
}

Result<std::shared_ptr<pgwire::PreparedStatement>> SqlSession::Prepare(
    std::string_view text, const std::vector<uint32_t>& param_type_oids) {
  auto p = std::make_shared<Prepared>();
  p->text = std::string(text);
  SB_ASSIGN_OR_RETURN(p->script, sql::Parse(text));
  if (p->script.statements.size() > 1) {
    return Status(sqlstate::kSyntaxError,
                  "cannot insert multiple commands into a prepared statement");
  }
  for (uint32_t oid : param_type_oids) p->declared.push_back(TypeFromOid(oid));
  if (p->script.statements.empty()) {
    p->empty = true;
    return std::shared_ptr<pgwire::PreparedStatement>(p);
  }
  const auto& stmt = p->script.statements[0];
  if (IsDdl(stmt.kind())) {
    p->is_ddl = true;
    return std::shared_ptr<pgwire::PreparedStatement>(p);
  }
  p->catalog = engine_->catalog();
  sql::Planner planner(p->catalog.get());
  SB_ASSIGN_OR_RETURN(p->planned, planner.Plan(stmt, p->script.text, p->declared));
  for (const auto& t : p->planned.param_types) p->pinfo.param_type_oids.push_back(t.oid());
  p->pinfo.returns_rows = p->planned.returns_rows();
  p->pinfo.columns = Describe(p->planned.columns());
  return std::shared_ptr<pgwire::PreparedStatement>(p);
}

Result<StatementResult> SqlSession::ExecutePrepared(const pgwire::PreparedStatement& base,
                                                    const std::vector<pgwire::TextValue>& params) {
  const auto& p = static_cast<const Prepared&>(base);
  auto start = Clock::now();
  if (p.empty) {
    StatementResult r;
    r.command_tag = "";
    return r;
  }
  const auto& stmt = p.script.statements[0];
  const sql::PlannedStatement* planned = nullptr;
  if (!p.is_ddl) {
    auto current = engine_->catalog();
    if (current->schema_version() != p.catalog->schema_version()) {
      // The schema changed since Parse: plan again against the new catalog.
      sql::Planner planner(current.get());
      auto re = planner.Plan(stmt, p.script.text, p.declared);
      if (!re.ok()) {
        RecordOutcome(StatementType(stmt), re.status(), start);
        return re.status();
      }
      // The client was told the row and parameter shapes at Parse/Describe;
      // a plan that changes them would send rows it cannot read.
      if (!SameShape(Describe(re->columns()), p.pinfo.columns) ||
          re->returns_rows() != p.pinfo.returns_rows ||
          !SameParamTypes(re->param_types, p.pinfo.param_type_oids)) {
        Status st(sqlstate::kFeatureNotSupported, "cached plan must not change result type",
                  "The table changed since the statement was prepared; prepare it again.");
        RecordOutcome(StatementType(stmt), st, start);
        return st;
      }
      p.planned = std::move(*re);
      p.catalog = current;
    }
    planned = &p.planned;
    last_catalog_ = p.catalog;
  }
  auto r = Run(stmt, p.script.text, p.declared, &params, planned);
  RecordOutcome(StatementType(stmt), r.status(), start);
  return r;
}

Result<StatementResult> SqlSession::CopyIn(uint64_t handle, std::string_view data) {
  auto it = copies_.find(handle);
  if (it == copies_.end()) return Status(sqlstate::kProtocolViolation, "no COPY in progress");
  PendingCopy pc = std::move(it->second);
  copies_.erase(it);
  auto start = Clock::now();
  auto opts = Options();
  auto res = engine_->executor().Copy(pc.plan, data, &txn_, opts);
  RecordOutcome("copy", res.status(), start);
  if (!res.ok()) {
    OnError();
    return res.status();
  }
  StatementResult r;
  r.command_tag = "COPY " + std::to_string(res->affected);
  return r;
}

void SqlSession::CopyAbort(uint64_t handle) {
  copies_.erase(handle);
  OnError();
}

char SqlSession::TransactionStatus() const {
  if (!txn_.in_block) return 'I';
  return txn_.failed ? 'E' : 'T';
}

void SqlSession::OnError() {
  if (txn_.in_block) txn_.failed = true;
}

void SqlSession::Cancel() {
  cancel_.Cancel();
}

Result<std::unique_ptr<pgwire::Session>> SqlSessionFactory::Open(const std::string& user,
                                                                 const std::string& database) {
  if (database != "scratchbird" && database != "postgres" && !database.empty()) {
    return Status(
        sqlstate::kInvalidCatalogName, fmt::format("database \"{}\" does not exist", database),
        "This node serves one database, \"scratchbird\" (\"postgres\" is accepted as an alias).");
  }
  Engine* engine = engine_();
  if (engine == nullptr) {
    return Status(meta::cluster_sqlstate::kNotInitialized,
                  "this node is not serving SQL yet: it does not belong to an initialised cluster",
                  "Run `scratchbird cluster init --host <rpc address> --certs-dir ...` on one "
                  "node, or start this node with --join; see `scratchbird cluster status`.");
  }
  return std::unique_ptr<pgwire::Session>(std::make_unique<SqlSession>(engine, user));
}

}  // namespace sb::node
