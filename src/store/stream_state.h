// What the checkpoint pipeline keeps about one stream between checkpoints, so the next
// checkpoint writes only what changed: the chunk tree as of the newest checkpoint this
// writer committed or restored, and the chunks a failed checkpoint had collected (the
// dirty tracker has forgotten them; the next capture must look at them again).
//
// The pipeline owns these; the writer updates a tree only through StreamSource::tree
// and rolls it back when its checkpoint fails; restore installs the trees it read.
// States are keyed by a region's serial number (never reused), so a stream that is
// unregistered and registered again under the same name starts from an empty tree.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <vector>

#include "store/tree.h"

namespace ckpt {

struct StreamState {
  explicit StreamState(uint32_t fanout) : tree(fanout) {}
  StreamTree tree;              // empty: the next checkpoint writes every chunk
  std::vector<uint64_t> carry;  // ascending chunk indices
};

class StreamStates {
 public:
  explicit StreamStates(uint32_t fanout) : fanout_(fanout) {}

  // The state of the stream with this serial, created empty on first use. The reference
  // stays valid until retain() drops it.
  StreamState& at(uint64_t serial) {
    auto& s = states_[serial];
    if (!s) s = std::make_unique<StreamState>(fanout_);
    return *s;
  }
  StreamState* find(uint64_t serial) {
    auto it = states_.find(serial);
    return it == states_.end() ? nullptr : it->second.get();
  }
  // Forgets the states of streams no longer registered (`live`: serials, ascending).
  void retain(const std::vector<uint64_t>& live) {
    for (auto it = states_.begin(); it != states_.end();)
      it = std::binary_search(live.begin(), live.end(), it->first) ? std::next(it)
                                                                   : states_.erase(it);
  }

 private:
  uint32_t fanout_;
  std::map<uint64_t, std::unique_ptr<StreamState>> states_;
};

}  // namespace ckpt
