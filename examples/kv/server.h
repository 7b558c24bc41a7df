// ckpt-kv's client loop with group commit: every request that is waiting is applied,
// then, if any of them wrote, one checkpoint is taken and waited for (with sync
// replication: until the spare has committed it), and only then are the replies sent.
// Requests that arrive meanwhile wait in the socket buffers and form the next batch.
// If the commit fails, the table is rolled back, every write of the batch is answered
// ERR and every read of the batch is answered again from the rolled-back table.
//
// Every socket is non-blocking: a client that stops reading its replies is disconnected
// once Connection::kMaxUnsent bytes of them are unsent, and clients beyond max_clients()
// are answered "ERR too many clients" and closed (docs/replication.md, "ckpt-kv's
// protocol").
#pragma once

#include <ckpt/status.h>

#include <functional>
#include <string>

#include "durable_table.h"

namespace kv {

using Log = std::function<void(const std::string&)>;

// Serves clients on `listen_fd` (non-blocking) until a fatal error (returned, with
// context; kFailedPrecondition: fenced). `log` gets one line per client dropped for
// misbehaving, naming it and why.
ckpt::Status serve(int listen_fd, DurableTable& db, const Log& log);

// How many clients are served at once: the descriptor limit (RLIMIT_NOFILE) less a
// reserve for the store's files, so a crowd of clients never makes a commit fail.
size_t max_clients();

// Raises the soft descriptor limit to the hard one (ckpt-kv does at start).
void raise_descriptor_limit();

// A listening non-blocking TCP socket on "host:port", or -1 with a message in `error`.
int listen_on(const std::string& address, std::string& error);

}  // namespace kv
