// sb_sim_bench: how fast the deterministic simulator runs, i.e. how many
// seeds per minute CI (one core) can afford, for each seed profile the tests
// use.
//
//   sb_sim_bench [--seeds N]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "sim.h"

int main(int argc, char** argv) {
  uint64_t seeds = 100;
  for (int i = 1; i + 1 < argc; i += 2)
    if (std::string(argv[i]) == "--seeds") seeds = std::strtoull(argv[i + 1], nullptr, 10);
  struct Profile {
    const char* name;
    sb::sim::SimOptions opts;
  };
  sb::sim::SimOptions def;
  sb::sim::SimOptions chaos;
  chaos.chaos = true;
  chaos.fault_seconds = 10;
  chaos.settle_seconds = 8;
  sb::sim::SimOptions quiet;
  quiet.crashes = quiet.partitions = quiet.membership = quiet.transfers = false;
  quiet.drop = 0;
  Profile profiles[] = {{"default (20 s faults + 12 s settle)", def},
                        {"chaos (10 s storms + 8 s settle)", chaos},
                        {"no faults (32 s)", quiet}};
  for (auto& p : profiles) {
    uint64_t events = 0, sim_us = 0, fails = 0;
    auto t0 = std::chrono::steady_clock::now();
    for (uint64_t s = 1; s <= seeds; ++s) {
      sb::sim::SimOptions o = p.opts;
      o.seed = s;
      auto r = sb::sim::RunSimulation(o);
      events += r.events;
      sim_us += static_cast<uint64_t>((o.fault_seconds + o.settle_seconds) * 1e6);
      fails += !r.ok;
    }
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf(
        "%-38s %6.0f seeds/min  %9.0f sim steps/s  %6.0fx real time  (%llu seeds, %llu "
        "failed)\n",
        p.name, seeds / secs * 60, events / secs, sim_us / 1e6 / secs,
        static_cast<unsigned long long>(seeds), static_cast<unsigned long long>(fails));
  }
  return 0;
}
