#include <ckpt/checkpointer.h>
#include <ckpt/version.h>

#include <unistd.h>

#include <fstream>

#include "capture/dirty_tracker.h"
#include "capture/region.h"
#include "restore/restorer.h"
#include "snapshot/snapshot_strategy.h"
#include "store/checkpoint_writer.h"
#include "store/store_impl.h"
#include "util/fs.h"
#include "util/thread_pool.h"

namespace ckpt {

class CheckpointerImpl {
 public:
  std::unique_ptr<Store> store;
  StoreImpl* st = nullptr;
  std::unique_ptr<RegionSet> regions;
  std::unique_ptr<DirtyTracker> tracker;
  std::unique_ptr<SnapshotStrategy> strategy;
  std::unique_ptr<ThreadPool> pool;
  uint64_t next_seq = 1;
  CheckpointKey parent{};
  CheckpointStats last_stats;
  Status pending_error;
};

Checkpointer::Checkpointer(std::unique_ptr<CheckpointerImpl> impl) : impl_(std::move(impl)) {}
Checkpointer::~Checkpointer() = default;

static std::string self_program() {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return "";
  return std::string(buf, static_cast<size_t>(n));
}

Result<std::unique_ptr<Checkpointer>> Checkpointer::open(const Options& options) {
  auto impl = std::make_unique<CheckpointerImpl>();
  CKPT_ASSIGN_OR_RETURN(impl->store, Store::open(options.store, options.store_options));
  impl->st = &impl->store->impl();
  CKPT_RETURN_IF_ERROR(impl->st->lock_writer("open a checkpointer on " + options.store));
  CKPT_ASSIGN_OR_RETURN(impl->tracker, make_dirty_tracker(options.tracker));
  CKPT_ASSIGN_OR_RETURN(impl->strategy, make_snapshot_strategy(options.strategy));
  CKPT_ASSIGN_OR_RETURN(uint64_t seq, impl->st->max_seq());
  impl->next_seq = seq + 1;
  impl->regions = std::make_unique<RegionSet>(impl->st->header().fanout);
  impl->pool = std::make_unique<ThreadPool>(options.threads);
  // Clean temp files a crashed writer left behind; we hold the writer lock.
  if (auto names = list_dir(impl->st->layout().tmp_dir()); names.ok())
    for (const auto& n : *names) (void)remove_file(impl->st->layout().tmp_dir() + "/" + n);
  return std::unique_ptr<Checkpointer>(new Checkpointer(std::move(impl)));
}

Status Checkpointer::protect(std::string_view name, void* addr, size_t len) {
  CKPT_ASSIGN_OR_RETURN(Region * r, impl_->regions->add_range(std::string(name), addr, len));
  return impl_->tracker->track(*r);
}

Status Checkpointer::unprotect(std::string_view name) {
  Region* r = impl_->regions->find(std::string(name), StreamKind::kRange);
  if (!r) return Status(Code::kNotFound, "unprotect: no range named '" + std::string(name) + "'");
  impl_->tracker->untrack(*r);
  return impl_->regions->remove(std::string(name), StreamKind::kRange);
}

Result<Arena*> Checkpointer::create_arena(std::string_view name, const ArenaOptions& options) {
  std::string n(name);
  if (n.empty() || n.size() > 1024)
    return Status(Code::kInvalidArgument, "create_arena: name must be 1..1024 bytes");
  if (impl_->regions->find(n, StreamKind::kArena))
    return Status(Code::kAlreadyExists, "create_arena: arena '" + n + "' already exists");
  uintptr_t base = options.base ? options.base : default_arena_base(n);
  if (!options.base && options.size > kDefaultArenaSlot)
    return Status(Code::kInvalidArgument, "create_arena '" + n + "': arenas over 64 GiB need "
                                          "an explicit ArenaOptions::base");
  CKPT_ASSIGN_OR_RETURN(auto arena, ArenaImpl::create(n, base, options.size));
  CKPT_ASSIGN_OR_RETURN(Region * r, impl_->regions->add_arena(n, std::move(arena)));
  CKPT_RETURN_IF_ERROR(impl_->tracker->track(*r));
  return static_cast<Arena*>(r->arena.get());
}

Arena* Checkpointer::arena(std::string_view name) {
  Region* r = impl_->regions->find(std::string(name), StreamKind::kArena);
  return r ? r->arena.get() : nullptr;
}

Status Checkpointer::put_blob(std::string_view name, std::span<const uint8_t> bytes) {
  if (name.empty() || name.size() > 1024)
    return Status(Code::kInvalidArgument, "put_blob: name must be 1..1024 bytes");
  Region* r = impl_->regions->blob(std::string(name), true);
  r->blob.assign(bytes.begin(), bytes.end());
  return {};
}

Result<std::vector<uint8_t>> Checkpointer::get_blob(std::string_view name) const {
  Region* r = impl_->regions->blob(std::string(name), false);
  if (!r) return Status(Code::kNotFound, "get_blob: no blob named '" + std::string(name) + "'");
  return r->blob;
}

Status Checkpointer::remove_blob(std::string_view name) {
  return impl_->regions->remove(std::string(name), StreamKind::kBlob);
}

Result<std::string> Checkpointer::checkpoint(const CheckpointOptions& options) {
  const uint64_t t0 = monotonic_ns();
  CheckpointerImpl& I = *impl_;
  Manifest m;
  random_bytes(m.id.data(), m.id.size());
  m.parent = I.parent;
  m.seq = I.next_seq;
  m.created_unix_ns = now_unix_ns();
  m.chunk_size = I.st->header().chunk_size;
  m.fanout = I.st->header().fanout;
  m.store_uuid = I.st->header().uuid;
  m.labels = options.labels;
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  m.attrs = {{"host", host},
             {"pid", std::to_string(::getpid())},
             {"program", self_program()},
             {"ckpt_version", CKPT_VERSION_STRING},
             {"tracker", I.tracker->name()},
             {"strategy", I.strategy->name()}};

  CKPT_ASSIGN_OR_RETURN(Snapshot snap, I.strategy->capture(*I.regions, *I.tracker,
                                                           m.chunk_size, options.force_full));
  CheckpointWriter writer(*I.st, *I.pool);
  auto written = writer.write(std::move(m), snap.streams, monotonic_ns() - t0, snap.live);
  I.strategy->release(snap);
  if (!written.ok()) return written.status();
  // A live (sync) capture keeps the application paused until the checkpoint is
  // durable, so the stall is the whole call.
  if (snap.live) written->stats.capture_ms = double(monotonic_ns() - t0) / 1e6;
  I.last_stats = written->stats;
  I.parent = written->id;
  I.next_seq = written->seq + 1;
  return written->id_hex();
}

Status Checkpointer::wait() {
  Status st = impl_->pending_error;
  impl_->pending_error = Status();
  return st;
}

Result<std::optional<std::string>> Checkpointer::latest() {
  auto id = impl_->st->resolve("latest");
  if (id.ok()) return std::optional<std::string>(std::move(id).value());
  if (id.status().code() == Code::kNotFound) return std::optional<std::string>();
  return id.status();
}

Result<CheckpointInfo> Checkpointer::restore(std::string_view ref) {
  CheckpointerImpl& I = *impl_;
  CKPT_ASSIGN_OR_RETURN(FileLock readers, I.st->lock_readers(FileLock::Mode::kShared, "restore"));
  CKPT_ASSIGN_OR_RETURN(std::string id, I.st->resolve(ref));
  CKPT_ASSIGN_OR_RETURN(Manifest m, I.st->manifest(id));
  Restorer restorer(*I.st, *I.regions);
  CKPT_RETURN_IF_ERROR(restorer.restore(m).with_context("restore"));
  for (const auto& [key, r] : I.regions->all())
    if (r->kind != StreamKind::kBlob) CKPT_RETURN_IF_ERROR(I.tracker->track(*r));
  I.parent = m.id;
  return m.info();
}

const CheckpointStats& Checkpointer::last_stats() const { return impl_->last_stats; }
Store& Checkpointer::store() { return *impl_->store; }

}  // namespace ckpt
