#include "e2e_util.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "../free_port.h"
#include "common/key_encoding.h"
#include "common/shard_router.h"
#include "common/sql_type.h"
#include "common/value_codec.h"

namespace sb::e2e {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

int FreePort() {
  return sb::test_support::FreePort();
}

TempDir::TempDir() {
  std::string tmpl = (fs::temp_directory_path() / "sb-e2e-XXXXXX").string();
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) != nullptr) path_ = buf.data();
}

TempDir::~TempDir() {
  std::error_code ec;
  if (!path_.empty()) fs::remove_all(path_, ec);
}

namespace {

// Waits for `pid` at most `timeout`; true when it was reaped (status set).
bool WaitPid(pid_t pid, std::chrono::milliseconds timeout, int* status) {
  auto deadline = Clock::now() + timeout;
  for (;;) {
    pid_t r = ::waitpid(pid, status, WNOHANG);
    if (r == pid) return true;
    if (r < 0 && errno != EINTR) return true;  // already reaped elsewhere
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
}

// fork + exec with stdout/stderr to `out_path` and stdin from `in_path`.
pid_t Spawn(const std::vector<std::string>& argv, const std::string& out_path,
            const std::string& in_path) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid != 0) return pid;
  // Child: only async-signal-safe calls until exec.
  int in = ::open(in_path.empty() ? "/dev/null" : in_path.c_str(), O_RDONLY);
  int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (in >= 0) ::dup2(in, 0);
  if (out >= 0) {
    ::dup2(out, 1);
    ::dup2(out, 2);
  }
  ::execvp(args[0], args.data());
  _exit(127);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

ProgramResult RunProgram(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                         const std::string& stdin_path) {
  ProgramResult result;
  TempDir tmp;
  std::string out = tmp.path() + "/output";
  pid_t pid = Spawn(argv, out, stdin_path);
  if (pid < 0) return result;
  int status = 0;
  if (!WaitPid(pid, timeout, &status)) {
    ::kill(pid, SIGKILL);
    WaitPid(pid, 10s, &status);
    result.output = ReadFile(out);
    return result;
  }
  result.exited = true;
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) result.signal = WTERMSIG(status);
  result.output = ReadFile(out);
  return result;
}

ServerProcess::~ServerProcess() {
  if (pid_ > 0) Stop(5s);
  if (!log_path_.empty()) ::unlink(log_path_.c_str());
}

bool ServerProcess::Start(const std::vector<std::string>& extra_args) {
  if (pid_ > 0) return false;
  if (log_path_.empty()) {
    char tmpl[] = "/tmp/sb-e2e-log-XXXXXX";
    int fd = ::mkstemp(tmpl);
    if (fd >= 0) ::close(fd);
    log_path_ = tmpl;
  }
  // A free port can be taken by someone else before the server binds it:
  // then the server exits saying it cannot listen, and we try other ports.
  for (int attempt = 0; attempt < 3; ++attempt) {
    size_t log_before = log().size();
    if (StartOnce(extra_args)) return true;
    if (pid_ > 0 || log().find("listen", log_before) == std::string::npos) return false;
  }
  return false;
}

bool ServerProcess::StartOnce(const std::vector<std::string>& extra_args) {
  const size_t log_start = log().size();
  sql_port_ = FreePort();
  http_port_ = FreePort();
  while (http_port_ == sql_port_) http_port_ = FreePort();
  std::vector<std::string> argv = {SB_BINARY,       "start-single-node",
                                   "--data-dir",    data_dir_,
                                   "--sql-listen",  "127.0.0.1:" + std::to_string(sql_port_),
                                   "--http-listen", "127.0.0.1:" + std::to_string(http_port_)};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  pid_ = Spawn(argv, log_path_, "");
  if (pid_ < 0) return false;
  // Ready when the process has logged that it is ready and the SQL port
  // accepts a TCP connection (the log check makes sure the port is ours);
  // give up if the process exits or after a bounded wait.
  auto deadline = Clock::now() + 20s;
  while (Clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return false;
    }
    int fd = log().find("ready", log_start) != std::string::npos ? ConnectTcp(sql_port_) : -1;
    if (fd >= 0) {
      ::close(fd);
      return true;
    }
    std::this_thread::sleep_for(20ms);
  }
  Kill9();
  return false;
}

