#include "node/node.h"

#include <spdlog/spdlog.h>

#include <fcntl.h>
#include <httplib.h>
#include <sys/file.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include <fmt/format.h>

#include "cluster/cluster_node.h"
#include "meta/system_views.h"
#include "node/cluster_binding.h"
#include "node/engine.h"
#include "node/sql_session.h"
#include "pgwire/server.h"
#include "rpc/grpc_log.h"
#include "security/certs_dir.h"
#include "storage/shard_set.h"

namespace sb::node {
namespace fs = std::filesystem;

namespace {

constexpr const char* kMetaFile = "scratchbird.json";
constexpr int kFormatVersion = 1;

// Writes a file durably: temp file, fsync, rename, fsync of the directory.
Status WriteFileDurably(const fs::path& path, const std::string& content) {
  fs::path tmp = path;
  tmp += ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0)
    return Status::IoError(fmt::format("cannot create {}: {}", tmp.string(), strerror(errno)));
  ssize_t n = ::write(fd, content.data(), content.size());
  bool ok = n == static_cast<ssize_t>(content.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    return Status::IoError(fmt::format("cannot write {}: {}", path.string(), strerror(errno)));
  }
  int dfd = ::open(path.parent_path().c_str(), O_RDONLY | O_DIRECTORY);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return Status::Ok();
}

constexpr const char* kLockFile = "LOCK";

// True if `dir` holds nothing but (possibly) our lock file.
bool IsEmptyDataDir(const fs::path& dir) {
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().filename() != kLockFile) return false;
  }
  return !ec;
}

Status NotOurDirectory(const std::string& data_dir) {
  return Status::InvalidArgument(
      fmt::format("data directory {} is not empty and has no {}", data_dir, kMetaFile),
      "Point --data-dir at an empty or new directory, or at an existing ScratchBird data "
      "directory.");
}

// Creates the data directory on first start, or checks it on reopen; returns
// the shard count recorded in it. Runs under the directory's lock.
Result<uint32_t> PrepareDataDir(const NodeOptions& o) {
  std::error_code ec;
  fs::path dir(o.data_dir);
  fs::path meta = dir / kMetaFile;
  if (!fs::exists(meta, ec)) {
    if (fs::exists(dir, ec) && !IsEmptyDataDir(dir)) {
      return NotOurDirectory(o.data_dir);
    }
    fs::create_directories(dir, ec);
    if (ec)
      return Status::IoError(
          fmt::format("cannot create data directory {}: {}", o.data_dir, ec.message()));
    uint32_t shards = o.shards.value_or(16);
    if (shards < 1 || shards > 256) {
      return Status::InvalidArgument(
          fmt::format("--shards must be between 1 and 256 (the vnode count), not {}", shards));
    }
    nlohmann::json j = {
        {"format_version", kFormatVersion}, {"shard_count", shards}, {"vnode_count", 256}};
    SB_RETURN_IF_ERROR(WriteFileDurably(meta, j.dump(2) + "\n"));
    return shards;
  }
  std::ifstream in(meta);
  nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
  if (j.is_discarded() || !j.contains("shard_count") || !j.contains("format_version")) {
    return Status(sqlstate::kDataCorrupted,
                  fmt::format("{} is not a valid ScratchBird metadata file", meta.string()));
  }
  if (j["format_version"].get<int>() != kFormatVersion) {
    return Status(
        sqlstate::kDataCorrupted,
        fmt::format("data directory format {} is not supported by this version (expects {})",
                    j["format_version"].get<int>(), kFormatVersion));
  }
  uint32_t recorded = j["shard_count"].get<uint32_t>();
  if (o.shards && *o.shards != recorded) {
    return Status::InvalidArgument(
        fmt::format("data directory {} was created with {} shards; --shards {} does not match",
                    o.data_dir, recorded, *o.shards),
        "The shard count is fixed when the data directory is created; omit --shards to reopen it.");
  }
  return recorded;
}

// The sys.* views of a single-node server: this node, all shards local.
class SingleNodeSystemViews : public exec::SystemViewSource {
 public:
  explicit SingleNodeSystemViews(std::function<meta::SingleNodeFacts()> facts)
      : facts_(std::move(facts)) {}
  Result<std::vector<Row>> SystemViewRows(const meta::TableDef& view) override {
    return meta::SingleNodeSystemViewRows(view.name, facts_());
  }

 private:
  std::function<meta::SingleNodeFacts()> facts_;
};

}  // namespace

Status ParseListen(const std::string& flag, const std::string& value, std::string* host,
                   uint16_t* port) {
  size_t colon = value.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return Status::InvalidArgument(fmt::format("{} must be HOST:PORT, got \"{}\"", flag, value));
  }
  std::string p = value.substr(colon + 1);
  char* end = nullptr;
  long n = std::strtol(p.c_str(), &end, 10);
  if (p.empty() || *end != '\0' || n < 0 || n > 65535) {
    return Status::InvalidArgument(fmt::format("{}: \"{}\" is not a valid port", flag, p));
  }
  *host = value.substr(0, colon);
  *port = static_cast<uint16_t>(n);
  return Status::Ok();
}

