#include "rpc/grpc_log.h"

#include <atomic>
#include <string_view>

#include <grpc/support/log.h>
#include <spdlog/spdlog.h>

#include "rpc/peer_auth.h"

namespace sb::rpc {
namespace {

std::atomic<observability::Registry*> g_registry{nullptr};

bool IsPlaintextHandshake(std::string_view message) {
  if (message.find("Handshake failed") == std::string_view::npos) return false;
  // OpenSSL's words for a first record that is not TLS: an HTTP/2 preface
  // ("PRI * HTTP/2.0") or an HTTP/1 request.
  return message.find("wrong version number") != std::string_view::npos ||
         message.find("http request") != std::string_view::npos;
}

void Forward(gpr_log_func_args* args) {
  std::string_view message = args->message ? args->message : "";
  if (args->severity == GPR_LOG_SEVERITY_ERROR && IsPlaintextHandshake(message)) {
    if (observability::Registry* r = g_registry.load())
      r->Increment(kRejectedConnectionsMetric,
                   {{"reason", RejectReasonLabel(RejectReason::kPlaintext)}});
  }
  spdlog::level::level_enum level = spdlog::level::debug;
  if (args->severity == GPR_LOG_SEVERITY_INFO) level = spdlog::level::info;
  if (args->severity == GPR_LOG_SEVERITY_ERROR) level = spdlog::level::warn;
  spdlog::log(level, "grpc {}:{}: {}", args->file ? args->file : "?", args->line, message);
}

}  // namespace

void InstallGrpcLogBridge(observability::Registry* registry) {
  if (registry != nullptr) DeclareRpcMetrics(*registry);
  g_registry.store(registry);
  gpr_set_log_function(&Forward);
}

}  // namespace sb::rpc
