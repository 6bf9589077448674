#include "rpc/wire.h"

#include <algorithm>

#include "proto/node.pb.h"

namespace sb::rpc {

std::string UuidToBytes(const Uuid& id) {
  return std::string(reinterpret_cast<const char*>(id.bytes().data()), id.bytes().size());
}

Result<Uuid> UuidFromBytes(std::string_view bytes) {
  Uuid::Bytes b;
  if (bytes.size() != b.size())
    return Status::InvalidArgument("node id must be 16 bytes, got " + std::to_string(bytes.size()));
  std::copy(bytes.begin(), bytes.end(), b.begin());
  return Uuid(b);
}

void ValueToCell(const Value& value, Cell* cell) {
  switch (value.index()) {
    case 0:
      cell->set_null(true);
      break;
    case 1:
      cell->set_integer(std::get<int64_t>(value));
      break;
    case 2:
      cell->set_real(std::get<double>(value));
      break;
    case 3:
      cell->set_text(std::get<std::string>(value));
      break;
    default:
      cell->set_blob(std::get<Blob>(value).bytes);
      break;
  }
}

Value CellToValue(const Cell& cell) {
  switch (cell.value_case()) {
    case Cell::kInteger:
      return Value(static_cast<int64_t>(cell.integer()));
    case Cell::kReal:
      return Value(cell.real());
    case Cell::kText:
      return Value(cell.text());
    case Cell::kBlob:
      return Value(Blob{cell.blob()});
    default:
      return Value();
  }
}

void RowToWire(const Row& row, WireRow* wire) {
  wire->mutable_cells()->Reserve(static_cast<int>(row.size()));
  for (const Value& v : row) ValueToCell(v, wire->add_cells());
}

Row RowFromWire(const WireRow& wire) {
  Row row;
  row.reserve(static_cast<size_t>(wire.cells_size()));
  for (const Cell& c : wire.cells()) row.push_back(CellToValue(c));
  return row;
}

grpc::Status ToGrpcStatus(const Status& status) {
  if (status.ok()) return grpc::Status::OK;
  ErrorDetail detail;
  detail.set_sqlstate(status.code());
  detail.set_message(status.message());
  detail.set_hint(status.hint());
  // The gRPC code serves gRPC-level tooling (logs, channelz); our callers
  // read the detail.
  grpc::StatusCode code = grpc::StatusCode::FAILED_PRECONDITION;
  std::string_view s = status.code();
  if (s == sqlstate::kQueryCanceled) code = grpc::StatusCode::CANCELLED;
  if (s.starts_with("53")) code = grpc::StatusCode::RESOURCE_EXHAUSTED;
  if (s.starts_with("XX")) code = grpc::StatusCode::INTERNAL;
  if (s.starts_with("28")) code = grpc::StatusCode::UNAUTHENTICATED;
  return grpc::Status(code, status.message(), detail.SerializeAsString());
}

Status FromGrpcStatus(const grpc::Status& status, std::string_view peer) {
  if (status.ok()) return Status::Ok();
  std::string who(peer);
  ErrorDetail detail;
  if (!status.error_details().empty() && detail.ParseFromString(status.error_details()) &&
      !detail.sqlstate().empty())
    return Status::Error(detail.sqlstate(), who + ": " + detail.message(), detail.hint());
  std::string what;
  std::string hint;
  switch (status.error_code()) {
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      what = "did not answer in time";
      break;
    case grpc::StatusCode::UNAUTHENTICATED:
    case grpc::StatusCode::PERMISSION_DENIED:
      what = "refused this node";
      hint = "check that both nodes hold certificates of the same cluster CA and are members";
      break;
    case grpc::StatusCode::UNAVAILABLE:
      what = "unreachable";
      hint =
          "check that the node runs and listens there; a TLS handshake refused by either side "
          "shows up here too";
      break;
    case grpc::StatusCode::UNIMPLEMENTED:
      // A peer of another version: callers may fall back to an older call.
      return Status::Error(sqlstate::kFeatureNotSupported,
                           who + " does not serve this call (" + status.error_message() + ")",
                           "upgrade every node to the same version");
    default:
      what = "call failed";
      break;
  }
  return Status::Error(kSqlstateConnectionFailure,
                       "connection to " + who + " failed: " + what + " (" +
                           std::to_string(static_cast<int>(status.error_code())) + ": " +
                           status.error_message() + ")",
                       hint);
}

}  // namespace sb::rpc
