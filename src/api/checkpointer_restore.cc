// Checkpointer::restore and the lazy-restore accessors (design.md, Restore).
#include "api/checkpointer_impl.h"
#include "restore/files.h"
#include "restore/restorer.h"
#include "store/format.h"

namespace ckpt {

Result<CheckpointInfo> Checkpointer::restore(std::string_view ref) {
  return restore(ref, RestoreOptions{});
}

Result<CheckpointInfo> Checkpointer::restore(std::string_view ref, const RestoreOptions& options) {
  CheckpointerImpl& I = *impl_;
  I.jobs->wait_idle();
  CKPT_RETURN_IF_ERROR(I.lazy->finish().with_context("restore"));
  CKPT_ASSIGN_OR_RETURN(Remaps remaps, parse_remaps(options.remap));
  CKPT_ASSIGN_OR_RETURN(FileLock readers, I.st->lock_readers(FileLock::Mode::kShared, "restore"));
  CKPT_ASSIGN_OR_RETURN(std::string id, I.st->resolve(ref));
  CKPT_ASSIGN_OR_RETURN(Manifest m, I.st->manifest_contents(id));
  if (m.flags & format::kManifestProcess)
    return Status(Code::kInvalidArgument,
                  checkpoint_name(m) +
                      " is a process checkpoint (CRIU images): restore it with "
                      "'ckpt restore " +
                      m.id_hex() + "'");
  // Files first: a missing or changed file stops the restore before memory is touched.
  std::vector<FileInfo> files;
  for (const auto& s : m.streams) {
    if (s.info.kind != StreamKind::kBlob || s.info.name != kFilesBlob || !options.reopen_files)
      continue;
    std::vector<uint8_t> bytes(s.info.length);
    CKPT_RETURN_IF_ERROR(I.st->read_stream_into(m, s, bytes.data(), true, nullptr));
    CKPT_ASSIGN_OR_RETURN(files, decode_files(bytes, checkpoint_name(m)));
    CKPT_RETURN_IF_ERROR(check_files(files, remaps).with_context("restore " + checkpoint_name(m)));
  }
  Restorer restorer(*I.st, *I.regions, *I.states, *I.tracker, *I.lazy, *I.pool);
  auto lazy = restorer.restore(m, options, readers);
  if (!lazy.ok()) return lazy.status().with_context("restore");
  CKPT_RETURN_IF_ERROR(reopen_files(files, remaps).with_context("restore " + checkpoint_name(m)));
  I.capture->files.clear();
  for (const auto& f : files) I.capture->files[f.fd] = {f.name, f.on_mismatch};
  // Restoring wrote every page: start tracking afresh from the restored state (lazily
  // restored regions are tracked already).
  for (const auto& [key, r] : I.regions->all()) {
    I.states->at(r->serial).carry.clear();
    if (r->kind != StreamKind::kBlob && !lazy->count(r.get())) {
      if (Status st = I.tracker->track(*r); !st.ok())
        I.log("'" + r->name + "' is checkpointed by hashing every chunk: " + st.message());
    }
  }
  I.outcomes.set_parent(m.id);
  return m.info();
}

Status Checkpointer::wait_restored() { return impl_->lazy->finish(); }
RestoreProgress Checkpointer::restore_progress() const { return impl_->lazy->progress(); }

}  // namespace ckpt