int ServerProcess::Stop(std::chrono::milliseconds grace) {
  if (pid_ <= 0) return -1;
  int status = 0;
  ::kill(pid_, SIGTERM);
  if (!WaitPid(pid_, grace, &status)) {
    ::kill(pid_, SIGKILL);
    WaitPid(pid_, 10s, &status);
    pid_ = -1;
    return -1;
  }
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void ServerProcess::Kill9() {
  if (pid_ <= 0) return;
  int status = 0;
  ::kill(pid_, SIGKILL);
  WaitPid(pid_, 10s, &status);
  pid_ = -1;
}

std::string ServerProcess::log() const {
  return log_path_.empty() ? "" : ReadFile(log_path_);
}

std::string ServerProcess::conninfo(const std::string& dbname) const {
  return "host=127.0.0.1 port=" + std::to_string(sql_port_) + " dbname=" + dbname +
         " user=tester connect_timeout=10";
}

std::vector<std::string> Result::column(int col) const {
  std::vector<std::string> out;
  for (int i = 0; i < rows(); ++i) out.push_back(at(i, col));
  return out;
}

std::vector<std::string> Result::lines() const {
  std::vector<std::string> out;
  for (int i = 0; i < rows(); ++i) {
    std::string line;
    for (int j = 0; j < cols(); ++j) line += (j ? "|" : "") + at(i, j);
    out.push_back(line);
  }
  return out;
}

std::string Result::dump() const {
  if (!ok()) return "error: " + error();
  std::string s = tag() + "\n";
  for (const auto& l : lines()) s += "  " + l + "\n";
  return s;
}

Conn::Conn(const std::string& conninfo) : c_(PQconnectdb(conninfo.c_str()), PQfinish) {}

namespace {
std::vector<const char*> ParamPointers(const std::vector<std::optional<std::string>>& params) {
  std::vector<const char*> v;
  for (const auto& p : params) v.push_back(p ? p->c_str() : nullptr);
  return v;
}
}  // namespace

Result Conn::Params(const std::string& sql,
                    const std::vector<std::optional<std::string>>& params) const {
  auto v = ParamPointers(params);
  return Result(PQexecParams(c_.get(), sql.c_str(), static_cast<int>(v.size()), nullptr, v.data(),
                             nullptr, nullptr, 0));
}

Result Conn::Prepare(const std::string& name, const std::string& sql, int nparams) const {
  return Result(PQprepare(c_.get(), name.c_str(), sql.c_str(), nparams, nullptr));
}

Result Conn::ExecPrepared(const std::string& name,
                          const std::vector<std::optional<std::string>>& params) const {
  auto v = ParamPointers(params);
  return Result(PQexecPrepared(c_.get(), name.c_str(), static_cast<int>(v.size()), v.data(),
                               nullptr, nullptr, 0));
}

std::string Conn::Scalar(const std::string& sql) const {
  Result r = Exec(sql);
  if (!r.ok()) return "<error: " + r.error() + ">";
  if (r.rows() < 1 || r.cols() < 1) return "<no rows>";
  return r.at(0, 0);
}

Result Conn::CopyIn(const std::string& sql, const std::string& data) const {
  Result start(PQexec(c_.get(), sql.c_str()));
  if (start.status() != PGRES_COPY_IN) return start;
  bool sent = PQputCopyData(c_.get(), data.data(), static_cast<int>(data.size())) == 1;
  PQputCopyEnd(c_.get(), sent ? nullptr : "client failed to send data");
  Result last;
  while (PGresult* r = PQgetResult(c_.get())) last = Result(r);
  return last;
}

char Conn::txn_status() const {
  switch (PQtransactionStatus(c_.get())) {
    case PQTRANS_IDLE:
      return 'I';
    case PQTRANS_INTRANS:
      return 'T';
    case PQTRANS_INERROR:
      return 'E';
    default:
      return '?';
  }
}

int ConnectTcp(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

bool SendAll(int fd, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

std::string ReadUntilClose(int fd, std::chrono::milliseconds timeout, bool* closed,
                           size_t max_bytes) {
  std::string out;
  *closed = false;
  auto deadline = Clock::now() + timeout;
  while (out.size() < max_bytes) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) break;
    pollfd p{fd, POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    char buf[4096];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      *closed = true;
      break;
    }
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

HttpResponse HttpGet(int port, const std::string& path) {
  HttpResponse res;
  int fd = ConnectTcp(port);
  if (fd < 0) return res;
  SendAll(fd, "GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
  bool closed = false;
  std::string raw = ReadUntilClose(fd, 10s, &closed, 64 << 20);
  ::close(fd);
  // "HTTP/1.1 200 OK\r\n...\r\n\r\nbody"
  if (raw.rfind("HTTP/", 0) != 0) return res;
  size_t sp = raw.find(' ');
  if (sp == std::string::npos) return res;
  res.status = std::atoi(raw.c_str() + sp + 1);
  size_t body = raw.find("\r\n\r\n");
  if (body != std::string::npos) res.body = raw.substr(body + 4);
  return res;
}

double MetricSample(const std::string& metrics, const std::string& name,
                    const std::vector<std::string>& labels) {
  std::istringstream in(metrics);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(name, 0) != 0) continue;
    if (line.size() > name.size() && line[name.size()] != '{' && line[name.size()] != ' ') continue;
    bool all = true;
    for (const auto& l : labels) all = all && line.find(l) != std::string::npos;
    if (!all) continue;
    return std::stod(line.substr(line.rfind(' ') + 1));
  }
  return -1;
}

int ShardOfUuid(const std::string& uuid, int shard_count) {
  SqlType type = SqlType::Of(TypeId::kUuid);
  auto v = ParseTextValue(type, uuid);
  if (!v.ok()) return -1;
  auto key = EncodeKeyValue(type, *v, "customer_id");
  if (!key.ok()) return -1;
  return static_cast<int>(InitialShardOfVnode(VnodeRing().VnodeOf(HashShardKey(*key)),
                                              static_cast<uint32_t>(shard_count))) +
         1;
}

std::string UuidFor(uint64_t n) {
  // Spread the bits so that consecutive numbers land on different shards.
  uint64_t hi = n * 0x9e3779b97f4a7c15ULL;
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08x-%04x-4%03x-8%03x-%012llx", static_cast<unsigned>(hi >> 32),
                static_cast<unsigned>((hi >> 16) & 0xffff), static_cast<unsigned>(hi & 0xfff),
                static_cast<unsigned>((n >> 48) & 0xfff),
                static_cast<unsigned long long>(n & 0xffffffffffffULL));
  return buf;
}

std::string ShardName(int n) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "shard_%03d", n);
  return buf;
}

}  // namespace sb::e2e
