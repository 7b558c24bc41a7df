#include "store/pack_fds.h"

#include <fcntl.h>

#include "util/fs.h"

namespace ckpt {

Result<PackFds::Handle> PackFds::get(uint32_t pos, const std::string& path) {
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (pos < open_.size() && open_[pos]) {
      recent_[pos] = true;
      return open_[pos];
    }
  }
  // Opened outside the lock; two threads racing here open it twice and one copy wins.
  CKPT_ASSIGN_OR_RETURN(UniqueFd fd, open_file(path, O_RDONLY));
  auto h = std::make_shared<const UniqueFd>(std::move(fd));
  std::lock_guard<std::mutex> lk(mu_);
  if (pos < open_.size() && open_[pos]) return open_[pos];
  insert_locked(pos, h);
  return h;
}

void PackFds::put(uint32_t pos, UniqueFd fd) {
  if (!fd.valid()) return;
  auto h = std::make_shared<const UniqueFd>(std::move(fd));
  std::lock_guard<std::mutex> lk(mu_);
  if (pos < open_.size() && open_[pos]) return;
  insert_locked(pos, std::move(h));
}

size_t PackFds::open_count() const {
  std::lock_guard<std::mutex> lk(mu_);
  return clock_.size();
}

void PackFds::insert_locked(uint32_t pos, Handle h) {
  if (pos >= open_.size()) {
    open_.resize(pos + 1);
    recent_.resize(pos + 1);
  }
  while (clock_.size() >= limit_ && !clock_.empty()) evict_locked();
  open_[pos] = std::move(h);
  recent_[pos] = true;
  clock_.push_back(pos);
}

void PackFds::evict_locked() {
  // Second chance: a pack read since the hand last passed is skipped once.
  for (;;) {
    if (hand_ >= clock_.size()) hand_ = 0;
    uint32_t pos = clock_[hand_];
    if (recent_[pos]) {
      recent_[pos] = false;
      ++hand_;
      continue;
    }
    open_[pos].reset();  // closed when the last reader drops its handle
    clock_.erase(clock_.begin() + static_cast<std::ptrdiff_t>(hand_));
    return;
  }
}

}  // namespace ckpt
