// `scratchbird cert create-ca | create-node | create-client | list`: the
// cluster CA and the certificates it issues, on the admin's machine.
#pragma once

#include <memory>

namespace CLI {
class App;
}  // namespace CLI

namespace sb::cli {

class CertCommand {
 public:
  // Registers the `cert` subcommand and its own subcommands on app.
  explicit CertCommand(CLI::App& app);
  ~CertCommand();
  CertCommand(const CertCommand&) = delete;
  CertCommand& operator=(const CertCommand&) = delete;

  // True when the command line chose `cert`.
  bool parsed() const;
  // Runs the chosen subcommand. Returns the exit code: 0 on success, 1 with a
  // one-line "scratchbird cert: ..." message on stderr on error.
  int Run() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace sb::cli