struct Node::Impl {
  NodeOptions options;
  int lock_fd = -1;
  uint32_t shards = 0;
  observability::Registry metrics;
  std::unique_ptr<exec::SystemViewSource> system_views;  // single-node mode
  std::unique_ptr<Engine> engine;                        // single-node mode
  // Cluster mode: the binding owns the engine once the cluster is initialised.
  std::unique_ptr<ClusterBinding> binding;
  std::unique_ptr<cluster::ClusterNode> cluster_node;
  std::unique_ptr<SqlSessionFactory> factory;
  Engine* CurrentEngine() const { return binding ? binding->engine() : engine.get(); }
  std::unique_ptr<pgwire::Server> sql;
  std::unique_ptr<httplib::Server> http;
  std::thread http_thread;
  int http_port = 0;
  bool stopped = false;
};

Node::Node() : impl_(std::make_unique<Impl>()) {}

Node::~Node() {
  Stop();
}

Result<std::unique_ptr<Node>> Node::Start(const NodeOptions& options) {
  std::unique_ptr<Node> node(new Node());
  Impl& m = *node->impl_;
  m.options = options;
  // One process per data directory. Take the lock before creating or reading
  // anything in it, so two processes starting at once on a new directory
  // cannot both initialise it (with different shard counts). A non-empty
  // directory that is not ours is refused before we put a lock file in it.
  fs::path dir(options.data_dir);
  std::error_code ec;
  if (options.cluster) {
    if (fs::exists(dir / kMetaFile, ec))
      return Status::InvalidArgument(
          fmt::format("data directory {} belongs to a single-node server", options.data_dir),
          "A cluster node needs its own data directory; start-single-node serves this one.");
  } else if (fs::exists(dir, ec) && !fs::exists(dir / kMetaFile, ec) && !IsEmptyDataDir(dir)) {
    return NotOurDirectory(options.data_dir);
  }
  fs::create_directories(dir, ec);
  if (ec) {
    return Status::IoError(
        fmt::format("cannot create data directory {}: {}", options.data_dir, ec.message()));
  }
  fs::path lock = dir / kLockFile;
  m.lock_fd = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (m.lock_fd < 0 || ::flock(m.lock_fd, LOCK_EX | LOCK_NB) != 0) {
    return Status::IoError(fmt::format("data directory {} is in use by another scratchbird process",
                                       options.data_dir));
  }
  storage::ShardOptions so;
  so.synchronous = options.synchronous;
  so.group_commit = options.group_commit;
  so.on_open = [](sqlite3* db) { exec::RegisterSqlFunctions(db); };
  const std::string shards_dir = (fs::path(options.data_dir) / "shards").string();
  if (options.cluster) {
    SB_ASSIGN_OR_RETURN(security::NodeCredentials creds,
                        security::LoadNodeCredentials(options.cluster->certs_dir));
    m.binding =
        std::make_unique<ClusterBinding>(creds.identity.node_id, shards_dir, so, &m.metrics);
  } else {
    SB_ASSIGN_OR_RETURN(m.shards, PrepareDataDir(options));
    SB_ASSIGN_OR_RETURN(auto set,
                        storage::ShardSet::Open(shards_dir, static_cast<int>(m.shards), so));
    if (set->recovered_commits() > 0) {
      spdlog::info("re-applied {} commits from the commit log that the shards had not synced",
                   set->recovered_commits());
    }
    m.engine = std::make_unique<Engine>(std::move(set), m.shards, &m.metrics);
    SB_RETURN_IF_ERROR(m.engine->Open());
  }
  Impl* impl = &m;
  if (m.engine) {
    m.system_views = std::make_unique<SingleNodeSystemViews>([impl] {
      meta::SingleNodeFacts f;
      f.shard_count = impl->shards;
      if (impl->sql)
        f.sql_address = impl->options.sql_host + ":" + std::to_string(impl->sql->port());
      if (impl->http_port > 0)
        f.http_address = impl->options.http_host + ":" + std::to_string(impl->http_port);
      return f;
    });
    m.engine->executor().SetSystemViews(m.system_views.get());
  }
  m.factory = std::make_unique<SqlSessionFactory>([impl] { return impl->CurrentEngine(); });

  pgwire::ServerOptions po;
  po.host = options.sql_host;
  po.port = options.sql_port;
  po.max_connections = options.max_connections;
  m.sql = std::make_unique<pgwire::Server>(po, m.factory.get());
  SB_RETURN_IF_ERROR(m.sql->Start());

  m.http = std::make_unique<httplib::Server>();
  m.http->Get("/metrics", [impl](const httplib::Request&, httplib::Response& res) {
    Engine* engine = impl->CurrentEngine();
    res.set_content(engine ? engine->RenderMetrics() : impl->metrics.RenderPrometheus(),
                    "text/plain; version=0.0.4");
  });
  m.http->Get("/healthz", [impl](const httplib::Request&, httplib::Response& res) {
    Engine* engine = impl->CurrentEngine();
    if (engine == nullptr) {
      res.status = 503;
      res.set_content("{\"status\":\"starting\",\"error\":\"not in an initialised cluster\"}\n",
                      "application/json");
      return;
    }
    // Healthy when every shard answers a read of its catalog.
    auto st = engine->executor().LoadCatalog();
    if (!st.ok()) {
      res.status = 503;
      res.set_content("{\"status\":\"unhealthy\",\"error\":" +
                          nlohmann::json(st.status().message()).dump() + "}\n",
                      "application/json");
      return;
    }
    res.set_content(fmt::format("{{\"status\":\"ok\",\"shards\":{}}}\n", engine->shard_count()),
                    "application/json");
  });
  if (options.http_port == 0) {
    m.http_port = m.http->bind_to_any_port(options.http_host);
  } else {
    m.http_port =
        m.http->bind_to_port(options.http_host, options.http_port) ? options.http_port : -1;
  }
  if (m.http_port <= 0) {
    m.sql->Stop();
    return Status::IoError(
        fmt::format("cannot listen for HTTP on {}:{}", options.http_host, options.http_port));
  }
  httplib::Server* http = m.http.get();
  m.http_thread = std::thread([http] { http->listen_after_bind(); });
  // httplib's stop() does nothing until the accept loop has started, so a
  // stop right after start (SIGTERM during startup) would leave Stop() joining
  // a thread that never ends. Wait (bounded) until the loop runs.
  for (int i = 0; i < 5000 && !http->is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (options.cluster) {
    // gRPC's own log lines go to spdlog, and its TLS handshake failures on
    // plaintext connections are counted (the only place gRPC reports them).
    rpc::InstallGrpcLogBridge(&m.metrics);
    cluster::ClusterNodeOptions co;
    co.data_dir = options.data_dir;
    co.certs_dir = options.cluster->certs_dir;
    co.rpc_listen = options.cluster->rpc_listen;
    co.rpc_advertise = options.cluster->rpc_advertise;
    // The ports really bound (the listen flags may ask for port 0).
    co.sql_address = options.sql_host + ":" + std::to_string(m.sql->port());
    co.http_address = options.http_host + ":" + std::to_string(m.http_port);
    co.registry = &m.metrics;
    co.join = options.cluster->join;
    ClusterBinding* binding = m.binding.get();
    co.applied_schema_version = [binding] {
      Engine* e = binding->engine();
      return e != nullptr ? e->catalog()->schema_version() : 0;
    };
    co.on_applied = [binding](const meta::ApplyResult* r, std::string_view command,
                              const meta::ClusterState& state) {
      binding->OnApplied(r, command, state);
    };
    auto cn = cluster::ClusterNode::Start(std::move(co));
    if (!cn.ok()) {
      node->Stop();
      return cn.status();
    }
    m.cluster_node = std::move(*cn);
    m.binding->Attach(m.cluster_node.get());
  }
  return node;
}

cluster::ClusterNode* Node::cluster_node() const {
  return impl_->cluster_node.get();
}

observability::Registry& Node::metrics() {
  return impl_->metrics;
}

uint16_t Node::sql_port() const {
  return impl_->sql->port();
}
uint16_t Node::http_port() const {
  return static_cast<uint16_t>(impl_->http_port);
}
uint32_t Node::shard_count() const {
  return impl_->shards;
}
const std::string& Node::data_dir() const {
  return impl_->options.data_dir;
}

void Node::Stop() {
  Impl& m = *impl_;
  if (m.stopped) return;
  m.stopped = true;
  if (m.sql) m.sql->Stop();
  if (m.http) {
    m.http->stop();
    if (m.http_thread.joinable()) m.http_thread.join();
  }
  // Other nodes' subplans stop reaching the shards before the cluster seat
  // and then the shards close.
  if (m.binding) m.binding->Detach();
  if (m.cluster_node) m.cluster_node->Stop();
  m.factory.reset();
  if (m.cluster_node) rpc::InstallGrpcLogBridge(nullptr);  // the registry goes with this node
  m.cluster_node.reset();
  m.binding.reset();
  m.engine.reset();
  if (m.lock_fd >= 0) {
    ::flock(m.lock_fd, LOCK_UN);
    ::close(m.lock_fd);
    m.lock_fd = -1;
  }
}

}  // namespace sb::node
