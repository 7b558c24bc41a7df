#include "pipeline/capture_phase.h"

#include <fcntl.h>

#include <algorithm>
#include <cerrno>
#include <iterator>

#include "restore/files.h"
#include "util/fs.h"
#include "util/time_units.h"

namespace ckpt {

namespace {

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

Status CapturePhase::collect(std::vector<CaptureItem>& items, bool force_full) {
  const uint32_t cs = config_.chunk_size;
  std::vector<uint64_t> live;
  for (const auto& [key, r] : regions_.all()) live.push_back(r->serial);
  std::sort(live.begin(), live.end());
  states_.retain(live);  // unregistered streams are forgotten
  for (const auto& [key, r] : regions_.all()) {
    CaptureItem item;
    item.region = r.get();
    StreamState& state = states_.at(r->serial);
    item.state = &state;
    item.length = r->length();
    const uint64_t n = (item.length + cs - 1) / cs;
    std::optional<std::vector<uint64_t>> dirty;
    if (r->kind != StreamKind::kBlob) {
      auto got = tracker_.collect(*r, cs);
      if (!got.ok()) {
        config_.log("dirty tracker failed on '" + r->name +
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

Result<std::vector<std::shared_ptr<UniqueFd>>> CapturePhase::capture_files() {
  std::vector<std::shared_ptr<UniqueFd>> dups;
  if (files.empty()) {
    (void)regions_.remove(kFilesBlob, StreamKind::kBlob);
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
  regions_.blob(kFilesBlob, true)->blob = encode_files(infos);
  return dups;
}

Result<Captured> CapturePhase::capture(Manifest m, const CheckpointOptions& options,
                                       ThreadPauser* pauser) {
  // --- the stall: registered threads are stopped from here to resume() ---
  if (pauser) CKPT_RETURN_IF_ERROR(pauser->pause());
  const uint64_t t0 = monotonic_ns();
  std::vector<CaptureItem> items;
  auto barrier = capture_files();
  Status st = barrier.ok() ? collect(items, options.force_full) : barrier.status();
  std::vector<std::pair<StreamState*, std::vector<uint64_t>>> collected;
  for (const auto& it : items) collected.emplace_back(it.state, it.dirty);
  uint64_t dirty_bytes = 0;
  for (const auto& it : items) dirty_bytes += it.dirty.size() * uint64_t{config_.chunk_size};
  const uint64_t t_collected = monotonic_ns();
  Result<Snapshot> snap =
      st.ok() ? strategy_.capture(items, config_.chunk_size) : Result<Snapshot>(st);
  const uint64_t stall_ns = monotonic_ns() - t0;
  if (options.at_capture) options.at_capture();
  if (!snap.ok()) {
    if (pauser) pauser->resume();
    for (auto& [s, d] : collected) s->carry = merge_chunks(s->carry, d, UINT64_MAX);
    return snap.status().with_context("checkpoint seq " + std::to_string(m.seq) + ": capture");
  }
  Captured c;
  c.stall_ns = stall_ns;
  c.barrier = std::move(barrier).value();
  for (const auto& [s, d] : collected) c.states.push_back(s);
  const std::string used = snap->strategy;
  m.attrs = config_.attrs;
  m.attrs.push_back({"strategy", used});
  if (config_.epoch_attr) m.attrs.push_back({"epoch", *config_.epoch_attr});
  const double stall_ms = ns_to_ms(stall_ns);
  // A live snapshot's stall lasts until it is durable: the caller charges it then.
  c.over_budget = !snap->live && stall_ms > config_.freeze_budget_ms;
  if (c.over_budget)
    m.attrs.push_back({"freeze_budget_exceeded", std::to_string(stall_ms) + " ms"});
  // The strategy learns from its own part of the stall (collecting is common to all).
  strategy_.observe(*snap, dirty_bytes, ns_to_ms(t0 + stall_ns - t_collected), c.over_budget);
  c.snap = std::move(snap).value();
  c.manifest = std::move(m);
  if (c.snap.live) return c;  // paused until the caller has persisted it
  if (pauser) pauser->resume();
  // --- the application runs again; persisting continues in the background ---
  if (c.over_budget) charge(c.manifest.id_hex(), stall_ms, used);
  return c;
}

bool CapturePhase::charge(const std::string& id, double ms, const std::string& strategy) {
  if (ms <= config_.freeze_budget_ms) return false;
  ++overruns_;
  config_.log("checkpoint " + id.substr(0, 12) + " stalled the application " + std::to_string(ms) +
              " ms, over the freeze budget of " + std::to_string(config_.freeze_budget_ms) +
              " ms (strategy " + strategy + ")");
  return true;
}

}  // namespace ckpt
