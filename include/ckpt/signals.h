// Operator signals (docs/runtime.md, "Signals"): SIGUSR1 asks for a checkpoint at the next safe
// point, SIGTERM for a final checkpoint and a clean exit. The handlers only store to lock-free
// atomics; the application (or ckpt::Loop) polls the flags at its safe points.
//
//   ckpt::install_signal_handlers();
//   while (work()) {
//     if (ckpt::checkpoint_requested()) cp->checkpoint();
//     if (ckpt::exit_requested()) { cp->checkpoint(); cp->wait(); return 0; }
//   }
//
// Process-wide state: one set of handlers per process. The functions are thread-safe.
#pragma once

#include <ckpt/status.h>

namespace ckpt {

// Installs the SIGUSR1 and SIGTERM handlers (SA_RESTART, so system calls in progress
// are restarted rather than failing with EINTR), remembering the previous dispositions.
// Installing again while installed is a no-op. Errors name the failing sigaction.
Status install_signal_handlers();
// Restores the dispositions saved by install_signal_handlers(). Pending requests stay
// set until consumed or cleared. No-op if not installed.
void uninstall_signal_handlers();
bool signal_handlers_installed();

// True once per SIGUSR1 (or burst of them) received since the last call: consumes it.
bool checkpoint_requested();
// True once SIGTERM was received; stays true (the process is expected to exit).
bool exit_requested();
// Sets the same flags as the signals, for code paths that want the same behaviour
// (tests, an in-process control channel). Async-signal-safe.
void request_checkpoint();
void request_exit();
// Clears both flags (tests; a process that decided to carry on after all).
void clear_signal_requests();

}  // namespace ckpt
