#include "restore/lazy_restorer.h"

#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "capture/pages.h"
#include "capture/uffd_fill.h"
#include "store/format.h"
#include "util/time_units.h"

namespace ckpt {

namespace {
constexpr uint64_t kBackgroundBatch = 64;  // chunks per background step between polls
constexpr uint64_t kReadaheadStep = 4;     // read-ahead chunks between polls for faults
}  // namespace

struct LazyRestorer::Source {
  Source(const LazySource& ls, uint32_t fanout, LazyTree::NodeReader read)
      : region(ls.region),
        installed(ls.tree),
        stream(ls.stream),
        protect(ls.protect),
        base(ls.region->address()),
        tree(ls.stream, fanout, std::move(read)) {}
  Region* region;
  StreamTree* installed;
  ManifestStream stream;
  std::function<Status()> protect;
  uintptr_t base;
  LazyTree tree;
  std::vector<uint8_t> done;  // per chunk: installed, or zero (served on touch)
  uint64_t remaining = 0;
  uint64_t cursor = 0;  // where the background stream goes on
  std::vector<std::vector<Digest>> levels;
};

LazyRestorer::LazyRestorer(StoreImpl& store)
    : store_(store),
      event_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)),
      chunk_size_(store.header().chunk_size),
      zeros_(std::max<size_t>(chunk_size_, kPageSize)) {}

LazyRestorer::~LazyRestorer() {
  (void)finish();
  {
    std::lock_guard<std::mutex> lk(mu_);
    stop_ = true;
  }
  if (thread_.joinable()) {
    wake_thread();
    thread_.join();
  }
}

void LazyRestorer::wake_thread() {
  uint64_t one = 1;
  (void)!::write(event_.get(), &one, sizeof one);
}

Status LazyRestorer::start(std::unique_lock<std::mutex> held, int uffd, std::string who,
                           std::vector<LazySource> sources, FileLock readers,
                           const RestoreOptions& options) {
  if (!event_.valid()) return Status::from_errno(EMFILE, "lazy restore: eventfd");
  if (chunk_size_ % kPageSize != 0)
    return Status(Code::kUnsupported, "lazy restore needs a chunk size that is a page multiple");
  std::vector<std::unique_ptr<Source>> made;
  uint64_t total = 0;
  auto reader = [this](const Digest& d, uint8_t& level, std::vector<Digest>& e) {
    return store_.read_node(d, level, e);
  };
  for (auto& ls : sources) {
    auto s = std::make_unique<Source>(ls, store_.header().fanout, reader);
    s->done.assign(s->tree.chunks(), 0);
    s->remaining = s->tree.chunks();
    total += ls.stream.info.length;
    made.push_back(std::move(s));
  }
  {
    std::unique_lock<std::mutex> lk = std::move(held);
    uffd_ = uffd;
    who_ = std::move(who);
    sources_ = std::move(made);
    readers_ = std::move(readers);
    readahead_ = std::max<uint32_t>(1, options.readahead_chunks);
    budget_ = options.background_limit;
    urgent_ = filled_ = prepared_ = false;
    active_ = true;
    started_ = std::chrono::steady_clock::now();
    total_ = total;
    resident_ = faults_served_ = background_ = 0;
    resident_ns_ = 0;
    staging_.resize(std::max<uint64_t>(readahead_, kBackgroundBatch) * chunk_size_);
  }
  if (!thread_.joinable()) thread_ = std::thread([this] { run(); });
  wake_thread();
  return {};
}

Status LazyRestorer::finish() {
  std::unique_lock<std::mutex> lk(mu_);
  if (!active_) return {};
  urgent_ = true;
  wake_thread();
  done_cv_.wait(lk, [&] { return filled_; });
  ahead_.clear();
  for (auto& s : sources_) s->installed->assign(std::move(s->levels));
  sources_.clear();
  active_ = urgent_ = filled_ = false;
  readers_.release();
  return {};
}

RestoreProgress LazyRestorer::progress() const {
  RestoreProgress p;
  {
    std::lock_guard<std::mutex> lk(mu_);
    p.active = active_ && !filled_;
  }
  p.total_bytes = total_;
  p.resident_bytes = resident_;
  p.faults = faults_served_;
  p.background_bytes = background_;
  p.resident_ms = ns_to_ms(resident_ns_);
  return p;
}

