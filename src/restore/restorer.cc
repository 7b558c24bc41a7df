#include "restore/restorer.h"

#include <sys/mman.h>

#include <sstream>

#include "capture/pages.h"
#include "capture/vma.h"

namespace ckpt {

namespace {

// Faults in the whole pages of [addr, addr + len) with one call before an eager restore
// writes them: one page-table walk instead of a page fault per page, taken by the
// reading threads. Best effort: without MADV_POPULATE_WRITE the reads fault as usual.
void populate(uintptr_t addr, uint64_t len) {
  uintptr_t lo = page_up(addr), hi = page_down(addr + len);
  if (lo < hi) (void)::madvise(reinterpret_cast<void*>(lo), hi - lo, MADV_POPULATE_WRITE);
}
}  // namespace

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
        steps.push_back({&s, r, false, false});
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
          steps.push_back({&s, r, false, false});
        } else {
          auto arena = ArenaImpl::create(info.name, info.address,
                                         info.reserved ? info.reserved : info.length);
          if (!arena.ok()) return arena.status().with_context(who);
          CKPT_ASSIGN_OR_RETURN(Region * nr,
                                regions_.add_arena(info.name, std::move(arena).value()));
          steps.push_back({&s, nr, true, false});
        }
        break;
      }
      case StreamKind::kBlob:
        steps.push_back({&s, regions_.blob(info.name, true), false, false});
        break;
      case StreamKind::kImage:  // Checkpointer::restore refuses process checkpoints first
        return Status(Code::kInvalidArgument, who + " is a process checkpoint");
    }
  }
  return {};
}

void Restorer::undo(std::vector<Step>& steps) {
  for (auto& st : steps) {
    if (st.created) {
      tracker_.untrack(*st.region);
      (void)regions_.remove(st.stream->info.name, StreamKind::kArena);
    } else if (st.lazy) {
      (void)tracker_.track(*st.region);  // plain tracking again, no missing-page faults
    }
  }
  // Trees of regions that survived no longer describe their memory: force the next
  // checkpoint to look at everything.
  for (const auto& [key, r] : regions_.all()) states_.at(r->serial).tree.assign({});
}

bool Restorer::wants_lazy(const Step& step, RestoreMode mode) const {
  const StreamInfo& info = step.stream->info;
  if (mode == RestoreMode::kEager || info.kind == StreamKind::kBlob || info.length == 0)
    return false;
  if (mode == RestoreMode::kAuto && info.length < kLazyRestoreMinBytes) return false;
  if (info.kind == StreamKind::kArena) return true;  // our own private anonymous mapping
  // A range: whole pages of private anonymous memory only (emptying a partial page would
  // drop its neighbour's bytes; a file or shared page comes back without a fault).
  uintptr_t a = step.region->address();
  return a == page_down(a) && info.length % kPageSize == 0 &&
         is_private_anonymous(a, a + info.length);
}

Status Restorer::read_eager(const Manifest& m, std::vector<Step>& steps, std::vector<size_t> which,
                            std::vector<std::vector<uint8_t>>& blobs) {
  for (size_t i : which) {
    Step& step = steps[i];
    const ManifestStream& s = *step.stream;
    if (s.info.kind == StreamKind::kArena) step.region->arena->discard();
    if (s.info.kind != StreamKind::kBlob) populate(step.region->address(), s.info.length);
    switch (s.info.kind) {
      case StreamKind::kRange:
        CKPT_RETURN_IF_ERROR(
            store_.read_stream_into(m, s, step.region->addr, false, &trees_[i], &pool_));
        break;
      case StreamKind::kArena:
        CKPT_RETURN_IF_ERROR(
            store_.read_stream_into(m, s, reinterpret_cast<uint8_t*>(step.region->arena->base()),
                                    true, &trees_[i], &pool_));
        break;
      case StreamKind::kBlob:
        blobs[i].resize(s.info.length);
        CKPT_RETURN_IF_ERROR(store_.read_stream_into(m, s, blobs[i].data(), true, &trees_[i]));
        break;
      case StreamKind::kImage:  // never planned
        break;
    }
  }
  return {};
}

Status Restorer::start_lazy(const Manifest& m, std::vector<Step>& steps,
                            const RestoreOptions& options, FileLock& readers) {
  std::vector<LazySource> sources;
  int uffd = -1;
  auto held = lazy_.hold();
  for (auto& step : steps) {
    if (!step.lazy) continue;
    auto fd = tracker_.track_missing(*step.region, step.stream->info.length);
    if (!fd.ok()) {
      step.lazy = false;
      return fd.status().with_context("lazy restore of '" + step.stream->info.name + "'");
    }
    uffd = fd->uffd;
    StreamTree& tree = states_.at(step.region->serial).tree;
    tree.assign({});  // installed by LazyRestorer::finish()
    sources.push_back({step.region, &tree, *step.stream, std::move(fd->protect)});
  }
  if (sources.empty()) return {};
  return lazy_.start(std::move(held), uffd, checkpoint_name(m), std::move(sources),
                     std::move(readers), options);
}

Result<std::set<Region*>> Restorer::restore(const Manifest& m, const RestoreOptions& options,
                                            FileLock& readers) {
  std::vector<Step> steps;
  Status st = plan(m, steps);
  if (!st.ok()) {
    undo(steps);
    return st;
  }
  // Lazy needs the tracker's userfaultfd (one range cannot sit on two): auto falls back.
  RestoreMode mode = options.mode;
  if (mode != RestoreMode::kEager && std::string(tracker_.name()) != "uffd-wp-async") {
    if (mode == RestoreMode::kLazy)
      return Status(Code::kUnsupported, std::string("lazy restore needs the uffd-wp-async dirty "
                                                    "tracker; this checkpointer uses ") +
                                            tracker_.name() + " (use RestoreMode::kEager)");
    mode = RestoreMode::kEager;
  }
  std::vector<size_t> eager;
  for (size_t i = 0; i < steps.size(); ++i) {
    steps[i].lazy = wants_lazy(steps[i], mode);
    if (!steps[i].lazy) eager.push_back(i);
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
  trees_.assign(steps.size(), {});
  st = read_eager(m, steps, eager, blobs);
  if (st.ok()) st = start_lazy(m, steps, options, readers);
  if (!st.ok()) {
    undo(steps);
    return st;
  }
  std::set<Region*> lazy;
  for (size_t i = 0; i < steps.size(); ++i) {
    if (steps[i].lazy) {
      lazy.insert(steps[i].region);
      continue;
    }
    if (steps[i].stream->info.kind == StreamKind::kBlob)
      steps[i].region->blob = std::move(blobs[i]);
    states_.at(steps[i].region->serial).tree.assign(std::move(trees_[i]));
  }
  for (const auto& name : stale) (void)regions_.remove(name, StreamKind::kBlob);
  return lazy;
}

}  // namespace ckpt
