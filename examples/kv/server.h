// ckpt-kv's client loop with group commit: every request that is waiting is applied,
// then, if any of them wrote, one checkpoint is taken and waited for (with sync
// replication: until the spare has committed it), and only then are the replies sent.
// Requests that arrive meanwhile wait in the socket buffers and form the next batch.
// If the commit fails, the table is rolled back, every write of the batch is answered
// ERR and every read of the batch is answered again from the rolled-back table.
#pragma once

#include <ckpt/status.h>

#include <string>

#include "durable_table.h"

namespace kv {

// Serves clients on `listen_fd` (non-blocking) until a fatal error (returned, with
// context; kFailedPrecondition: fenced).
ckpt::Status serve(int listen_fd, DurableTable& db);

// A listening non-blocking TCP socket on "host:port", or -1 with a message in `error`.
int listen_on(const std::string& address, std::string& error);

}  // namespace kv
