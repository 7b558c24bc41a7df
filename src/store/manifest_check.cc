// What a manifest can hold: every rule decode_manifest() enforces, checked before a
// manifest is encoded, so the encoder never writes bytes its decoder refuses (a
// 70,000-byte label used to commit a checkpoint nothing could read back).
#include <ckpt/limits.h>

#include "store/format.h"
#include "store/manifest.h"
#include "store/tree.h"

namespace ckpt {

namespace {

// The first bytes of a string, printable, for messages about strings too long to show.
std::string preview(const std::string& s) {
  constexpr size_t kShown = 24;
  std::string out;
  for (size_t i = 0; i < s.size() && i < kShown; ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    out += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '?';
  }
  return "'" + out + (s.size() > kShown ? "...'" : "'");
}

Status too_long(const std::string& what, size_t bytes, size_t limit, const std::string& advice) {
  return Status(Code::kInvalidArgument, what + " is " + std::to_string(bytes) +
                                            " bytes, over the limit of " + std::to_string(limit) +
                                            " bytes: " + advice);
}

Status too_many(const std::string& what, size_t n, size_t limit, const std::string& advice) {
  return Status(Code::kInvalidArgument, std::to_string(n) + " " + what + ", over the limit of " +
                                            std::to_string(limit) + " per checkpoint: " + advice);
}

Status internal(const Manifest& m, const std::string& why) {
  (void)m;
  return Status(Code::kInternal, why + " (a bug in ckpt; nothing was committed)");
}

}  // namespace

Status check_labels(const std::vector<std::string>& labels) {
  if (labels.size() > kMaxLabels)
    return too_many("labels", labels.size(), kMaxLabels, "use fewer labels");
  for (size_t i = 0; i < labels.size(); ++i)
    if (labels[i].size() > kMaxLabelBytes)
      return too_long("label " + std::to_string(i) + " (" + preview(labels[i]) + ")",
                      labels[i].size(), kMaxLabelBytes,
                      "shorten it (bulk data belongs in a blob or a file, not a label)");
  return {};
}

Status check_attrs(const std::vector<std::pair<std::string, std::string>>& attrs) {
  if (attrs.size() > kMaxAttrs)
    return too_many("attributes", attrs.size(), kMaxAttrs, "use fewer attributes");
  for (const auto& [k, v] : attrs) {
    if (k.size() > kMaxAttrBytes)
      return too_long("attribute key " + preview(k), k.size(), kMaxAttrBytes, "shorten it");
    if (v.size() > kMaxAttrBytes)
      return too_long("value of attribute " + preview(k), v.size(), kMaxAttrBytes, "shorten it");
  }
  return {};
}

Status check_manifest(const Manifest& m) {
  if (m.flags & ~format::kManifestKnownFlags) return internal(m, "unknown flags");
  if (m.flags & format::kManifestEncrypted)
    return internal(m, "the encrypted flag is set on a plain manifest");
  if (m.chunk_size < format::kMinChunkSize || m.chunk_size > format::kMaxChunkSize ||
      m.fanout < 2 || m.fanout > format::kMaxFanout)
    return internal(m, "invalid chunk size or fanout");
  CKPT_RETURN_IF_ERROR(check_labels(m.labels));
  CKPT_RETURN_IF_ERROR(check_attrs(m.attrs));
  if (m.streams.size() > kMaxStreams)
    return too_many("streams", m.streams.size(), kMaxStreams,
                    "unprotect ranges or remove blobs and arenas");
  for (const auto& s : m.streams) {
    const StreamInfo& i = s.info;
    if (i.name.size() > kMaxStreamNameBytes)
      return too_long("stream name " + preview(i.name), i.name.size(), kMaxStreamNameBytes,
                      "shorten it");
    const auto kind = static_cast<uint8_t>(i.kind);
    if (kind < 1 || kind > 4)
      return internal(m, "stream '" + i.name + "' has unknown kind " + std::to_string(kind));
    if (i.length > kMaxManifestStreamLength)
      return too_long("stream '" + i.name + "'", i.length, kMaxManifestStreamLength,
                      "split it into several streams");
    const uint64_t chunks = (i.length + m.chunk_size - 1) / m.chunk_size;
    if (i.zero_chunks > chunks || s.depth != tree_depth(chunks, m.fanout))
      return internal(m, "stream '" + i.name + "' has inconsistent sizes");
  }
  return {};
}

}  // namespace ckpt
