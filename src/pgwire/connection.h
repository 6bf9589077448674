// One client connection: the protocol state machine from the startup packet to
// Terminate. Owned and run by the Server on a dedicated thread.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "pgwire/messages.h"
#include "pgwire/server.h"
#include "pgwire/session.h"

namespace sb::pgwire {

// What a connection needs from the server that runs it.
class ConnectionHost {
 public:
  virtual ~ConnectionHost() = default;
  // Makes the session reachable for CancelRequests under (pid, secret).
  virtual void AttachSession(int32_t pid, int32_t secret, Session* session) = 0;
  // Must be called before the session is destroyed.
  virtual void DetachSession(int32_t pid) = 0;
  // Handles a CancelRequest from another connection; true if one matched.
  virtual bool CancelBackend(int32_t pid, int32_t secret) = 0;
  // True once the server is shutting down.
  virtual bool stopping() const = 0;
};

class Connection : private StatementNames {
 public:
  // Does not take ownership of fd (the server closes it after Run returns).
  Connection(int fd, int32_t pid, const ServerOptions& options, SessionFactory* factory,
             ConnectionHost* host);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Serves the client until it leaves or a fatal error occurs.
  void Run();
  // Serves only the startup exchange and refuses the client with `reason`
  // (FATAL); SSL/GSS negotiation and CancelRequests are still honoured.
  // Returns true if the refusal was sent (false for cancels and bad packets).
  bool RunRefusal(const Status& reason);

  // The client's address, used in log messages.
  void set_peer(std::string peer) { peer_ = std::move(peer); }

  // True if a FATAL error was sent: the server then closes gently so that the
  // message is not lost to a TCP reset caused by unread client input.
  bool sent_fatal() const { return sent_fatal_; }
  // SQLSTATE of the FATAL error sent, empty if none.
  const std::string& fatal_code() const { return fatal_code_; }

 private:
  struct Statement {
    std::shared_ptr<PreparedStatement> prepared;  // null for an empty query
    std::vector<uint32_t> param_types;
  };
  struct Portal {
    std::shared_ptr<PreparedStatement> prepared;  // null for an empty query
    std::vector<TextValue> params;
    std::vector<int16_t> result_formats;
    bool started = false;
    bool done = false;
    bool suspended = false;
    bool unrunnable = false;  // failed, or a finished COPY: cannot run again
    StatementResult result;
    size_t next_row = 0;
  };

  // I/O. ReadFrame returns false when the connection must end (EOF, I/O
  // error, or a protocol error that has already been reported).
  bool ReadFrame(Frame* frame);
  bool ReadStartupBody(std::string_view* body);
  // Receives more input; want_total is the size of the message being read
  // (0 if not yet known).
  bool Fill(size_t want_total);
  void Flush();
  void MaybeFlush();
  void SendFatal(const Status& status);

  // Returns false to close the connection without opening a session.
  bool Startup(const Status* refusal, bool* refused);
  void MainLoop();

  bool HandleQuery(std::string_view body);
  bool HandleParse(std::string_view body);
  bool HandleBind(std::string_view body);
  bool HandleDescribe(std::string_view body);
  bool HandleExecute(std::string_view body);
  bool HandleClose(std::string_view body);
  void HandleSync();
  void ExtendedError(const Status& status);

  // StatementNames (SQL DEALLOCATE).
  bool CloseStatement(std::string_view name) override;
  void CloseAllStatements() override;

  // Sends one simple-query result; *error is set if a COPY failed.
  bool SendSimpleResult(const StatementResult& result, Status* error);
  // Runs the COPY FROM STDIN sub-protocol. Returns false if the connection
  // must close; *error holds a non-fatal COPY failure.
  bool RunCopyIn(const StatementResult& result, Status* error);
  // Appends a DataRow with per-column formats; on error nothing is appended.
  Status WriteDataRow(const TextRow& row, const std::vector<ColumnDesc>& columns,
                      const std::vector<int16_t>& formats);

  int fd_;
  int32_t pid_;
  const ServerOptions& options_;
  SessionFactory* factory_;
  ConnectionHost* host_;

  std::vector<char> in_;
  size_t in_begin_ = 0;
  size_t in_end_ = 0;
  std::string out_;
  BackendWriter w_;
  bool broken_ = false;  // socket write failed; stop producing output
  bool sent_fatal_ = false;
  std::string fatal_code_;
  std::string peer_ = "unknown client";

  std::unique_ptr<Session> session_;
  bool attached_ = false;
  bool ignore_till_sync_ = false;
  bool error_since_sync_ = false;
  std::map<std::string, Statement, std::less<>> statements_;
  std::map<std::string, Portal, std::less<>> portals_;
};

}  // namespace sb::pgwire
