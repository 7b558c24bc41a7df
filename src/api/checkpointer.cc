// Checkpointer: open, registration of memory/files/threads, checkpoint and wait (restore:
// checkpointer_restore.cc; what stands behind it: checkpointer_impl.h). A checkpoint
// runs through the pipeline's stages (src/pipeline/): CapturePhase while the
// application waits, then PersistPhase (on the job queue) through the commit sinks.
#include <ckpt/limits.h>
#include <ckpt/version.h>
#include <unistd.h>

#include <cstdio>

#include "api/checkpointer_impl.h"
#include "pipeline/local_commit.h"
#include "pipeline/replication_sink.h"
#include "replication/epoch.h"
#include "restore/files.h"
#include "util/fs.h"
#include "util/time_units.h"

namespace ckpt {

namespace {

std::string self_program() {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

}  // namespace

Checkpointer::Checkpointer(std::unique_ptr<CheckpointerImpl> impl) : impl_(std::move(impl)) {}

Checkpointer::~Checkpointer() {
  if (impl_) impl_->jobs.reset();  // finish queued checkpoints first
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
  CKPT_ASSIGN_OR_RETURN(uint64_t epoch, load_epoch(options.store));
  if (!options.replication.spare.empty()) {
    CheckpointerImpl* raw = impl.get();
    CKPT_ASSIGN_OR_RETURN(
        impl->spare, PrimaryStream::start(options.replication, options.store, options.store_options,
                                          [raw](const std::string& m) { raw->log(m); }));
  }
  CheckpointerImpl* raw = impl.get();
  CapturePhase::Config capture{
      .chunk_size = impl->st->header().chunk_size,
      .freeze_budget_ms = options.freeze_budget_ms,
      .attrs = {{"host", host},
                {"pid", std::to_string(::getpid())},
                {"program", self_program()},
                {"ckpt_version", CKPT_VERSION_STRING},
                {"tracker", impl->tracker_name}},
      .epoch_attr = impl->spare || epoch > 0 ? std::optional(std::to_string(epoch)) : std::nullopt,
      .log = [raw](const std::string& m) { raw->log(m); }};
  impl->capture = std::make_unique<CapturePhase>(*impl->regions, *impl->states, *impl->tracker,
                                                 *impl->strategy, std::move(capture));
  impl->persist =
      std::make_unique<PersistPhase>(*impl->strategy, impl->outcomes, options.on_persisted);
  impl->persist->add_sink(std::make_unique<LocalCommit>(*impl->st, *impl->pool));
  if (impl->spare)
    impl->persist->add_sink(
        std::make_unique<ReplicationSink>(*impl->spare, options.replication.mode));
  impl->jobs = std::make_unique<JobQueue>();
  return std::unique_ptr<Checkpointer>(new Checkpointer(std::move(impl)));
}

Status Checkpointer::protect(std::string_view name, void* addr, size_t len) {
  impl_->jobs->wait_idle();
  CKPT_ASSIGN_OR_RETURN(Region * r, impl_->regions->add_range(std::string(name), addr, len));
  if (Status st = impl_->tracker->track_fresh(*r); !st.ok())
    impl_->log("range '" + r->name + "' is checkpointed by hashing every chunk: " + st.message());
  return {};
}

Status Checkpointer::unprotect(std::string_view name) {
  impl_->jobs->wait_idle();
  CKPT_RETURN_IF_ERROR(impl_->lazy->finish());
  Region* r = impl_->regions->find(std::string(name), StreamKind::kRange);
  if (!r) return Status(Code::kNotFound, "unprotect: no range named '" + std::string(name) + "'");
  impl_->tracker->untrack(*r);
  return impl_->regions->remove(std::string(name), StreamKind::kRange);
}

Result<Arena*> Checkpointer::create_arena(std::string_view name, const ArenaOptions& options) {
  impl_->jobs->wait_idle();
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
  impl_->jobs->wait_idle();
  // The name goes into the checkpoint's file list as a u16-length string.
  if (name.size() > 1024)
    return Status(Code::kInvalidArgument, "register_file: the name of fd " + std::to_string(fd) +
                                              " is " + std::to_string(name.size()) +
                                              " bytes; a file's name must be at most 1024 bytes");
  // Validate now (a regular file with a path), so the error comes from this call.
  CKPT_ASSIGN_OR_RETURN(FileInfo f, describe_fd(fd, std::string(name), on_mismatch));
  impl_->capture->files[fd] = {f.name, on_mismatch};
  return {};
}

Status Checkpointer::unregister_file(int fd) {
  impl_->jobs->wait_idle();
  if (impl_->capture->files.erase(fd) == 0)
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
  impl_->jobs->wait_idle();
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
  I.jobs->wait_idle();  // at most one checkpoint in flight
  // The previous checkpoint failed in the background: say so now, not at the next wait().
  // Nothing is captured by this call; the next one tries again (the failure is not sticky).
  if (Status failed = I.outcomes.take_unreported_failure(); !failed.ok())
    return failed.with_context(
        "checkpoint: none taken, because the previous one failed in the background "
        "(call checkpoint() again to retry)");
  // A lazy restore still filling memory completes first: the capture must not race it.
  if (Status st = I.lazy->finish(); !st.ok()) return st.with_context("checkpoint");
  const double queue_ms = ns_to_ms(monotonic_ns() - tq);

  Manifest m;
  random_bytes(m.id.data(), m.id.size());
  m.seq = I.next_seq++;
  m.created_unix_ns = now_unix_ns();
  m.chunk_size = I.st->header().chunk_size;
  m.fanout = I.st->header().fanout;
  m.store_uuid = I.st->header().uuid;
  m.labels = options.labels;
  const std::string id = m.id_hex();
  ThreadPauser* pauser = I.current_pauser();
  CKPT_ASSIGN_OR_RETURN(Captured c, I.capture->capture(std::move(m), options, pauser));
  if (!c.snap.live) {
    // The application runs again; the persist phase continues in the background.
    auto job = std::make_shared<Captured>(std::move(c));
    I.jobs->submit([&I, job, queue_ms] {
      I.persist->run(std::move(*job));
      I.outcomes.amend_last_stats(queue_ms, std::nullopt);
    });
    return id;
  }
  // sync: the writer reads live memory, so everyone stays paused until it is durable.
  const uint64_t t0 = monotonic_ns() - c.stall_ns;
  const std::string strategy = c.snap.strategy;
  I.persist->run(std::move(c));
  const double total_ms = ns_to_ms(monotonic_ns() - t0);
  if (pauser) pauser->resume();
  if (Status failed = I.outcomes.take_unreported_failure(); !failed.ok()) {
    I.outcomes.amend_last_stats(queue_ms, std::nullopt);
    return failed;
  }
  I.outcomes.amend_last_stats(queue_ms, I.capture->charge(id, total_ms, strategy));
  return id;
}

Status Checkpointer::wait() {
  impl_->jobs->wait_idle();
  uint64_t seq = 0;
  CKPT_RETURN_IF_ERROR(impl_->outcomes.take_pending(seq));
  return impl_->persist->wait_durable(seq);
}

Status Checkpointer::wait_for(std::string_view id) {
  impl_->jobs->wait_idle();
  CKPT_ASSIGN_OR_RETURN(uint64_t seq, impl_->outcomes.outcome_of(std::string(id)));
  return impl_->persist->wait_durable(seq);
}

Result<std::optional<std::string>> Checkpointer::latest() {
  impl_->jobs->wait_idle();
  auto id = impl_->st->resolve("latest");
  if (id.ok()) return std::optional<std::string>(std::move(id).value());
  if (id.status().code() == Code::kNotFound) return std::optional<std::string>();
  return id.status();
}

CheckpointStats Checkpointer::last_stats() const { return impl_->outcomes.last_stats(); }
uint64_t Checkpointer::budget_overruns() const { return impl_->capture->overruns(); }
const std::string& Checkpointer::tracker_name() const { return impl_->tracker_name; }
const std::string& Checkpointer::strategy_name() const { return impl_->strategy_name; }
const std::vector<std::string>& Checkpointer::notes() const { return impl_->notes; }
ReplicationState Checkpointer::replication_state() const {
  return impl_->spare ? impl_->spare->state() : ReplicationState{};
}

Store& Checkpointer::store() { return *impl_->store; }

}  // namespace ckpt
