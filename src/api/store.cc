#include <ckpt/store.h>

#include "restore/files.h"
#include "store/maintenance.h"
#include "store/store_impl.h"

namespace ckpt {

const char* stream_kind_name(StreamKind kind) {
  switch (kind) {
    case StreamKind::kRange:
      return "range";
    case StreamKind::kArena:
      return "arena";
    case StreamKind::kBlob:
      return "blob";
    case StreamKind::kImage:
      return "image";
  }
  return "unknown";
}

Store::Store(std::unique_ptr<StoreImpl> impl) : impl_(std::move(impl)) {}
Store::~Store() = default;

Result<std::unique_ptr<Store>> Store::open(const std::string& path, const StoreOptions& options) {
  CKPT_ASSIGN_OR_RETURN(auto impl, StoreImpl::open(path, options));
  return std::unique_ptr<Store>(new Store(std::move(impl)));
}

const std::string& Store::path() const { return impl_->layout().root; }

StoreSummary Store::summary() const {
  StoreSummary s;
  s.path = impl_->layout().root;
  s.uuid = impl_->uuid_hex();
  s.format_version = impl_->header().version;
  s.chunk_size = impl_->header().chunk_size;
  if (auto ms = impl_->manifests(nullptr); ms.ok()) s.checkpoints = ms->size();
  if (auto os = impl_->objects(); os.ok()) {
    s.packs = (*os)->packs().size();
    s.objects = (*os)->object_count();
    for (const auto& p : (*os)->packs()) s.pack_bytes += p.size;
  }
  return s;
}

Result<std::vector<CheckpointInfo>> Store::list(std::vector<Problem>* damaged) {
  CKPT_ASSIGN_OR_RETURN(auto ms, impl_->manifests(damaged));
  std::vector<CheckpointInfo> out;
  out.reserve(ms.size());
  for (const auto& m : ms) out.push_back(m.info());
  return out;
}

Result<std::string> Store::resolve(std::string_view ref) { return impl_->resolve(ref); }

Result<CheckpointInfo> Store::get(std::string_view ref) {
  CKPT_ASSIGN_OR_RETURN(std::string id, impl_->resolve(ref));
  CKPT_ASSIGN_OR_RETURN(Manifest m, impl_->manifest(id));
  return m.info();
}

Result<VerifyReport> Store::verify(const VerifyOptions& options) {
  return verify_store(*impl_, options);
}

Result<DiffReport> Store::diff(std::string_view a, std::string_view b) {
  return diff_checkpoints(*impl_, a, b);
}

Result<std::vector<uint8_t>> Store::read_stream(std::string_view ref, std::string_view name) {
  CKPT_ASSIGN_OR_RETURN(std::string id, impl_->resolve(ref));
  CKPT_ASSIGN_OR_RETURN(Manifest m, impl_->manifest_contents(id));
  for (const auto& s : m.streams) {
    if (s.info.name != name) continue;
    std::vector<uint8_t> out(s.info.length);
    CKPT_RETURN_IF_ERROR(impl_->read_stream_into(m, s, out.data(), true, nullptr));
    return out;
  }
  return Status(Code::kNotFound,
                checkpoint_name(m) + " has no stream named '" + std::string(name) + "'");
}

Result<std::vector<FileInfo>> Store::files(std::string_view ref) {
  CKPT_ASSIGN_OR_RETURN(std::string id, impl_->resolve(ref));
  CKPT_ASSIGN_OR_RETURN(Manifest m, impl_->manifest_contents(id));
  for (const auto& s : m.streams) {
    if (s.info.kind != StreamKind::kBlob || s.info.name != kFilesBlob) continue;
    std::vector<uint8_t> bytes(s.info.length);
    CKPT_RETURN_IF_ERROR(impl_->read_stream_into(m, s, bytes.data(), true, nullptr));
    return decode_files(bytes, checkpoint_name(m));
  }
  return std::vector<FileInfo>{};
}

Result<PruneReport> Store::prune(const PruneOptions& options) {
  return prune_store(*impl_, options);
}

Result<GcReport> Store::gc(const GcOptions& options) { return gc_store(*impl_, options); }

Result<RepairReport> Store::repair(const RepairOptions& options) {
  return repair_store(*impl_, options);
}

}  // namespace ckpt
