// Checkpointer: open, registration of memory/files/threads, checkpoint and wait
// (the background write: checkpointer_persist.cc; restore: checkpointer_restore.cc; the
// shared state: checkpointer_impl.h).
#include "api/checkpointer_impl.h"

namespace ckpt {

namespace {

std::string self_program() {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

std::vector<uint64_t> all_chunks(uint64_t n) {
  std::vector<uint64_t> v(n);
  for (uint64_t i = 0; i < n; ++i) v[i] = i;
  return v;
}

}  // namespace

std::vector<uint64_t> merge_chunks(const std::vector<uint64_t>& a, const std::vector<uint64_t>& b,
                                   uint64_t limit) {
  std::vector<uint64_t> out;
  out.reserve(a.size() + b.size());
  std::set_union(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  out.erase(std::lower_bound(out.begin(), out.end(), limit), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

Status CheckpointerImpl::collect(std::vector<CaptureItem>& items, bool force_full) {
  const uint32_t cs = st->header().chunk_size;
  std::vector<uint64_t> live;
  for (const auto& [key, r] : regions->all()) live.push_back(r->serial);
  std::sort(live.begin(), live.end());
  states->retain(live);  // unregistered streams are forgotten
  for (const auto& [key, r] : regions->all()) {
    CaptureItem item;
    item.region = r.get();
    StreamState& state = states->at(r->serial);
    item.state = &state;
    item.length = r->length();
    const uint64_t n = (item.length + cs - 1) / cs;
    std::optional<std::vector<uint64_t>> dirty;
    if (r->kind != StreamKind::kBlob) {
      auto got = tracker->collect(*r, cs);
      if (!got.ok()) {
        log("dirty tracker failed on '" + r->name +
            "', examining every chunk: " + got.status().message());
      } else {
        dirty = std::move(got).value();
      }
    }
    // Every chunk when: blobs, unknown (full-scan, failure), forced, or the tree does not
    // describe this memory yet (first checkpoint, after a failed restore).
    if (!dirty || force_full || state.tree.chunks() == 0) {
      item.dirty = all_chunks(n);
    } else {
      // Chunks past the previous checkpoint's end (a grown arena) are new.
      std::vector<uint64_t> grown;
      for (uint64_t i = state.tree.chunks(); i < n; ++i) grown.push_back(i);
      item.dirty = merge_chunks(merge_chunks(*dirty, state.carry, n), grown, n);
    }
    state.carry.clear();
    items.push_back(std::move(item));
  }
  return {};
}

Result<std::vector<std::shared_ptr<UniqueFd>>> CheckpointerImpl::capture_files() {
  std::vector<std::shared_ptr<UniqueFd>> dups;
  if (files.empty()) {
    (void)regions->remove(kFilesBlob, StreamKind::kBlob);
    return dups;
  }
  std::vector<FileInfo> infos;
  for (const auto& [fd, reg] : files) {
    CKPT_ASSIGN_OR_RETURN(FileInfo f, describe_fd(fd, reg.name, reg.on_mismatch));
    infos.push_back(std::move(f));
    int dup = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (dup < 0)
      return Status::from_errno(errno, "duplicate descriptor of file '" + reg.name + "'");
    dups.push_back(std::make_shared<UniqueFd>(dup));
  }
  regions->blob(kFilesBlob, true)->blob = encode_files(infos);
  return dups;
}

Checkpointer::Checkpointer(std::unique_ptr<CheckpointerImpl> impl) : impl_(std::move(impl)) {}

Checkpointer::~Checkpointer() {
  if (impl_) impl_->persister.reset();  // finish queued checkpoints first
}

Result<std::unique_ptr<Checkpointer>> Checkpointer::open(const Options& options) {
  auto impl = std::make_unique<CheckpointerImpl>();
  impl->options = options;
  CKPT_ASSIGN_OR_RETURN(impl->store, Store::open(options.store, options.store_options));
  impl->st = &store_impl(*impl->store);
  if (impl->st->encrypted())
    CKPT_RETURN_IF_ERROR(impl->st->crypto()->require_write("a checkpointer on " + options.store));
  // A writer given a writer key expects an encrypted store: writing plaintext into one
  // whose header lost its encrypted flag (an altered store.ckpt) would defeat the point.
  if (!impl->st->encrypted() && !options.store_options.writer_key.empty())
    return Status(Code::kFailedPrecondition,
                  "store " + options.store +
                      " is not encrypted, but a writer key was given: refusing to write "
                      "plaintext where ciphertext is expected (if the store was created "
                      "encrypted, its store.ckpt was altered; restore it from a backup)");
  CKPT_RETURN_IF_ERROR(impl->st->lock_writer("open a checkpointer on " + options.store));
  // cow saves pages before the application's first write, which only sync-mode
  // write-protect can do: "auto" means uffd-wp-sync for it.
  Tracker tracker = options.tracker;
  if (options.strategy == Strategy::kCow && tracker == Tracker::kAuto)
    tracker = Tracker::kUffdWpSync;
  CKPT_ASSIGN_OR_RETURN(impl->tracker, make_dirty_tracker(tracker, &impl->notes));
  impl->tracker_name = impl->tracker->name();
  impl->pool = std::make_unique<ThreadPool>(options.threads);
  CKPT_ASSIGN_OR_RETURN(impl->strategy,
                        make_snapshot_strategy(options.strategy, *impl->pool, impl->tracker.get()));
  impl->strategy_name = impl->strategy->name();
  CKPT_ASSIGN_OR_RETURN(uint64_t seq, impl->st->max_seq());
  impl->next_seq = seq + 1;
  impl->regions = std::make_unique<RegionSet>();
  impl->states = std::make_unique<StreamStates>(impl->st->header().fanout);
  impl->lazy = std::make_unique<LazyRestorer>(*impl->st);
  // Clean temp files a crashed writer left behind; we hold the writer lock.
  if (auto names = list_dir(impl->st->layout().tmp_dir()); names.ok())
    for (const auto& n : *names) (void)remove_file(impl->st->layout().tmp_dir() + "/" + n);
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  impl->host = host;
  impl->program = self_program();
  CKPT_ASSIGN_OR_RETURN(impl->epoch, load_epoch(options.store));
  if (!options.replication.spare.empty()) {
    CheckpointerImpl* raw = impl.get();
    CKPT_ASSIGN_OR_RETURN(
        impl->spare, PrimaryStream::start(options.replication, options.store, options.store_options,
                                          [raw](const std::string& m) { raw->log(m); }));
  }
  impl->persister = std::make_unique<JobQueue>();
  return std::unique_ptr<Checkpointer>(new Checkpointer(std::move(impl)));
}

Status Checkpointer::protect(std::string_view name, void* addr, size_t len) {
  impl_->persister->wait_idle();
  CKPT_ASSIGN_OR_RETURN(Region * r, impl_->regions->add_range(std::string(name), addr, len));
  if (Status st = impl_->tracker->track_fresh(*r); !st.ok())
    impl_->log("range '" + r->name + "' is checkpointed by hashing every chunk: " + st.message());
  return {};
}

Status Checkpointer::unprotect(std::string_view name) {
  impl_->persister->wait_idle();
  CKPT_RETURN_IF_ERROR(impl_->lazy->finish());
  Region* r = impl_->regions->find(std::string(name), StreamKind::kRange);
  if (!r) return Status(Code::kNotFound, "unprotect: no range named '" + std::string(name) + "'");
  impl_->tracker->untrack(*r);
  return impl_->regions->remove(std::string(name), StreamKind::kRange);
}

Result<Arena*> Checkpointer::create_arena(std::string_view name, const ArenaOptions& options) {
  impl_->persister->wait_idle();
  std::string n(name);
  if (n.empty() || n.size() > 1024)
    return Status(Code::kInvalidArgument, "create_arena: name must be 1..1024 bytes");
  if (impl_->regions->find(n, StreamKind::kArena))
    return Status(Code::kAlreadyExists, "create_arena: arena '" + n + "' already exists");
  uintptr_t base = options.base ? options.base : default_arena_base(n);
  if (!options.base && options.size > kDefaultArenaSlot)
    return Status(Code::kInvalidArgument, "create_arena '" + n +
                                              "': arenas over 64 GiB need "
                                              "an explicit ArenaOptions::base");
  CKPT_ASSIGN_OR_RETURN(auto arena, ArenaImpl::create(n, base, options.size));
  CKPT_ASSIGN_OR_RETURN(Region * r, impl_->regions->add_arena(n, std::move(arena)));
  if (Status st = impl_->tracker->track_fresh(*r); !st.ok())
    impl_->log("arena '" + n + "' is checkpointed by hashing every chunk: " + st.message());
  return static_cast<Arena*>(r->arena.get());
}

Arena* Checkpointer::arena(std::string_view name) {
  Region* r = impl_->regions->find(std::string(name), StreamKind::kArena);
  return r ? r->arena.get() : nullptr;
}

Status Checkpointer::register_file(int fd, std::string_view name, FileMismatch on_mismatch) {
  impl_->persister->wait_idle();
  // The name goes into the checkpoint's file list as a u16-length string.
  if (name.size() > 1024)
    return Status(Code::kInvalidArgument, "register_file: the name of fd " + std::to_string(fd) +
                                              " is " + std::to_string(name.size()) +
                                              " bytes; a file's name must be at most 1024 bytes");
  // Validate now (a regular file with a path), so the error comes from this call.
  CKPT_ASSIGN_OR_RETURN(FileInfo f, describe_fd(fd, std::string(name), on_mismatch));
  impl_->files[fd] = {f.name, on_mismatch};
  return {};
}

Status Checkpointer::unregister_file(int fd) {
  impl_->persister->wait_idle();
  if (impl_->files.erase(fd) == 0)
    return Status(Code::kNotFound,
                  "unregister_file: descriptor " + std::to_string(fd) + " is not registered");
  return {};
}

Status Checkpointer::put_blob(std::string_view name, std::span<const uint8_t> bytes) {
  if (name.empty() || name.size() > 1024)
    return Status(Code::kInvalidArgument, "put_blob: name must be 1..1024 bytes");
  if (name.rfind("ckpt:", 0) == 0)
    return Status(Code::kInvalidArgument, "put_blob: names starting with 'ckpt:' are reserved");
  // Snapshots copy blob bytes at capture, so replacing one never races the writer.
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
  impl_->persister->wait_idle();
  return impl_->regions->remove(std::string(name), StreamKind::kBlob);
}

// Called from the application's threads, concurrently.
Status Checkpointer::register_thread() {
  std::lock_guard<std::mutex> lk(impl_->pauser_mu);
  if (!impl_->pauser) {
    CKPT_ASSIGN_OR_RETURN(impl_->pauser, ThreadPauser::create());
  }
  return impl_->pauser->add_self();
}

void Checkpointer::unregister_thread() {
  std::lock_guard<std::mutex> lk(impl_->pauser_mu);
  if (impl_->pauser) impl_->pauser->remove_self();
}

Result<std::string> Checkpointer::checkpoint(const CheckpointOptions& options) {
  CheckpointerImpl& I = *impl_;
  // Before anything is captured: a label the manifest cannot hold.
  if (Status st = check_labels(options.labels); !st.ok()) return st.with_context("checkpoint");
  const uint64_t tq = monotonic_ns();
  I.persister->wait_idle();  // at most one checkpoint in flight
  // The previous checkpoint failed in the background: say so now, not at the next wait().
  // Nothing is captured by this call; the next one tries again (the failure is not sticky).
  {
    std::lock_guard<std::mutex> lk(I.mu);
    if (Status failed = I.take_unreported_failure(); !failed.ok())
      return failed.with_context(
          "checkpoint: none taken, because the previous one failed in the background "
          "(call checkpoint() again to retry)");
  }
  // A lazy restore still filling memory completes first: the capture must not race it.
  if (Status st = I.lazy->finish(); !st.ok()) return st.with_context("checkpoint");
  const double queue_ms = double(monotonic_ns() - tq) / 1e6;

  Manifest m;
  random_bytes(m.id.data(), m.id.size());
  m.seq = I.next_seq++;
  m.created_unix_ns = now_unix_ns();
  m.chunk_size = I.st->header().chunk_size;
  m.fanout = I.st->header().fanout;
  m.store_uuid = I.st->header().uuid;
  m.labels = options.labels;
  // --- the stall: registered threads are stopped from here to resume() ---
  if (I.pauser) CKPT_RETURN_IF_ERROR(I.pauser->pause());
  const uint64_t t0 = monotonic_ns();
  std::vector<CaptureItem> items;
  auto barrier = I.capture_files();
  Status st = barrier.ok() ? I.collect(items, options.force_full) : barrier.status();
  std::vector<std::pair<StreamState*, std::vector<uint64_t>>> collected;
  for (const auto& it : items) collected.emplace_back(it.state, it.dirty);
  uint64_t dirty_bytes = 0;
  for (const auto& it : items) dirty_bytes += it.dirty.size() * uint64_t{m.chunk_size};
  const uint64_t t_collected = monotonic_ns();
  Result<Snapshot> snap = st.ok() ? I.strategy->capture(items, m.chunk_size) : Result<Snapshot>(st);
  uint64_t stall_ns = monotonic_ns() - t0;
  if (options.at_capture) options.at_capture();
  if (!snap.ok()) {
    if (I.pauser) I.pauser->resume();
    for (auto& [s, d] : collected) s->carry = merge_chunks(s->carry, d, UINT64_MAX);
    return snap.status().with_context("checkpoint seq " + std::to_string(m.seq) + ": capture");
  }
  const std::string used = snap->strategy;
  m.attrs = {{"host", I.host},
             {"pid", std::to_string(::getpid())},
             {"program", I.program},
             {"ckpt_version", CKPT_VERSION_STRING},
             {"tracker", I.tracker_name},
             {"strategy", used}};
  if (I.spare || I.epoch > 0) m.attrs.push_back({"epoch", std::to_string(I.epoch)});
  const std::string id = m.id_hex();
  const double stall_ms = double(stall_ns) / 1e6;
  bool over = !snap->live && stall_ms > I.options.freeze_budget_ms;
  if (over) m.attrs.push_back({"freeze_budget_exceeded", std::to_string(stall_ms) + " ms"});
  // The strategy learns from its own part of the stall (collecting is common to all).
  I.strategy->observe(*snap, dirty_bytes, double(t0 + stall_ns - t_collected) / 1e6, over);

  if (snap->live) {
    // sync: the writer reads live memory, so everyone stays paused until it is durable.
    I.persist(std::move(m), std::move(snap).value(), stall_ns, std::move(barrier).value());
    const double total_ms = double(monotonic_ns() - t0) / 1e6;
    if (I.pauser) I.pauser->resume();
    over = total_ms > I.options.freeze_budget_ms;
    std::lock_guard<std::mutex> lk(I.mu);
    I.last_stats.queue_ms = queue_ms;
    if (Status failed = I.take_unreported_failure(); !failed.ok()) return failed;
    I.last_stats.over_budget = over;
    if (over) {
      ++I.overruns;
      I.log("checkpoint " + id.substr(0, 12) + " stalled the application " +
            std::to_string(total_ms) + " ms, over the freeze budget of " +
            std::to_string(I.options.freeze_budget_ms) + " ms (strategy sync)");
    }
    return id;
  }
  if (I.pauser) I.pauser->resume();
  // --- the application runs again; persisting continues in the background ---
  if (over) {
    ++I.overruns;
    I.log("checkpoint " + id.substr(0, 12) + " stalled the application " +
          std::to_string(stall_ms) + " ms, over the freeze budget of " +
          std::to_string(I.options.freeze_budget_ms) + " ms (strategy " + used + ")");
  }
  auto job = std::make_shared<std::pair<Manifest, Snapshot>>(std::move(m), std::move(snap).value());
  auto fds = std::make_shared<std::vector<std::shared_ptr<UniqueFd>>>(std::move(barrier).value());
  I.persister->submit([&I, job, fds, stall_ns, queue_ms] {
    I.persist(std::move(job->first), std::move(job->second), stall_ns, std::move(*fds));
    std::lock_guard<std::mutex> lk(I.mu);
    I.last_stats.queue_ms = queue_ms;
  });
  return id;
}

Status Checkpointer::wait() {
  impl_->persister->wait_idle();
  uint64_t seq = 0;
  {
    std::lock_guard<std::mutex> lk(impl_->mu);
    Status st = impl_->pending_error;
    impl_->pending_error = Status();
    impl_->pending_seq = 0;
    impl_->unreported_failure = Status();  // reported here, not again by checkpoint()
    if (!st.ok()) return st;
    seq = impl_->committed_seq;
  }
  return impl_->wait_replicated(seq);
}

Status Checkpointer::wait_for(std::string_view id) {
  impl_->persister->wait_idle();
  uint64_t seq = 0;
  {
    std::lock_guard<std::mutex> lk(impl_->mu);
    auto it = impl_->outcomes.find(std::string(id));
    if (it == impl_->outcomes.end())
      return Status(Code::kNotFound, "checkpoint " + std::string(id) +
                                         " was not taken by this checkpointer recently");
    if (!it->second.status.ok()) return it->second.status;
    seq = it->second.seq;
  }
  return impl_->wait_replicated(seq);
}

Result<std::optional<std::string>> Checkpointer::latest() {
  impl_->persister->wait_idle();
  auto id = impl_->st->resolve("latest");
  if (id.ok()) return std::optional<std::string>(std::move(id).value());
  if (id.status().code() == Code::kNotFound) return std::optional<std::string>();
  return id.status();
}

CheckpointStats Checkpointer::last_stats() const {
  std::lock_guard<std::mutex> lk(impl_->mu);
  return impl_->last_stats;
}
uint64_t Checkpointer::budget_overruns() const { return impl_->overruns; }
const std::string& Checkpointer::tracker_name() const { return impl_->tracker_name; }
const std::string& Checkpointer::strategy_name() const { return impl_->strategy_name; }
const std::vector<std::string>& Checkpointer::notes() const { return impl_->notes; }
ReplicationState Checkpointer::replication_state() const {
  return impl_->spare ? impl_->spare->state() : ReplicationState{};
}

Store& Checkpointer::store() { return *impl_->store; }

}  // namespace ckpt
