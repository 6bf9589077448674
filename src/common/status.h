// Errors as values across layer boundaries. Every user-visible error carries a
// PostgreSQL SQLSTATE so the wire layer can report it without translation.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace sb {

// SQLSTATE codes used across the project (PostgreSQL Appendix A plus our own
// SBxxx class for cluster-specific conditions).
namespace sqlstate {
inline constexpr const char* kSuccess = "00000";
inline constexpr const char* kFeatureNotSupported = "0A000";
inline constexpr const char* kSyntaxError = "42601";
inline constexpr const char* kUndefinedTable = "42P01";
inline constexpr const char* kUndefinedColumn = "42703";
inline constexpr const char* kUndefinedFunction = "42883";
inline constexpr const char* kUndefinedObject = "42704";
inline constexpr const char* kDuplicateTable = "42P07";
inline constexpr const char* kDuplicateObject = "42710";
inline constexpr const char* kDuplicateColumn = "42701";
inline constexpr const char* kAmbiguousColumn = "42702";
inline constexpr const char* kDatatypeMismatch = "42804";
inline constexpr const char* kGroupingError = "42803";
inline constexpr const char* kInvalidColumnReference = "42P10";
inline constexpr const char* kDuplicateAlias = "42712";
inline constexpr const char* kWindowingError = "42P20";
inline constexpr const char* kCardinalityViolation = "21000";
inline constexpr const char* kInvalidPrecedingOrFollowingSize = "22013";
inline constexpr const char* kBadCopyFileFormat = "22P04";
inline constexpr const char* kCantChangeRuntimeParam = "55P02";
inline constexpr const char* kIndeterminateDatatype = "42P18";
inline constexpr const char* kInvalidRowCountInLimit = "2201W";
inline constexpr const char* kCannotCoerce = "42846";
inline constexpr const char* kDuplicatePreparedStatement = "42P05";
inline constexpr const char* kInvalidTableDefinition = "42P16";
inline constexpr const char* kWrongObjectType = "42809";
inline constexpr const char* kInvalidCursorState = "24000";
inline constexpr const char* kReadOnlyTransaction = "25006";
inline constexpr const char* kInvalidTextRepresentation = "22P02";
inline constexpr const char* kInvalidDatetimeFormat = "22007";
inline constexpr const char* kDatetimeFieldOverflow = "22008";
inline constexpr const char* kNumericValueOutOfRange = "22003";
inline constexpr const char* kStringDataRightTruncation = "22001";
inline constexpr const char* kDivisionByZero = "22012";
inline constexpr const char* kInvalidParameterValue = "22023";
inline constexpr const char* kNotNullViolation = "23502";
inline constexpr const char* kUniqueViolation = "23505";
inline constexpr const char* kForeignKeyViolation = "23503";
inline constexpr const char* kCheckViolation = "23514";
inline constexpr const char* kInvalidTransactionState = "25000";
inline constexpr const char* kInFailedTransaction = "25P02";
inline constexpr const char* kActiveSqlTransaction = "25001";
inline constexpr const char* kNoActiveSqlTransaction = "25P01";
inline constexpr const char* kInvalidSqlStatementName = "26000";
inline constexpr const char* kInvalidCursorName = "34000";
inline constexpr const char* kInvalidCatalogName = "3D000";
inline constexpr const char* kSerializationFailure = "40001";
inline constexpr const char* kProtocolViolation = "08P01";
inline constexpr const char* kConnectionException = "08000";
inline constexpr const char* kTooManyConnections = "53300";
inline constexpr const char* kOutOfMemory = "53200";
inline constexpr const char* kDiskFull = "53100";
inline constexpr const char* kProgramLimitExceeded = "54000";
inline constexpr const char* kQueryCanceled = "57014";
inline constexpr const char* kAdminShutdown = "57P01";
inline constexpr const char* kIoError = "58030";
inline constexpr const char* kInternalError = "XX000";
inline constexpr const char* kDataCorrupted = "XX001";
inline constexpr const char* kInvalidParameterStatus = "22023";
inline constexpr const char* kUndefinedParameter = "42704";
// Cluster-specific (class SB).
inline constexpr const char* kShardUnavailable = "SB002";
// A shard's owner refused a subplan planned against another schema or shard
// map version; the coordinator catches up and retries (R05-24, C-28).
inline constexpr const char* kStaleShardVersion = "SB003";
}  // namespace sqlstate

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(std::string code, std::string message, std::string hint = {}, int position = 0)
      : code_(std::move(code)),
        message_(std::move(message)),
        hint_(std::move(hint)),
        position_(position) {}

  static Status Ok() { return Status(); }
  static Status Error(std::string code, std::string message, std::string hint = {}) {
    return Status(std::move(code), std::move(message), std::move(hint));
  }
  static Status NotSupported(std::string message, std::string hint = {}) {
    return Status(sqlstate::kFeatureNotSupported, std::move(message), std::move(hint));
  }
  static Status Internal(std::string message) {
    return Status(sqlstate::kInternalError, std::move(message));
  }
  static Status IoError(std::string message) {
    return Status(sqlstate::kIoError, std::move(message));
  }
  static Status InvalidArgument(std::string message, std::string hint = {}) {
    return Status(sqlstate::kInvalidParameterValue, std::move(message), std::move(hint));
  }

  bool ok() const { return code_.empty(); }
  // SQLSTATE; "00000" when ok.
  const std::string& code() const {
    static const std::string kOk = sqlstate::kSuccess;
    return code_.empty() ? kOk : code_;
  }
  const std::string& message() const { return message_; }
  const std::string& hint() const { return hint_; }
  std::string detail() const { return detail_; }
  // 1-based character position in the statement text, 0 when unknown.
  int position() const { return position_; }

  Status& WithHint(std::string hint) {
    hint_ = std::move(hint);
    return *this;
  }
  Status& WithDetail(std::string detail) {
    detail_ = std::move(detail);
    return *this;
  }
  Status& WithPosition(int position) {
    position_ = position;
    return *this;
  }
  // Prefixes the message with context ("shard 3: ...").
  Status Annotate(const std::string& context) const {
    Status s = *this;
    s.message_ = context + ": " + message_;
    return s;
  }
  std::string ToString() const {
    if (ok()) return "OK";
    std::string s = code_ + ": " + message_;
    if (!hint_.empty()) s += " (hint: " + hint_ + ")";
    return s;
  }

 private:
  std::string code_;
  std::string message_;
  std::string hint_;
  std::string detail_;
  int position_ = 0;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}         // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {}  // NOLINT: implicit by design

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace sb

#define SB_CONCAT_INNER(a, b) a##b
#define SB_CONCAT(a, b) SB_CONCAT_INNER(a, b)

// Returns the status from the enclosing function if it is an error.
#define SB_RETURN_IF_ERROR(expr)     \
  do {                               \
    ::sb::Status _sb_st = (expr);    \
    if (!_sb_st.ok()) return _sb_st; \
  } while (0)

// Evaluates a Result<T>; on error returns its status, else moves the value into lhs.
#define SB_ASSIGN_OR_RETURN(lhs, expr)                                                    \
  auto SB_CONCAT(_sb_res_, __LINE__) = (expr);                                            \
  if (!SB_CONCAT(_sb_res_, __LINE__).ok()) return SB_CONCAT(_sb_res_, __LINE__).status(); \
  lhs = std::move(SB_CONCAT(_sb_res_, __LINE__)).value()
