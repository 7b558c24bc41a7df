// TCP plumbing for replication: "host:port" addresses, listening and connecting sockets,
// and exact reads/writes with a deadline (a silent peer never blocks us forever).
#pragma once

#include <ckpt/status.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "util/unique_fd.h"

namespace ckpt {

// Listens on "host:port" (port 0: any free port; see bound_address()).
Result<UniqueFd> listen_tcp(const std::string& address);
// Connects within `timeout_ms`. TCP_NODELAY is set: frames are small and latency-bound.
Result<UniqueFd> connect_tcp(const std::string& address, int timeout_ms);
// Accepts one connection within `timeout_ms` (kNotFound when none arrived); `peer`
// receives "ip:port" of the other side.
Result<UniqueFd> accept_tcp(int listen_fd, int timeout_ms, std::string* peer);
// "127.0.0.1:41234": the address a listening socket is bound to.
std::string bound_address(int fd);

// Reads or writes exactly `len` bytes before the monotonic deadline `deadline_ns`
// (0: no deadline). A closed connection or a deadline is an error naming `peer`; a
// closed connection also sets *closed when given.
Status read_exact(int fd, void* buf, size_t len, uint64_t deadline_ns, const std::string& peer,
                  bool* closed = nullptr);
Status write_exact(int fd, const void* buf, size_t len, uint64_t deadline_ns,
                   const std::string& peer);

}  // namespace ckpt
