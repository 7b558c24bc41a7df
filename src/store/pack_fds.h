// The open descriptors of a store's pack files, at most `limit` at a time. A store that
// checkpoints often (a server committing every batch of writes) accumulates one pack per
// checkpoint; keeping all of them open would run the process out of descriptors within
// minutes. Packs are opened on first read and closed in clock (second-chance) order
// beyond the limit; a descriptor handed out stays valid until its last holder drops it,
// so an eviction never pulls it from under a read on another thread.
#pragma once

#include <ckpt/status.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "util/unique_fd.h"

namespace ckpt {

class PackFds {
 public:
  using Handle = std::shared_ptr<const UniqueFd>;
  explicit PackFds(size_t limit) : limit_(limit) {}

  // The descriptor of pack number `pos` (its file is `path`), opened read-only if it
  // is not open.
  Result<Handle> get(uint32_t pos, const std::string& path);
  // Adopts a descriptor already open on pack `pos` (a pack just loaded or committed).
  void put(uint32_t pos, UniqueFd fd);
  size_t open_count() const;

 private:
  void insert_locked(uint32_t pos, Handle h);
  void evict_locked();

  const size_t limit_;
  mutable std::mutex mu_;
  std::vector<Handle> open_;     // by pack position; null: closed
  std::vector<bool> recent_;     // read since the clock hand last passed
  std::vector<uint32_t> clock_;  // positions of open packs, in clock order
  size_t hand_ = 0;
};

}  // namespace ckpt
