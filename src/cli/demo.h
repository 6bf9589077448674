// `scratchbird demo`: a throwaway single-node cluster with sample data,
// showcase queries and their plans, then psql (or a script) against it.
#pragma once

#include <string>

namespace sb::cli {

struct DemoOptions {
  std::string script;  // run this SQL file with psql and exit
  std::string sql_listen = "127.0.0.1:4050";
  std::string http_listen = "127.0.0.1:8947";
  int customers = 2000;
  bool keep = false;  // keep the data directory afterwards
};

// Returns the process exit code.
int RunDemo(const DemoOptions& options);

}  // namespace sb::cli
