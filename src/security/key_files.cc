#include "security/key_files.h"

#include <fcntl.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace sb::security {
namespace {

// A certificate bundle or key is a few kilobytes; anything this large is not
// what the caller thinks it is.
constexpr off_t kMaxFileSize = 1 << 20;

std::string Errno(int err) {
  return std::strerror(err);
}

Status IoErrorAt(const std::string& what, const std::string& path, int err) {
  return Status::IoError("cannot " + what + " " + path + ": " + Errno(err));
}

std::string OctalMode(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(Fd&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  Fd& operator=(Fd&&) = delete;
  int get() const { return fd_; }
  // Closes now so that a failing close (delayed write errors) is reported.
  int Close() {
    int rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }

 private:
  int fd_;
};

Status WriteAll(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return IoErrorAt("write", path, errno);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

Result<std::string> ReadAll(int fd, const struct stat& st, const std::string& path) {
  if (st.st_size > kMaxFileSize)
    return Status::IoError(path + " is too large (" + std::to_string(st.st_size) +
                           " bytes) for a key or certificate file");
  std::string out;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return IoErrorAt("read", path, errno);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (static_cast<off_t>(out.size()) > kMaxFileSize)
      return Status::IoError(path + " is too large for a key or certificate file");
  }
  return out;
}

Result<Fd> OpenForRead(const std::string& path, struct stat* st) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT)
      return Status::Error(kSqlstateUndefinedFile, "file " + path + " does not exist");
    return IoErrorAt("open", path, err);
  }
  Fd f(fd);
  if (::fstat(fd, st) != 0) return IoErrorAt("stat", path, errno);
  if (!S_ISREG(st->st_mode))
    return Status::Error(kSqlstateConfigFileError, path + " is not a regular file");
  return f;
}

// Moves tmp to path; with kFail, never replaces an existing path.
Status Publish(const std::string& tmp, const std::string& path, IfExists if_exists) {
  if (if_exists == IfExists::kReplace) {
    if (::rename(tmp.c_str(), path.c_str()) != 0) return IoErrorAt("rename to", path, errno);
    return Status::Ok();
  }
  if (::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, path.c_str(), RENAME_NOREPLACE) == 0)
    return Status::Ok();
  int err = errno;
  if (err == EINVAL || err == ENOSYS) {
    // File systems without RENAME_NOREPLACE: link() refuses an existing
    // target just the same.
    if (::link(tmp.c_str(), path.c_str()) == 0) {
      ::unlink(tmp.c_str());
      return Status::Ok();
    }
    err = errno;
  }
  if (err == EEXIST)
    return Status::Error(kSqlstateDuplicateFile, "file " + path + " already exists");
  return IoErrorAt("create", path, err);
}

}  // namespace

Status WriteFileAtomically(const std::string& path, std::string_view contents, mode_t mode,
                           IfExists if_exists) {
  std::filesystem::path target(path);
  std::string dir = target.has_parent_path() ? target.parent_path().string() : ".";
  unsigned char rnd[8];
  if (RAND_bytes(rnd, sizeof rnd) != 1)
    return Status::Internal("cannot pick a temporary file name: OpenSSL's random generator failed");
  char suffix[2 * sizeof rnd + 1];
  for (size_t i = 0; i < sizeof rnd; ++i) std::snprintf(suffix + 2 * i, 3, "%02x", rnd[i]);
  std::string tmp = dir + "/." + target.filename().string() + ".tmp-" + suffix;

  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd < 0) return IoErrorAt("create", tmp, errno);
  Fd file(fd);
  auto fail = [&](Status st) {
    ::unlink(tmp.c_str());
    return st;
  };
  // open() applied the umask; the caller asked for an exact mode.
  if (::fchmod(fd, mode) != 0) return fail(IoErrorAt("chmod", tmp, errno));
  if (Status st = WriteAll(fd, contents, tmp); !st.ok()) return fail(st);
  if (::fsync(fd) != 0) return fail(IoErrorAt("fsync", tmp, errno));
  if (file.Close() != 0) return fail(IoErrorAt("close", tmp, errno));
  if (Status st = Publish(tmp, path, if_exists); !st.ok()) return fail(st);
  return SyncDirectory(dir);
}

Result<std::string> ReadSmallFile(const std::string& path) {
  struct stat st;
  SB_ASSIGN_OR_RETURN(Fd fd, OpenForRead(path, &st));
  return ReadAll(fd.get(), st, path);
}

Result<std::string> ReadPrivateKeyFile(const std::string& path) {
  struct stat st;
  SB_ASSIGN_OR_RETURN(Fd fd, OpenForRead(path, &st));
  if ((st.st_mode & 077) != 0) {
    const char* what = (st.st_mode & 044) != 0 ? "readable" : "writable";
    return Status::Error(kSqlstateConfigFileError,
                         "key file " + path + " is " + what + " by group or others (mode " +
                             OctalMode(st.st_mode) + "); run chmod 600 " + path);
  }
  return ReadAll(fd.get(), st, path);
}

Status EnsurePrivateDirectory(const std::string& path) {
  std::filesystem::path p(path);
  std::error_code ec;
  if (std::filesystem::is_directory(p, ec)) return Status::Ok();
  if (p.has_parent_path() && p.parent_path() != p) {
    SB_RETURN_IF_ERROR(EnsurePrivateDirectory(p.parent_path().string()));
  }
  if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST)
    return IoErrorAt("create directory", path, errno);
  if (!std::filesystem::is_directory(p, ec))
    return Status::IoError(path + " exists and is not a directory");
  return Status::Ok();
}

Status SyncDirectory(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return IoErrorAt("open directory", path, errno);
  Fd dir(fd);
  if (::fsync(fd) != 0) return IoErrorAt("fsync directory", path, errno);
  return Status::Ok();
}

}  // namespace sb::security