void LazyRestorer::run() {
  // Process-directed signals belong to the application's threads.
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, nullptr);
  std::unique_lock<std::mutex> lk(mu_);
  while (!stop_) {
    bool busy = active_ && !filled_ && (budget_ > 0 || urgent_ || !ahead_.empty());
    pollfd fds[2] = {{event_.get(), POLLIN, 0}, {uffd_, POLLIN, 0}};
    lk.unlock();
    int n = ::poll(fds, 2, busy ? 0 : -1);  // a negative fd (no uffd yet) is ignored
    lk.lock();
    if (n > 0 && (fds[0].revents & POLLIN)) {
      uint64_t v;
      (void)!::read(event_.get(), &v, sizeof v);
    }
    if (active_ && !prepared_) prepare();
    if (uffd_ >= 0) {
      if (Status st = serve_faults(); !st.ok()) stop_process(st);
    }
    if (!active_ || filled_) continue;
    // Read-ahead in small steps, each followed by a poll: a fault elsewhere waits for
    // one step (~20 us), not for the whole window.
    if (!ahead_.empty()) {
      Readahead& ra = ahead_.front();
      uint64_t n = std::min<uint64_t>(ra.left, kReadaheadStep);
      if (ra.next < ra.source->done.size() && !ra.source->done[ra.next]) {
        if (Status st = fill(*ra.source, ra.next, n, false); !st.ok()) stop_process(st);
        ra.next += n;
        ra.left -= n;
      } else {
        ra.left = 0;  // the window ends at a chunk restored before (or the stream's end)
      }
      if (ra.left == 0) ahead_.pop_front();
      continue;
    }
    background_step(urgent_);
    bool all_done = std::all_of(sources_.begin(), sources_.end(),
                                [](const auto& s) { return s->remaining == 0; });
    if (!all_done) continue;
    for (auto& s : sources_) {
      auto lv = s->tree.levels();
      if (!lv.ok())
        stop_process(lv.status().with_context(who_ + " stream '" + s->stream.info.name + "'"));
      s->levels = std::move(lv).value();
    }
    resident_ns_ = std::chrono::duration_cast<std::chrono::nanoseconds>(
                       std::chrono::steady_clock::now() - started_)
                       .count();
    filled_ = true;
    done_cv_.notify_all();
  }
}

void LazyRestorer::prepare() {
  // Faults wait meanwhile: nothing is answered before the ranges are protected.
  auto os = store_.objects();
  if (!os.ok()) stop_process(os.status());
  objects_ = *os;  // loaded once; fill() reads through it without the store's mutex
  for (auto& s : sources_) {
    const std::string where = who_ + " stream '" + s->stream.info.name + "'";
    if (Status st = s->protect(); !st.ok()) stop_process(st.with_context(where));
    if (s->remaining) {
      if (auto root = s->tree.chunk(0); !root.ok()) stop_process(root.status().with_context(where));
    }
  }
  prepared_ = true;
}

LazyRestorer::Source* LazyRestorer::find(uintptr_t page) {
  for (auto& s : sources_)
    if (page >= s->base && page < s->base + page_up(s->stream.info.length)) return s.get();
  return nullptr;
}

Status LazyRestorer::serve_faults() {
  faults_.clear();
  CKPT_RETURN_IF_ERROR(uffd_read_faults(uffd_, faults_));
  for (const UffdFault& f : faults_) {
    Source* s = active_ ? find(f.page) : nullptr;
    uint64_t c = s ? (f.page - s->base) / chunk_size_ : 0;
    if (!s || s->done[c]) {
      // Restored (or zero) already: the application dropped the page, or this is a
      // duplicate message. Dropped anonymous memory reads as zero, and not protected: the
      // drop was a change the next checkpoint must see. (A duplicate finds the page
      // present and changes nothing.)
      CKPT_RETURN_IF_ERROR(uffd_copy(uffd_, f.page, zeros_.data(), kPageSize, false));
      uffd_wake(uffd_, f.page, kPageSize);
      continue;
    }
    ++faults_served_;
    CKPT_RETURN_IF_ERROR(fill(*s, c, 1, /*fault=*/true));
    uffd_wake(uffd_, f.page, kPageSize);  // in case the page was there already (EEXIST)
    // The window after it is read ahead in steps between polls (run()); the newest
    // fault's window goes first, and the background stream continues after it.
    ahead_.push_front({s, c + 1, readahead_});
    if (ahead_.size() > 64) ahead_.pop_back();  // random access: old windows lose
    s->cursor = std::min<uint64_t>(c + 1 + readahead_, s->done.size());
  }
  return {};
}

