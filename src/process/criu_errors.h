// Turns a failed CRIU run into a message an operator can act on: which of the known
// situations (docs/operators.md, "Troubleshooting") happened, found in CRIU's log, and what
// to do about it.
#pragma once

#include <ckpt/status.h>

#include <string>

#include "process/command.h"

namespace ckpt {

// `log`: CRIU's log of the failed run; `what`: "dump of process 1234" or "restore of
// checkpoint ab12..."; `log_path`: where the operator can read the whole log.
std::string explain_criu_failure(const std::string& log, const std::string& what,
                                 const std::string& log_path);

// The first "Error (...)" line of a CRIU log that names a cause, without the source
// position; empty if none.
std::string last_criu_error(const std::string& log);

// Copies a failed run's log to a private (0600) file in $TMPDIR, as it outlives the work
// directory; returns its path, empty if it could not be written.
std::string keep_criu_log(const std::string& log, const std::string& what);

// The error for a CRIU run that failed or timed out: its log (`log_path`, else its
// output) explained, and kept for the operator.
Status criu_failed(const CommandResult& r, const std::string& log_path, const std::string& what,
                   const std::string& tag);

}  // namespace ckpt
