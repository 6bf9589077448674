// Clean shutdown on SIGINT/SIGTERM: block them in every thread (call before
// starting any thread) and wait for one in the main thread.
#pragma once

namespace sb::cli {

void BlockShutdownSignals();
// Returns the signal number received.
int WaitForShutdownSignal();

}  // namespace sb::cli
