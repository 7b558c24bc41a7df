// A checkpoint's manifest: identity, lineage, labels, attributes, and per stream the
// root of its chunk tree. Its size grows with the number of streams, not their size.
#pragma once

#include <ckpt/status.h>
#include <ckpt/types.h>

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "util/bytes.h"
#include "util/digest.h"

namespace ckpt {

using CheckpointKey = std::array<uint8_t, 16>;

struct ManifestStream {
  StreamInfo info;  // info.root mirrors `root` in hex
  Digest root;
  uint32_t depth = 0;
};

struct Manifest {
  CheckpointKey id{};
  CheckpointKey parent{};  // all zero: none
  uint64_t seq = 0;
  uint32_t flags = 0;
  int64_t created_unix_ns = 0;
  uint32_t chunk_size = 0;
  uint32_t fanout = 0;
  std::array<uint8_t, 16> store_uuid{};
  std::vector<std::string> labels;
  std::vector<std::pair<std::string, std::string>> attrs;
  std::vector<ManifestStream> streams;
  CheckpointStats stats;  // capture_ms/persist_ms are derived from the fields below
  uint64_t capture_us = 0;
  uint64_t persist_us = 0;
  // Encrypted stores: the data key the manifest and the objects it wrote are sealed
  // with. `sealed`: only the clear header was read (no identity), so labels, attrs,
  // streams and stats are unknown.
  std::array<uint8_t, 16> key_id{};
  bool sealed = false;

  std::string id_hex() const;
  CheckpointInfo info() const;
};

// Streams longer than this are refused by both the encoder and the decoder: chunk counts
// must not overflow.
inline constexpr uint64_t kMaxManifestStreamLength = uint64_t{1} << 56;

// Every rule decode_manifest enforces on the fields of `m` (include/ckpt/limits.h for the
// lengths and counts): kInvalidArgument naming the field, its size and the limit, or
// kInternal for an inconsistency only a bug can cause.
Status check_manifest(const Manifest& m);
// Refuses (check_manifest) rather than emit bytes decode_manifest would reject.
Result<std::vector<uint8_t>> encode_manifest(const Manifest& m);

// The fields every manifest, plain or sealed, starts with (magic .. store uuid).
// decode_manifest_head checks version, flags, chunk size and fanout.
void encode_manifest_head(const Manifest& m, uint32_t flags, ByteWriter& w);
Status decode_manifest_head(ByteReader& r, Manifest& m, const std::string& where);
// `where` names the file in errors. Checks magic, version, flags, SHA-256 trailer and
// every length; never reads out of bounds. Sealed manifests (encrypted stores) are
// decoded by sealed_manifest.h; this refuses them.
Result<Manifest> decode_manifest(std::span<const uint8_t> data, const std::string& where);

std::string key_hex(const CheckpointKey& k);
bool parse_key(const std::string& hex, CheckpointKey& out);

}  // namespace ckpt
