// Helpers shared by the pgwire tests: building frontend messages byte by byte
// and reading backend messages from a raw socket.
#pragma once

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace sb::pgwire::testing {

// Builds a message body.
class Body {
 public:
  Body& I8(uint8_t v) {
    s_.push_back(static_cast<char>(v));
    return *this;
  }
  Body& I16(int16_t v) {
    auto u = static_cast<uint16_t>(v);
    s_.push_back(static_cast<char>(u >> 8));
    s_.push_back(static_cast<char>(u));
    return *this;
  }
  Body& I32(int32_t v) {
    auto u = static_cast<uint32_t>(v);
    for (int sh = 24; sh >= 0; sh -= 8) s_.push_back(static_cast<char>(u >> sh));
    return *this;
  }
  Body& Str(std::string_view v) {
    s_.append(v);
    s_.push_back('\0');
    return *this;
  }
  Body& Raw(std::string_view v) {
    s_.append(v);
    return *this;
  }
  const std::string& str() const { return s_; }

 private:
  std::string s_;
};

inline std::string BE32(uint32_t u) {
  std::string s;
  for (int sh = 24; sh >= 0; sh -= 8) s.push_back(static_cast<char>(u >> sh));
  return s;
}

// A typed frontend message: type, length, body.
inline std::string Msg(char type, const std::string& body = {}) {
  return std::string(1, type) + BE32(static_cast<uint32_t>(body.size() + 4)) + body;
}

// An untyped startup-phase packet.
inline std::string StartupPacketBytes(const std::string& body) {
  return BE32(static_cast<uint32_t>(body.size() + 4)) + body;
}

inline std::string StartupV3(const std::string& user, const std::string& database = {}) {
  Body b;
  b.I32(196608).Str("user").Str(user);
  if (!database.empty()) b.Str("database").Str(database);
  b.I8(0);
  return StartupPacketBytes(b.str());
}

struct BackendMessage {
  char type = 0;
  std::string body;
};

// Parses the fields of an ErrorResponse/NoticeResponse body.
inline std::map<char, std::string> ErrorFields(const std::string& body) {
  std::map<char, std::string> f;
  size_t i = 0;
  while (i < body.size() && body[i] != 0) {
    char code = body[i++];
    size_t end = body.find('\0', i);
    if (end == std::string::npos) break;
    f[code] = body.substr(i, end - i);
    i = end + 1;
  }
  return f;
}

// A blocking client socket with timeouts, for speaking raw protocol.
class RawClient {
 public:
  explicit RawClient(uint16_t port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
      close(fd_);
      fd_ = -1;
    }
  }
  ~RawClient() {
    if (fd_ >= 0) close(fd_);
  }
  bool connected() const { return fd_ >= 0; }
  int fd() const { return fd_; }

  bool Send(const std::string& bytes) {
    size_t off = 0;
    while (off < bytes.size()) {
      ssize_t n = send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return false;
      off += static_cast<size_t>(n);
    }
    return true;
  }

  // Reads exactly n bytes within the timeout; false on EOF, error or timeout.
  bool ReadExact(size_t n, std::string* out, int timeout_ms = 5000) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    out->clear();
    while (out->size() < n) {
      while (!buf_.empty() && out->size() < n) {
        size_t take = std::min(buf_.size(), n - out->size());
        out->append(buf_, 0, take);
        buf_.erase(0, take);
      }
      if (out->size() == n) break;
      if (!FillOnce(deadline)) return false;
    }
    return true;
  }

  // Reads one typed backend message.
  bool Read(BackendMessage* m, int timeout_ms = 5000) {
    std::string hdr;
    if (!ReadExact(5, &hdr, timeout_ms)) return false;
    m->type = hdr[0];
    auto b = reinterpret_cast<const unsigned char*>(hdr.data() + 1);
    uint32_t len = (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | b[3];
    if (len < 4) return false;
    return ReadExact(len - 4, &m->body, timeout_ms);
  }

  // Reads messages until one of the given type (returned in *m).
  bool ReadUntil(char type, BackendMessage* m, int timeout_ms = 5000) {
    for (int i = 0; i < 100000; ++i) {
      if (!Read(m, timeout_ms)) return false;
      if (m->type == type) return true;
    }
    return false;
  }

  // True if the server closes the connection within the timeout (any
  // unread data is discarded).
  bool WaitForClose(int timeout_ms = 5000) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    buf_.clear();
    while (true) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                      deadline - std::chrono::steady_clock::now())
                      .count();
      if (left <= 0) return false;
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left)) <= 0) continue;
      char tmp[4096];
      ssize_t n = recv(fd_, tmp, sizeof(tmp), 0);
      if (n <= 0) return true;
    }
  }

  // Startup with trust auth; reads through the first ReadyForQuery.
  bool Startup(const std::string& user = "alice", const std::string& db = "db") {
    if (!Send(StartupV3(user, db))) return false;
    BackendMessage m;
    return ReadUntil('Z', &m);
  }

 private:
  bool FillOnce(std::chrono::steady_clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now())
                    .count();
    if (left <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left)) <= 0) return false;
    char tmp[65536];
    ssize_t n = recv(fd_, tmp, sizeof(tmp), 0);
    if (n <= 0) return false;
    buf_.append(tmp, static_cast<size_t>(n));
    return true;
  }

  int fd_ = -1;
  std::string buf_;
};

}  // namespace sb::pgwire::testing
