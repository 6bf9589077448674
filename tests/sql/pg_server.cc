#include "pg_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "../free_port.h"

namespace sbtest {
namespace {

using sb::test_support::FreePort;

// The account PostgreSQL runs as: ourselves, or `postgres` when we are root.
struct RunAs {
  bool drop = false;
  uid_t uid = 0;
  gid_t gid = 0;
  std::string error;
};

RunAs ResolveRunAs() {
  RunAs r;
  if (geteuid() != 0) return r;
  const passwd* pw = getpwnam("postgres");
  if (pw == nullptr) {
    r.error = "running as root and there is no 'postgres' user to run PostgreSQL as";
    return r;
  }
  r.drop = true;
  r.uid = pw->pw_uid;
  r.gid = pw->pw_gid;
  return r;
}

// Runs in a forked child before exec: drop to `run_as`, send output to `log`,
// die with the parent.
void ChildSetup(const RunAs& run_as, const std::string& log, pid_t parent) {
  if (run_as.drop) {
    if (setgroups(0, nullptr) != 0 || setgid(run_as.gid) != 0 || setuid(run_as.uid) != 0) {
      _exit(126);
    }
  }
  // After setuid: a credential change clears the parent-death signal.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(127);
  int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (fd >= 0) {
    dup2(fd, 1);
    dup2(fd, 2);
    close(fd);
  }
  int null_fd = open("/dev/null", O_RDONLY);
  if (null_fd >= 0) {
    dup2(null_fd, 0);
    close(null_fd);
  }
}

pid_t Spawn(const std::vector<std::string>& argv, const RunAs& run_as, const std::string& log) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t parent = getpid();
  pid_t pid = fork();
  if (pid == 0) {
    ChildSetup(run_as, log, parent);
    setenv("LC_ALL", "C", 1);
    setenv("TZ", "UTC", 1);
    execv(args[0], args.data());
    _exit(127);
  }
  return pid;
}

std::string ReadTail(const std::string& path, size_t max) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  return s.size() > max ? s.substr(s.size() - max) : s;
}

bool Executable(const std::string& path) {
  return access(path.c_str(), X_OK) == 0;
}

constexpr char kDirPrefix[] = "sb-pgoracle-";

// Removes the directories of earlier runs whose test process was killed
// (SIGKILL skips Stop(); the server itself died with its parent).
void RemoveOrphans(const std::string& tmp) {
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(tmp, ec)) {
    if (e.path().filename().string().rfind(kDirPrefix, 0) != 0) continue;
    std::ifstream in(e.path() / "owner.pid");
    long owner = 0;
    if (!(in >> owner) || owner <= 0) continue;
    if (kill(static_cast<pid_t>(owner), 0) != 0 && errno == ESRCH) {
      std::error_code rm;
      std::filesystem::remove_all(e.path(), rm);
    }
  }
}

}  // namespace

PgServer::~PgServer() {
  Stop();
}

std::string PgServer::BinDir() {
  const char* env = std::getenv("SB_PG_BIN");
  return env != nullptr && *env != '\0' ? env : "/usr/lib/postgresql/15/bin";
}

std::string PgServer::Unavailable() {
  const std::string bin = BinDir();
  for (const char* tool : {"initdb", "postgres"}) {
    if (!Executable(bin + "/" + tool)) {
      return "PostgreSQL 15 is not installed (" + bin + "/" + tool +
             " not found; scripts/install-deps installs it, SB_PG_BIN overrides the directory)";
    }
  }
  return {};
}

std::string PgServer::conninfo() const {
  return "host=127.0.0.1 port=" + std::to_string(port_) +
         " dbname=postgres user=postgres connect_timeout=10";
}

std::string PgServer::LogTail() const {
  return ReadTail(dir_ + "/postgres.log", 4000);
}

std::string PgServer::Start() {
  if (std::string why = Unavailable(); !why.empty()) return why;
  const RunAs run_as = ResolveRunAs();
  if (!run_as.error.empty()) return run_as.error;
  const std::string bin = BinDir();
  const char* tmp_env = std::getenv("TMPDIR");
  const std::string tmp = tmp_env && *tmp_env ? tmp_env : "/tmp";
  RemoveOrphans(tmp);
  std::string templ = tmp + "/" + kDirPrefix + "XXXXXX";
  std::vector<char> buf(templ.begin(), templ.end());
  buf.push_back('\0');
  if (mkdtemp(buf.data()) == nullptr) return "mkdtemp failed: " + std::string(strerror(errno));
  dir_ = buf.data();
  std::ofstream(dir_ + "/owner.pid") << getpid() << "\n";
  if (run_as.drop && chown(dir_.c_str(), run_as.uid, run_as.gid) != 0) {
    return "chown " + dir_ + " failed: " + strerror(errno);
  }
  const std::string data = dir_ + "/pg";
  // initdb: C locale (byte-order collation, ASCII-only lower/upper, as
  // ScratchBird), UTF8, no fsync.
  pid_t init = Spawn({bin + "/initdb", "-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8",
                      "--locale=C", "--no-sync"},
                     run_as, dir_ + "/initdb.log");
  if (init < 0) return "fork failed: " + std::string(strerror(errno));
  int status = 0;
  waitpid(init, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return "initdb failed:\n" + ReadTail(dir_ + "/initdb.log", 4000);
  }
  std::string last_error;
  for (int attempt = 0; attempt < 5; ++attempt) {
    port_ = FreePort();
    if (port_ == 0) continue;
    pid_t pid = Spawn({bin + "/postgres",
                       "-D",
                       data,
                       "-p",
                       std::to_string(port_),
                       "-k",
                       dir_,
                       "-c",
                       "listen_addresses=127.0.0.1",
                       "-c",
                       "fsync=off",
                       "-c",
                       "synchronous_commit=off",
                       "-c",
                       "full_page_writes=off",
                       "-c",
                       "max_connections=20",
                       "-c",
                       "shared_buffers=32MB",
                       "-c",
                       "TimeZone=UTC",
                       "-c",
                       "DateStyle=ISO, MDY",
                       "-c",
                       "jit=off",
                       "-c",
                       "max_parallel_workers_per_gather=0",
                       "-c",
                       "logging_collector=off"},
                      run_as, dir_ + "/postgres.log");
    if (pid < 0) return "fork failed: " + std::string(strerror(errno));
    pid_ = pid;
    for (int i = 0; i < 600; ++i) {
      int st = 0;
      if (waitpid(pid_, &st, WNOHANG) == pid_) {
        pid_ = -1;
        last_error = "postgres exited during startup:\n" + LogTail();
        break;
      }
      if (PQping(conninfo().c_str()) == PQPING_OK) return {};
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (pid_ > 0) {
      std::string log = LogTail();
      Stop();
      return "postgres did not accept connections in 30 s:\n" + log;
    }
  }
  return last_error.empty() ? "could not find a free port" : last_error;
}

void PgServer::Stop() {
  if (pid_ > 0) {
    kill(pid_, SIGINT);  // fast shutdown: disconnect clients, checkpoint, exit
    bool exited = false;
    for (int i = 0; i < 200 && !exited; ++i) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        exited = true;
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    }
    if (!exited) {
      kill(pid_, SIGQUIT);  // immediate shutdown: the postmaster takes its children along
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      kill(pid_, SIGKILL);
      int status = 0;
      waitpid(pid_, &status, 0);
    }
    pid_ = -1;
  }
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
    dir_.clear();
  }
}

}  // namespace sbtest
