// Files that hold keys and certificates: written atomically (a crash leaves
// the old file or the new one, never a torn one) and, for private keys, never
// readable by anyone but the owner, not even for an instant.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "common/status.h"

namespace sb::security {

// SQLSTATEs of this layer that common/status.h does not name.
inline constexpr const char* kSqlstateConfigFileError = "F0000";  // config_file_error
inline constexpr const char* kSqlstateUndefinedFile = "58P01";    // undefined_file
inline constexpr const char* kSqlstateDuplicateFile = "58P02";    // duplicate_file
inline constexpr const char* kSqlstateInvalidAuthorization = "28000";

inline constexpr mode_t kPrivateFileMode = 0600;
inline constexpr mode_t kPublicFileMode = 0644;

enum class IfExists { kFail, kReplace };

// Writes `contents` to `path` through a temporary file in the same directory
// that is created with O_EXCL and `mode` (so a key is never visible with a
// wider mode), fsynced, renamed over `path` and followed by an fsync of the
// directory. The mode is set exactly, regardless of the umask. With
// IfExists::kFail an existing `path` is left alone and the result is
// kSqlstateDuplicateFile.
Status WriteFileAtomically(const std::string& path, std::string_view contents, mode_t mode,
                           IfExists if_exists = IfExists::kFail);

// WriteFileAtomically with mode 0600.
inline Status WritePrivateKeyFile(const std::string& path, std::string_view contents,
                                  IfExists if_exists = IfExists::kFail) {
  return WriteFileAtomically(path, contents, kPrivateFileMode, if_exists);
}

// Reads a whole file (certificates, identifiers). A missing file is
// kSqlstateUndefinedFile.
Result<std::string> ReadSmallFile(const std::string& path);

// Reads a private key file, refusing it (kSqlstateConfigFileError) when it is
// not a regular file or when its mode grants group or others any access; the
// message names the path, the mode and the chmod that fixes it. Symbolic
// links are followed, and the mode checked is the target's.
Result<std::string> ReadPrivateKeyFile(const std::string& path);

// Creates `path` with mode 0700 if it does not exist (parents too, also
// 0700). An existing directory is accepted as it is.
Status EnsurePrivateDirectory(const std::string& path);

// fsyncs a directory so that entries created or renamed in it survive a crash.
Status SyncDirectory(const std::string& path);

}  // namespace sb::security
