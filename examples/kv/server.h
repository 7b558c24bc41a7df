// ckpt-kv's client loop with pipelined group commit. Every request that is waiting is
// applied (a round); if any of them wrote, one checkpoint is taken, and the round's
// replies are held until that checkpoint is durable (with sync replication: committed
// on the spare). While one round's checkpoint travels to the spare, the next round is
// applied and checkpointed (its local commit overlapping the trip), then the first
// round's replies are released (Checkpointer::wait_for). A failed commit rolls the
// table back to the newest committed checkpoint and answers the round with ERR.
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
