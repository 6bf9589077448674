// One client connection's SQL session: implements the pgwire Session
// contract on top of the planner and the executor. Holds the session's
// settings, its transaction (bound to one shard by its first write), its
// prepared statements' catalog snapshots and its pending COPY.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "exec/executor.h"
#include "node/engine.h"
#include "pgwire/session.h"
#include "sql/planner.h"

namespace sb::node {

class SqlSession : public pgwire::Session {
 public:
  SqlSession(Engine* engine, std::string user);
  ~SqlSession() override;

  std::vector<std::pair<std::string, std::string>> StartupParameters() override;
  std::vector<pgwire::StatementResult> ExecuteSimple(std::string_view sql, Status* error) override;
  Result<std::shared_ptr<pgwire::PreparedStatement>> Prepare(
      std::string_view sql, const std::vector<uint32_t>& param_type_oids) override;
  Result<pgwire::StatementResult> ExecutePrepared(
      const pgwire::PreparedStatement& stmt, const std::vector<pgwire::TextValue>& params) override;
  Result<pgwire::StatementResult> CopyIn(uint64_t copy_handle, std::string_view data) override;
  void CopyAbort(uint64_t copy_handle) override;
  char TransactionStatus() const override;
  void OnError() override;
  void Cancel() override;

 private:
  struct Prepared;
  // Plans (or, for DDL, runs) one statement and executes it.
  Result<pgwire::StatementResult> Run(const sql::ParsedStatement& stmt, std::string_view text,
                                      const std::vector<SqlType>& declared_params,
                                      const std::vector<pgwire::TextValue>* text_params,
                                      const sql::PlannedStatement* preplanned);
  Result<pgwire::StatementResult> Execute(const sql::PlannedStatement& planned,
                                          const std::vector<Value>& params);
  Result<pgwire::StatementResult> Explain(const sql::ExplainCommand& e,
                                          const std::vector<Value>& params);
  Result<pgwire::StatementResult> ApplySet(const sql::SetCommand& set);
  Result<pgwire::StatementResult> Show(const sql::ShowCommand& show);
  Result<std::vector<Value>> ConvertParams(const std::vector<SqlType>& types,
                                           const std::vector<pgwire::TextValue>& params);
  exec::ExecOptions Options();
  void RecordOutcome(const std::string& type, const Status& st,
                     std::chrono::steady_clock::time_point start);
  Status CheckTransactionNotFailed(const sql::ParsedStatement& stmt) const;

  Engine* engine_;
  std::string user_;
  uint64_t session_id_;
  std::map<std::string, std::string> settings_;
  exec::TxnState txn_;
  exec::CancelState cancel_;
  exec::StatementContext context_;
  std::map<std::string, std::string> context_settings_;  // settings context_ was built from
  int64_t statement_timeout_ms_ = 0;
  bool allow_multi_shard_writes_ = false;
  int64_t join_memory_limit_ = int64_t{256} << 20;
  int64_t max_merge_memory_ = int64_t{512} << 20;
  struct PendingCopy {
    exec::CopyPlan plan;
    std::shared_ptr<const meta::Catalog> catalog;
  };
  std::map<uint64_t, PendingCopy> copies_;
  uint64_t next_copy_ = 1;
  std::shared_ptr<const meta::Catalog> last_catalog_;  // keeps plans' table pointers alive
};

class SqlSessionFactory : public pgwire::SessionFactory {
 public:
  explicit SqlSessionFactory(Engine* engine) : engine_([engine] { return engine; }) {}
  // The engine may not exist yet (a cluster node before its cluster is
  // initialised): connections are refused with SB034 until it does.
  explicit SqlSessionFactory(std::function<Engine*()> engine) : engine_(std::move(engine)) {}
  Result<std::unique_ptr<pgwire::Session>> Open(const std::string& user,
                                                const std::string& database) override;

 private:
  std::function<Engine*()> engine_;
};

// Settings a session starts with (SHOW-able, SET-able).
std::map<std::string, std::string> DefaultSettings();

}  // namespace sb::node
