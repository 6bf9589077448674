// scratchbird: the node daemon and its admin commands in one binary.
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include <cstdio>
#include <iostream>

#include "cli/cert_command.h"
#include "cli/cluster_commands.h"
#include "cli/demo.h"
#include "cli/signals.h"
#include "node/engine.h"
#include "node/node.h"

namespace {

int StartSingleNode(const std::string& data_dir, const std::string& sql_listen,
                    const std::string& http_listen, int shards, const std::string& synchronous,
                    bool group_commit) {
  sb::node::NodeOptions o;
  o.data_dir = data_dir;
  auto st = sb::node::ParseListen("--sql-listen", sql_listen, &o.sql_host, &o.sql_port);
  if (st.ok()) st = sb::node::ParseListen("--http-listen", http_listen, &o.http_host, &o.http_port);
  if (!st.ok()) {
    std::fprintf(stderr, "scratchbird: %s\n", st.message().c_str());
    return 2;
  }
  if (shards > 0) o.shards = static_cast<uint32_t>(shards);
  o.synchronous = synchronous;
  o.group_commit = group_commit;
  sb::cli::BlockShutdownSignals();
  auto node = sb::node::Node::Start(o);
  if (!node.ok()) {
    std::fprintf(stderr, "scratchbird: cannot start: %s\n", node.status().message().c_str());
    if (!node.status().hint().empty())
      std::fprintf(stderr, "hint: %s\n", node.status().hint().c_str());
    return 1;
  }
  spdlog::info("ScratchBird {} single node ready: {} shards in {}", sb::node::kProductVersion,
               (*node)->shard_count(), data_dir);
  spdlog::info("SQL (PostgreSQL protocol) on {}:{}  -  psql \"postgresql://{}:{}/scratchbird\"",
               o.sql_host, (*node)->sql_port(), o.sql_host, (*node)->sql_port());
  spdlog::info("HTTP /metrics and /healthz on {}:{}", o.http_host, (*node)->http_port());
  std::fflush(stdout);
  int sig = sb::cli::WaitForShutdownSignal();
  spdlog::info("received signal {}, shutting down", sig);
  (*node)->Stop();
  spdlog::info("stopped cleanly");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ScratchBird Cluster: a distributed SQL database speaking the PostgreSQL protocol"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("scratchbird ") + sb::node::kProductVersion);

  auto* single =
      app.add_subcommand("start-single-node", "Run a one-node cluster serving a data directory");
  std::string data_dir, sql_listen = "127.0.0.1:4050", http_listen = "127.0.0.1:8947",
                        synchronous = "FULL";
  int shards = 0;
  single->add_option("--data-dir", data_dir, "Data directory (created on first start)")->required();
  single->add_option("--sql-listen", sql_listen, "PostgreSQL protocol address HOST:PORT")
      ->capture_default_str();
  single->add_option("--http-listen", http_listen, "HTTP address for /metrics and /healthz")
      ->capture_default_str();
  single
      ->add_option("--shards", shards,
                   "Shard count for a new data directory (default 16; fixed afterwards)")
      ->check(CLI::Range(1, 256));
  single
      ->add_option("--synchronous", synchronous,
                   "SQLite synchronous mode: FULL (default), NORMAL, EXTRA or OFF")
      ->check(CLI::IsMember({"FULL", "NORMAL", "EXTRA", "OFF"}, CLI::ignore_case))
      ->capture_default_str();
  bool group_commit = true;
  single
      ->add_option("--group-commit", group_commit,
                   "With FULL or EXTRA: make commits durable through one shared commit log "
                   "(one fsync per group of concurrent commits) instead of an fsync per shard "
                   "commit (on|off)")
      ->capture_default_str();

  auto* demo = app.add_subcommand(
      "demo", "Start a throwaway local cluster with sample data and showcase queries");
  sb::cli::DemoOptions demo_opts;
  demo->add_option("--script", demo_opts.script,
                   "Run this SQL file with psql against the demo cluster, then exit");
  demo->add_option("--sql-listen", demo_opts.sql_listen,
                   "PostgreSQL protocol address (port 0: any free port)")
      ->capture_default_str();
  demo->add_option("--http-listen", demo_opts.http_listen, "HTTP address (port 0: any free port)")
      ->capture_default_str();
  demo->add_option("--customers", demo_opts.customers, "Sample customers to generate")
      ->check(CLI::Range(10, 1000000))
      ->capture_default_str();
  demo->add_option("--nodes", demo_opts.nodes,
                   "Nodes: 1 runs in this process; 2..9 start that many `scratchbird start` "
                   "processes forming one cluster (ports from --sql-listen/--http-listen and "
                   "7947 upwards where free)")
      ->check(CLI::Range(1, 9))
      ->capture_default_str();
  demo->add_flag("--keep", demo_opts.keep, "Keep the demo's data directory when it exits");

  sb::cli::CertCommand cert(app);
  sb::cli::ClusterCommands cluster(app);

  CLI11_PARSE(app, argc, argv);
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  if (single->parsed())
    return StartSingleNode(data_dir, sql_listen, http_listen, shards, synchronous, group_commit);
  if (demo->parsed()) return sb::cli::RunDemo(demo_opts);
  if (cert.parsed()) return cert.Run();
  if (cluster.parsed()) return cluster.Run();
  return 2;
}
