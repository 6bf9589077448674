// How our values cross the NodeTransport wire: node ids as 16 raw bytes, and
// errors as a gRPC status whose details carry the SQLSTATE (ErrorDetail in
// proto/node.proto), so a shard's "23505" reaches the coordinator's client
// unchanged.
#pragma once

#include <string>
#include <string_view>

#include <grpcpp/support/status.h>

#include "common/status.h"
#include "common/uuid.h"
#include "common/value.h"
#include "proto/node.pb.h"

namespace sb::rpc {

// connection_failure: the peer could not be reached or did not answer.
inline constexpr const char* kSqlstateConnectionFailure = "08006";

std::string UuidToBytes(const Uuid& id);
Result<Uuid> UuidFromBytes(std::string_view bytes);

// Stored values and rows (common/value.h) on the wire, and back. Decoding
// cannot fail: an unset Cell is NULL.
void ValueToCell(const Value& value, Cell* cell);
Value CellToValue(const Cell& cell);
void RowToWire(const Row& row, WireRow* wire);
Row RowFromWire(const WireRow& wire);

// A handler's error for the wire.
grpc::Status ToGrpcStatus(const Status& status);

// A call's outcome as our Status. Errors a handler produced keep their
// SQLSTATE; everything else (unreachable, handshake refused, deadline,
// refused by the peer's authentication) is 08006. Messages name the peer.
Status FromGrpcStatus(const grpc::Status& status, std::string_view peer);

}  // namespace sb::rpc
