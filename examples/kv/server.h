// ckpt-kv's client loop with group commit: every request that is waiting is applied,
// then, if any of them wrote, one checkpoint is taken and waited for (with sync
// replication: until the spare has committed it), and only then are the replies sent.
// Requests that arrive meanwhile wait in the socket buffers and form the next batch.
#pragma once

#include <ckpt/checkpointer.h>

#include <string>

#include "table.h"

namespace kv {

// Serves clients on `listen_fd` until a fatal error (returned, with context). `table`
// lives in an arena of `cp`.
ckpt::Status serve(int listen_fd, Table& table, ckpt::Checkpointer& cp);

// A listening TCP socket on "host:port", or -1 with a message in `error`.
int listen_on(const std::string& address, std::string& error);

}  // namespace kv
