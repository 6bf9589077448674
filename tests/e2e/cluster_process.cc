#include "cluster_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

namespace sb::e2e {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

ClusterProcess::ClusterProcess(std::string base, int index)
    : base_(std::move(base)), index_(index) {
  rpc_ = "127.0.0.1:" + std::to_string(FreePort());
  sql_port_ = FreePort();
  http_ = "127.0.0.1:" + std::to_string(FreePort());
}

int ClusterProcess::http_port() const {
  return std::stoi(http_.substr(http_.rfind(':') + 1));
}

bool ClusterProcess::running() const {
  return pid_ > 0 && ::kill(pid_, 0) == 0;
}

std::string ClusterProcess::conninfo() const {
  return "host=127.0.0.1 port=" + std::to_string(sql_port_) +
         " dbname=scratchbird user=tester connect_timeout=10";
}

bool ClusterProcess::Start(const std::string& join) {
  log_ = base_ + "/node" + std::to_string(index_) + "." + std::to_string(starts_++) + ".log";
  std::vector<std::string> args = {SB_BINARY,       "start",
                                   "--data-dir",    base_ + "/data" + std::to_string(index_),
                                   "--certs-dir",   certs(),
                                   "--rpc-listen",  rpc_,
                                   "--sql-listen",  "127.0.0.1:" + std::to_string(sql_port_),
                                   "--http-listen", http_};
  if (!join.empty()) {
    args.push_back("--join");
    args.push_back(join);
  }
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_ = ::fork();
  if (pid_ == 0) {
    if (fault_injection_) ::setenv("SB_FAULT_INJECTION", "1", 1);
    int fd = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  auto deadline = Clock::now() + 30s;
  while (Clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return false;
    }
    if (log().find(" started") != std::string::npos) return true;
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

int ClusterProcess::Stop() {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  int status = 0;
  auto deadline = Clock::now() + 10s;
  while (Clock::now() < deadline) {
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    std::this_thread::sleep_for(20ms);
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  return -1;
}

void ClusterProcess::Kill9() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

std::string ClusterProcess::log() const {
  std::ifstream in(log_);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

ProgramResult Cli(std::vector<std::string> args) {
  args.insert(args.begin(), SB_BINARY);
  return RunProgram(args, 30s);
}

}  // namespace sb::e2e
