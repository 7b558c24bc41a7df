#include "restore/restorer.h"

#include <sstream>

namespace ckpt {

Status Restorer::plan(const Manifest& m, std::vector<Step>& steps) {
  const std::string who = checkpoint_name(m);
  for (const auto& s : m.streams) {
    const auto& info = s.info;
    switch (info.kind) {
      case StreamKind::kRange: {
        Region* r = regions_.find(info.name, StreamKind::kRange);
        if (!r)
          return Status(Code::kFailedPrecondition, who + " has a protected range '" + info.name +
                                                       "' (" + std::to_string(info.length) +
                                                       " bytes) but none is registered under "
                                                       "that name; call protect(\"" +
                                                       info.name + "\", ...) before restore");
        if (r->len != info.length)
          return Status(Code::kFailedPrecondition,
                        who + ": range '" + info.name + "' is " + std::to_string(r->len) +
                            " bytes now but was " + std::to_string(info.length) +
                            " bytes when checkpointed");
        steps.push_back({&s, r, false});
        break;
      }
      case StreamKind::kArena: {
        Region* r = regions_.find(info.name, StreamKind::kArena);
        if (r) {
          if (r->arena->base() != info.address || r->arena->reserved() < info.length) {
            std::ostringstream msg;
            msg << who << ": arena '" << info.name << "' was at 0x" << std::hex << info.address
                << " (" << std::dec << info.reserved << " bytes reserved) but is at 0x" << std::hex
                << r->arena->base() << " (" << std::dec << r->arena->reserved()
                << " bytes) now; create it with the same base and size";
            return Status(Code::kFailedPrecondition, msg.str());
          }
          steps.push_back({&s, r, false});
        } else {
          auto arena = ArenaImpl::create(info.name, info.address,
                                         info.reserved ? info.reserved : info.length);
          if (!arena.ok()) return arena.status().with_context(who);
          CKPT_ASSIGN_OR_RETURN(Region * nr,
                                regions_.add_arena(info.name, std::move(arena).value()));
          steps.push_back({&s, nr, true});
        }
        break;
      }
      case StreamKind::kBlob:
        steps.push_back({&s, regions_.blob(info.name, true), false});
        break;
      case StreamKind::kImage:  // Checkpointer::restore refuses process checkpoints first
        return Status(Code::kInvalidArgument, who + " is a process checkpoint");
    }
  }
  return {};
}

void Restorer::undo(std::vector<Step>& steps) {
  for (auto& st : steps)
    if (st.created) (void)regions_.remove(st.stream->info.name, StreamKind::kArena);
}

Status Restorer::restore(const Manifest& m) {
  std::vector<Step> steps;
  Status st = plan(m, steps);
  if (!st.ok()) {
    undo(steps);
    return st;
  }
  // Blobs that exist now but not in the checkpoint are dropped: the restored state is
  // exactly the checkpoint's.
  std::vector<std::string> stale;
  for (const auto& [key, r] : regions_.all()) {
    if (r->kind != StreamKind::kBlob) continue;
    bool found = false;
    for (const auto& s : m.streams)
      found |= s.info.kind == StreamKind::kBlob && s.info.name == r->name;
    if (!found) stale.push_back(r->name);
  }
  // Blobs are read into fresh buffers first so a failure leaves the old ones.
  std::vector<std::vector<uint8_t>> blobs(steps.size());
  std::vector<std::vector<std::vector<Digest>>> trees(steps.size());
  for (size_t i = 0; i < steps.size() && st.ok(); ++i) {
    Step& step = steps[i];
    const ManifestStream& s = *step.stream;
    switch (s.info.kind) {
      case StreamKind::kRange:
        st = store_.read_stream_into(m, s, step.region->addr, false, &trees[i]);
        break;
      case StreamKind::kArena:
        step.region->arena->discard();
        st = store_.read_stream_into(m, s, reinterpret_cast<uint8_t*>(step.region->arena->base()),
                                     true, &trees[i]);
        break;
      case StreamKind::kBlob:
        blobs[i].resize(s.info.length);
        st = store_.read_stream_into(m, s, blobs[i].data(), true, &trees[i]);
        break;
      case StreamKind::kImage:  // never planned
        break;
    }
  }
  if (!st.ok()) {
    undo(steps);
    // Trees of regions that survived no longer describe their memory: force the next
    // checkpoint to look at everything.
    for (const auto& [key, r] : regions_.all()) r->tree.assign({});
    return st;
  }
  for (size_t i = 0; i < steps.size(); ++i) {
    if (steps[i].stream->info.kind == StreamKind::kBlob)
      steps[i].region->blob = std::move(blobs[i]);
    steps[i].region->tree.assign(std::move(trees[i]));
  }
  for (const auto& name : stale) (void)regions_.remove(name, StreamKind::kBlob);
  return {};
}

}  // namespace ckpt
