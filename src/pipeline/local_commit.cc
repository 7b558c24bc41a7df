#include "pipeline/local_commit.h"

#include <unistd.h>

#include <cerrno>

#include "util/time_units.h"

namespace ckpt {

Status LocalCommit::commit(CommitJob& job) {
  for (const auto& fd : job.barrier)
    if (::fdatasync(fd->get()) != 0)
      return Status::from_errno(errno, "durability barrier: fdatasync of a registered file")
          .with_context("checkpoint seq " + std::to_string(job.manifest.seq) +
                        " was not committed");
  CheckpointWriter writer(store_, pool_);
  // The capture time the manifest records: the stall, and the persist too when the
  // application stayed paused through it (sync strategy).
  const uint64_t stall_ns = job.stall_ns;
  const bool live = job.live;
  auto stamp = [stall_ns, live](Manifest& m) {
    m.capture_us = (stall_ns + (live ? us_to_ns(m.persist_us) : 0)) / kNsPerUs;
    m.stats.capture_ms = us_to_ms(m.capture_us);
  };
  CKPT_ASSIGN_OR_RETURN(job.manifest, writer.write(std::move(job.manifest), *job.streams, stamp));
  return {};
}

}  // namespace ckpt
