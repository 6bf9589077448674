// sb_fuzz_sql: the differential test's two oracles on random seeds, until
// interrupted (Ctrl-C) or until a time or query bound. `make fuzz-sql`.
//
// It starts its own 16-shard node, loads the differential test's dataset into
// it and into an in-memory SQLite oracle, then runs generated cases seed after
// seed: differential queries (cluster vs SQLite, single-table, joins,
// subqueries) and ternary-logic-partitioning cases (cluster only). Joins and
// subqueries the cluster refuses with 0A000 are counted per category. On a
// mismatch it writes a shrunk reproduction to the --out directory and exits
// with status 1 (or goes on with --keep-going).
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <random>
#include <string>
#include <type_traits>

#include "dataset.h"
#include "diff_harness.h"
#include "query_gen.h"
#include "tlp_runner.h"

namespace {

volatile std::sig_atomic_t g_stop = 0;
void OnSignal(int) {
  g_stop = 1;
}

constexpr uint64_t kDefaultDataSeed = 20261126;  // the differential test's

struct Options {
  double seconds = 0;  // 0: no bound
  int64_t queries = 0;
  std::optional<uint64_t> seed;
  std::optional<int64_t> only_case;
  std::string out = "/tmp";
  bool keep_going = false;
  double progress = 5;
  int per_seed = 200;
  int tlp_percent = 40;
  int join_percent = 20;
  int subquery_percent = 10;
  int derived_percent = 5;
  uint64_t data_seed = kDefaultDataSeed;
  int shards = 16;
  bool verbose = false;
  std::string postgres;  // conninfo of a PostgreSQL server to run instead of a node
};

void Usage() {
  std::cerr
      << "usage: sb_fuzz_sql [options]\n"
         "  --seconds N          stop after N seconds (default: run until Ctrl-C)\n"
         "  --queries N          stop after N cases\n"
         "  --seed S             first seed (default: random); seeds S, S+1, ... follow\n"
         "  --case I             run only case I of seed S (a reproduction), then exit\n"
         "  --out DIR            where reproductions are written (default /tmp)\n"
         "  --keep-going         do not stop at the first mismatch\n"
         "  --progress SECS      progress line interval (default 5)\n"
         "  --per-seed N         cases per seed (default 200)\n"
         "  --tlp-percent P      share of TLP cases (default 40)\n"
         "  --join-percent P     share of joins among differential queries (default 20)\n"
         "  --subquery-percent P share of subqueries among differential queries (default 10)\n"
         "  --derived-percent P  share of subqueries in FROM (default 5)\n"
         "  --data-seed N        dataset seed (default the differential test's)\n"
         "  --shards N           shards of the node (default 16)\n"
         "  --verbose            print every query\n"
         "  --postgres CONNINFO  run against this PostgreSQL database instead of a node\n"
         "                       (checks the generator: every query must match SQLite;\n"
         "                       the dataset's tables are dropped and recreated there)\n";
}

bool Parse(int argc, char** argv, Options* o) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](const char* name) -> const char* {
      if (i + 1 >= argc) {
        std::cerr << name << " needs a value\n";
        return nullptr;
      }
      return argv[++i];
    };
    auto num = [&](const char* name, auto* out) {
      const char* v = value(name);
      if (v == nullptr) return false;
      char* end = nullptr;
      double d = std::strtod(v, &end);
      if (end == v || *end != '\0' || d < 0) {
        std::cerr << name << ": not a number: " << v << "\n";
        return false;
      }
      *out = static_cast<std::remove_pointer_t<decltype(out)>>(d);
      return true;
    };
    bool ok = true;
    if (a == "--seconds") {
      ok = num("--seconds", &o->seconds);
    } else if (a == "--queries") {
      ok = num("--queries", &o->queries);
    } else if (a == "--seed") {
      const char* v = value("--seed");
      ok = v != nullptr;
      if (ok) o->seed = std::strtoull(v, nullptr, 10);
    } else if (a == "--case") {
      int64_t c = 0;
      ok = num("--case", &c);
      o->only_case = c;
    } else if (a == "--out") {
      const char* v = value("--out");
      ok = v != nullptr;
      if (ok) o->out = v;
    } else if (a == "--keep-going") {
      o->keep_going = true;
    } else if (a == "--progress") {
      ok = num("--progress", &o->progress);
    } else if (a == "--per-seed") {
      ok = num("--per-seed", &o->per_seed) && o->per_seed > 0;
    } else if (a == "--tlp-percent") {
      ok = num("--tlp-percent", &o->tlp_percent);
    } else if (a == "--join-percent") {
      ok = num("--join-percent", &o->join_percent);
    } else if (a == "--subquery-percent") {
      ok = num("--subquery-percent", &o->subquery_percent);
    } else if (a == "--derived-percent") {
      ok = num("--derived-percent", &o->derived_percent);
    } else if (a == "--data-seed") {
      ok = num("--data-seed", &o->data_seed);
    } else if (a == "--shards") {
      ok = num("--shards", &o->shards) && o->shards > 0;
    } else if (a == "--postgres") {
      const char* v = value("--postgres");
      ok = v != nullptr;
      if (ok) o->postgres = v;
    } else if (a == "--verbose") {
      o->verbose = true;
    } else if (a == "--help" || a == "-h") {
      Usage();
      std::exit(0);
    } else {
      std::cerr << "unknown option " << a << "\n";
      ok = false;
    }
    if (!ok) return false;
  }
  if (o->only_case && !o->seed) {
    std::cerr << "--case needs --seed\n";
    return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  using Clock = std::chrono::steady_clock;
  Options opt;
  if (!Parse(argc, argv, &opt)) {
    Usage();
    return 2;
  }
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);

  std::error_code ec;
  std::filesystem::create_directories(opt.out, ec);

  const auto t_start = Clock::now();
  sbtest::ClusterProcess cluster;
  std::string err, conninfo = opt.postgres;
  if (conninfo.empty()) {
    err = cluster.Start(opt.shards);
    if (!err.empty()) {
      std::cerr << "sb_fuzz_sql: cannot start the node: " << err << "\n";
      return 2;
    }
    conninfo = cluster.conninfo();
  }
  sbtest::Dataset ds = sbtest::MakeDataset(opt.data_seed);
  sbtest::Oracle oracle;
  {
    sbtest::PgClient loader(conninfo);
    if (!loader.connected()) {
      std::cerr << "sb_fuzz_sql: cannot connect: " << loader.connect_error() << "\n";
      return 2;
    }
    sbtest::Dataset load = ds;
    if (!opt.postgres.empty()) {
      // Plain PostgreSQL DDL: no shard keys, no REPLICATED.
      for (auto& t : load.tables) {
        size_t at = t.pg_ddl.find(" SHARD BY HASH (");
        if (at != std::string::npos) t.pg_ddl.erase(at, t.pg_ddl.find(')', at) + 1 - at);
        at = t.pg_ddl.find(" REPLICATED");
        if (at != std::string::npos) t.pg_ddl.erase(at, std::strlen(" REPLICATED"));
        loader.Query("DROP TABLE IF EXISTS " + t.name);
      }
    }
    err = sbtest::LoadDataset(load, &loader, &oracle);
    if (!err.empty()) {
      std::cerr << "sb_fuzz_sql: loading the dataset: " << err << "\n"
                << (opt.postgres.empty() ? cluster.LogTail() : "");
      return 2;
    }
  }
  const auto t_loaded = Clock::now();
  sbtest::Checker checker(conninfo, &oracle);

  uint64_t seed =
      opt.seed ? *opt.seed : std::random_device{}() * 4294967296ULL + std::random_device{}();
  std::cout << "sb_fuzz_sql: node with " << opt.shards << " shards, dataset loaded in "
            << std::chrono::duration<double>(t_loaded - t_start).count() << " s; first seed "
            << seed << ", " << opt.per_seed << " cases per seed, " << opt.tlp_percent << "% TLP";
  if (opt.seconds > 0) std::cout << ", " << opt.seconds << " s";
  if (opt.queries > 0) std::cout << ", " << opt.queries << " cases";
  std::cout << "; reproductions go to " << opt.out << std::endl;

  int64_t cases = 0, mismatches = 0;
  auto last_progress = Clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(Clock::now() - t_loaded).count(); };
  auto progress = [&](const char* prefix) {
    double s = elapsed();
    char buf[256];
    std::snprintf(buf, sizeof buf,
                  "%s[%6.0fs] %lld cases (%.1f/s, %.1f statements/s), %lld mismatches", prefix, s,
                  static_cast<long long>(cases), s > 0 ? static_cast<double>(cases) / s : 0.0,
                  s > 0 ? static_cast<double>(checker.statements()) / s : 0.0,
                  static_cast<long long>(mismatches));
    std::cout << buf << "; unsupported: " << checker.UnsupportedLine() << std::endl;
  };
  auto bound_reached = [&] {
    return g_stop || (opt.seconds > 0 && elapsed() >= opt.seconds) ||
           (opt.queries > 0 && cases >= opt.queries);
  };

  bool stop = false;
  for (; !stop; ++seed) {
    sbtest::QueryGen gen(seed, &ds);
    gen.set_mix(opt.join_percent, opt.subquery_percent, opt.derived_percent);
    std::mt19937_64 pick(seed ^ 0x9e3779b97f4a7c15ULL);
    for (int64_t i = 0; i < opt.per_seed; ++i) {
      if (bound_reached()) {
        stop = true;
        break;
      }
      const bool tlp = static_cast<int>(pick() % 100) < opt.tlp_percent;
      std::optional<sbtest::TlpCase> tc;
      std::optional<sbtest::QuerySpec> qs;
      if (tlp) {
        tc = gen.NextTlp();
      } else {
        qs = gen.NextSpec();
      }
      if (opt.only_case && i != *opt.only_case) continue;
      if (opt.verbose) {
        std::cout << "seed " << seed << " case " << i << ": "
                  << (tlp ? tc->label + " p = " + tc->p.pg : qs->Render().pg) << std::endl;
      }
      sbtest::Outcome o = tlp ? checker.Tlp(*tc) : checker.Differential(*qs);
      if (g_stop) break;  // the node got the Ctrl-C too: this answer proves nothing
      ++cases;
      if (o.mismatch()) {
        ++mismatches;
        std::string path =
            opt.out + "/sb-fuzz-seed" + std::to_string(seed) + "-case" + std::to_string(i) + ".txt";
        std::ofstream f(path);
        f << "sb_fuzz_sql reproduction: seed " << seed << ", case " << i << " ("
          << (tlp ? "TLP" : "differential") << "), data seed " << opt.data_seed << ", "
          << opt.shards << " shards\n";
        f << "replay: sb_fuzz_sql --seed " << seed << " --case " << i << " --tlp-percent "
          << opt.tlp_percent << " --join-percent " << opt.join_percent << " --subquery-percent "
          << opt.subquery_percent << " --derived-percent " << opt.derived_percent << " --per-seed "
          << opt.per_seed << "\n\n";
        f << o.report;
        f.close();
        std::cout << "\nseed " << seed << " case " << i << ":\n" << o.report;
        std::cout << "reproduction written to " << path << "\n" << std::endl;
        if (!opt.keep_going) {
          stop = true;
          break;
        }
      }
      if (opt.progress > 0 &&
          std::chrono::duration<double>(Clock::now() - last_progress).count() >= opt.progress) {
        last_progress = Clock::now();
        progress("");
      }
    }
    if (opt.only_case) break;
  }
  progress("done ");
  std::cout << sbtest::SummaryOf(checker.counts());
  if (mismatches > 0) {
    std::cout << mismatches << " mismatch(es); reproductions in " << opt.out << std::endl;
    return 1;
  }
  return 0;
}
