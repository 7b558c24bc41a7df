// Fuzzes decode_manifest; every manifest it accepts must survive encode -> decode
// unchanged.
#include <cstdint>
#include <string>

#include "fuzz_util.h"
#include "store/manifest.h"

using namespace ckpt;

namespace {

bool same_stream(const ManifestStream& a, const ManifestStream& b) {
  const StreamInfo& x = a.info;
  const StreamInfo& y = b.info;
  return a.root == b.root && a.depth == b.depth && x.name == y.name && x.kind == y.kind &&
         x.address == y.address && x.length == y.length && x.reserved == y.reserved &&
         x.chunks == y.chunks && x.zero_chunks == y.zero_chunks && x.root == y.root;
}

bool same_stats(const CheckpointStats& a, const CheckpointStats& b) {
  return a.bytes_logical == b.bytes_logical && a.chunks_total == b.chunks_total &&
         a.chunks_dirty == b.chunks_dirty && a.chunks_written == b.chunks_written &&
         a.chunks_deduplicated == b.chunks_deduplicated && a.chunks_zero == b.chunks_zero &&
         a.nodes_written == b.nodes_written && a.bytes_stored == b.bytes_stored &&
         a.capture_ms == b.capture_ms && a.persist_ms == b.persist_ms;
}

void check_round_trip(const Manifest& m) {
  // Whatever the decoder accepted, the encoder must accept and reproduce.
  Result<std::vector<uint8_t>> bytes = encode_manifest(m);
  if (!bytes.ok()) {
    std::fprintf(stderr, "decoded manifest refused by the encoder: %s\n",
                 bytes.status().to_string().c_str());
    std::abort();
  }
  Result<Manifest> again = decode_manifest(*bytes, "re-encoded");
  if (!again.ok()) {
    std::fprintf(stderr, "re-encoded manifest rejected: %s\n", again.status().to_string().c_str());
    std::abort();
  }
  const Manifest& n = *again;
  FUZZ_CHECK(n.id == m.id);
  FUZZ_CHECK(n.parent == m.parent);
  FUZZ_CHECK(n.seq == m.seq);
  FUZZ_CHECK(n.flags == m.flags);
  FUZZ_CHECK(n.created_unix_ns == m.created_unix_ns);
  FUZZ_CHECK(n.chunk_size == m.chunk_size);
  FUZZ_CHECK(n.fanout == m.fanout);
  FUZZ_CHECK(n.store_uuid == m.store_uuid);
  FUZZ_CHECK(n.labels == m.labels);
  FUZZ_CHECK(n.attrs == m.attrs);
  FUZZ_CHECK(n.streams.size() == m.streams.size());
  for (size_t i = 0; i < m.streams.size(); ++i) FUZZ_CHECK(same_stream(n.streams[i], m.streams[i]));
  FUZZ_CHECK(same_stats(n.stats, m.stats));
  // The public view must be derivable without tripping anything either.
  CheckpointInfo info = m.info();
  FUZZ_CHECK(info.id == m.id_hex());
  FUZZ_CHECK(info.streams.size() == m.streams.size());
}

void one(std::span<const uint8_t> data) {
  Result<Manifest> m = decode_manifest(data, "fuzz");
  if (!m.ok()) {
    FUZZ_CHECK(!m.status().message().empty());
    return;
  }
  check_round_trip(*m);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<uint8_t> in = fuzz::exact(data, size);
  one(in);
  one(fuzz::with_trailer(in, in.size()));
  return 0;
}
