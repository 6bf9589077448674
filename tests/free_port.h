// Test-only: a TCP port on 127.0.0.1 that is free now, for a child process
// to listen on a moment later.
//
// The port is picked below the kernel's ephemeral range
// (net.ipv4.ip_local_port_range). A port the kernel hands out for bind(0)
// comes from that range, and so do the source ports of every outgoing
// connection on the machine: between our check and the child's listen(),
// a client connection elsewhere could take it ("cannot listen on ..."),
// which made parallel test runs flaky. Ports are also claimed across test
// processes (ClaimPort).
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <random>
#include <string>

namespace sb::test_support {

inline bool PortIsFree(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  const bool free = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return free;
}

// Test processes run in parallel and pick ports independently: a port is
// claimed with an flock on /tmp/sb-test-ports/<port> that this process
// holds until it exits, so no other test process hands out the same port.
inline bool ClaimPort(int port) {
  ::mkdir("/tmp/sb-test-ports", 0777);
  const std::string path = "/tmp/sb-test-ports/" + std::to_string(port);
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
  if (fd < 0) return true;  // no lock directory: fall back to the bind check alone
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return false;
  }
  return true;  // fd stays open (and locked) for the life of the process
}

inline int FreePort() {
  int ephemeral_low = 32768, ephemeral_high = 60999;
  std::ifstream range("/proc/sys/net/ipv4/ip_local_port_range");
  range >> ephemeral_low >> ephemeral_high;
  constexpr int kLowest = 10000;
  if (ephemeral_low - kLowest >= 1000) {
    thread_local std::mt19937 rng(std::random_device{}());
    std::uniform_int_distribution<int> pick(kLowest, ephemeral_low - 1);
    for (int attempt = 0; attempt < 200; ++attempt) {
      const int port = pick(rng);
      if (ClaimPort(port) && PortIsFree(port)) return port;
    }
  }
  // No room below the ephemeral range: let the kernel pick.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
    port = ntohs(a.sin_port);
  }
  ::close(fd);
  return port;
}

}  // namespace sb::test_support