Status LazyRestorer::fill(Source& s, uint64_t first, uint64_t count, bool fault) {
  const uint64_t len = s.stream.info.length;
  uint64_t end = std::min<uint64_t>(first + count, s.done.size());
  uint64_t run_first = first;  // start of the non-zero run being staged
  size_t staged = 0;
  auto flush = [&]() -> Status {
    if (!staged) return {};
    uintptr_t dst = s.base + run_first * chunk_size_;
    CKPT_RETURN_IF_ERROR(uffd_copy(uffd_, dst, staging_.data(), staged, /*write_protect=*/true)
                             .with_context(who_ + " stream '" + s.stream.info.name + "'"));
    staged = 0;
    return {};
  };
  for (uint64_t j = first; j < end; ++j) {
    if (s.done[j]) {  // the run ends at a chunk restored before
      CKPT_RETURN_IF_ERROR(flush());
      break;
    }
    CKPT_ASSIGN_OR_RETURN(Digest d, s.tree.chunk(j));
    const uint64_t off = j * chunk_size_;
    const size_t n = static_cast<size_t>(std::min<uint64_t>(chunk_size_, len - off));
    if (d.is_zero()) {
      CKPT_RETURN_IF_ERROR(flush());
      // A zero chunk needs no memory until it is touched; then a protected zero page.
      if (fault && j == first)
        CKPT_RETURN_IF_ERROR(uffd_copy(uffd_, s.base + off, zeros_.data(), page_up(n), true));
    } else {
      if (!staged) run_first = j;
      CKPT_RETURN_IF_ERROR(objects_->read_into(d, format::kObjectChunk, staging_.data() + staged, n)
                               .with_context(who_ + " stream '" + s.stream.info.name + "' chunk " +
                                             std::to_string(j) + " (offset " + std::to_string(off) +
                                             ")"));
      // Only the last chunk is short: pad it to a page, never past the stream's pages.
      size_t take = n == chunk_size_ ? n : page_up(n);
      std::memset(staging_.data() + staged + n, 0, take - n);
      staged += take;
    }
    s.done[j] = 1;
    --s.remaining;
    resident_ += n;
    if (!fault) background_ += n;
  }
  return flush();
}

bool LazyRestorer::background_step(bool urgent) {
  if (!urgent && budget_ == 0) return false;
  for (auto& sp : sources_) {
    Source& s = *sp;
    if (s.remaining == 0) continue;
    const uint64_t n = s.done.size();
    uint64_t j = s.cursor < n ? s.cursor : 0;
    for (uint64_t scanned = 0; scanned < n && s.done[j]; ++scanned) j = j + 1 < n ? j + 1 : 0;
    uint64_t before = resident_;
    if (Status st = fill(s, j, kBackgroundBatch, false); !st.ok()) stop_process(st);
    s.cursor = std::min<uint64_t>(j + kBackgroundBatch, n);
    uint64_t added = resident_ - before;
    budget_ = budget_ > added ? budget_ - added : 0;
    return true;
  }
  return false;
}

void LazyRestorer::stop_process(const Status& st) {
  // Straight to the descriptor: stdio's lock may be held by an application thread that
  // is itself waiting for a page.
  std::string msg = "ckpt: lazy restore of " + who_ + " cannot continue: " + st.message() +
                    "\nckpt: stopping the process (exit status " +
                    std::to_string(kLazyRestoreFailedExit) +
                    "): a page it needs cannot be restored, and it must not run on garbage. "
                    "Run `ckpt verify` on the store to see what is damaged, then restore an "
                    "earlier checkpoint.\n";
  (void)!::write(2, msg.data(), msg.size());
  ::_exit(kLazyRestoreFailedExit);
}

}  // namespace ckpt
