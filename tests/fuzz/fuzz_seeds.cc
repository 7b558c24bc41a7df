// Writes valid encoded examples of every parsed format as seed corpora:
//   fuzz_seeds <dir>   ->   <dir>/<target>/seed-*
// tests/fuzz/corpus holds the output of one run; scripts/run-tests.sh regenerates the
// seeds into build-fuzz/corpus so they follow format changes.
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "crypt/recipients.h"
#include "crypt/wrapped_key.h"
#include "fuzz_crypt.h"
#include "replication/wire.h"
#include "store/format.h"
#include "store/manifest.h"
#include "store/pack_format.h"
#include "store/refs.h"
#include "store/sealed_manifest.h"
#include "store/store_header.h"
#include "store/tree.h"

using namespace ckpt;
namespace fs = std::filesystem;

namespace {

bool write(const fs::path& dir, const std::string& target, const std::string& name,
           const std::vector<uint8_t>& bytes) {
  fs::path d = dir / target;
  std::error_code ec;
  fs::create_directories(d, ec);
  std::ofstream out(d / name, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
  out.close();
  if (!out) {
    std::fprintf(stderr, "fuzz_seeds: cannot write %s\n", (d / name).c_str());
    return false;
  }
  return true;
}

Digest digest_of(const char* s) { return sha256(s, std::strlen(s)); }

ManifestStream stream(const char* name, StreamKind kind, uint64_t length, uint32_t chunk_size,
                      uint32_t fanout, uint64_t zero_chunks) {
  ManifestStream s;
  s.info.name = name;
  s.info.kind = kind;
  s.info.address = kind == StreamKind::kBlob ? 0 : 0x7f0000000000;
  s.info.length = length;
  s.info.reserved = kind == StreamKind::kArena ? length * 4 : 0;
  s.info.chunks = (length + chunk_size - 1) / chunk_size;
  s.info.zero_chunks = zero_chunks;
  s.depth = tree_depth(s.info.chunks, fanout);
  s.root = length ? digest_of(name) : Digest{};
  s.info.root = s.root.hex();
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <corpus dir>\n", argv[0]);
    return 2;
  }
  const fs::path dir = argv[1];
  bool ok = true;

  // Manifests: a minimal one and one with labels, attributes and every stream kind.
  Manifest m;
  m.id = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  m.seq = 1;
  m.created_unix_ns = 1700000000000000000;
  m.chunk_size = 4096;
  m.fanout = 64;
  m.store_uuid = {0xaa, 0xbb, 0xcc, 0xdd};
  ok &= write(dir, "fuzz_manifest", "seed-minimal", encode_manifest(m).value());
  m.parent = {16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1};
  m.seq = 7;
  m.fanout = 4;
  m.labels = {"nightly", "step-1000"};
  m.attrs = {{"host", "node17"}, {"pid", "4242"}, {"program", "solver"}};
  m.streams.push_back(stream("state", StreamKind::kRange, 1 << 20, m.chunk_size, m.fanout, 3));
  m.streams.push_back(stream("heap", StreamKind::kArena, 40000, m.chunk_size, m.fanout, 0));
  m.streams.push_back(stream("meta", StreamKind::kBlob, 100, m.chunk_size, m.fanout, 0));
  m.streams.push_back(stream("empty", StreamKind::kBlob, 0, m.chunk_size, m.fanout, 0));
  m.stats.bytes_logical = (1 << 20) + 40100;
  m.stats.chunks_total = 268;
  m.stats.chunks_dirty = 20;
  m.stats.chunks_written = 12;
  m.stats.chunks_deduplicated = 5;
  m.stats.chunks_zero = 3;
  m.stats.nodes_written = 4;
  m.stats.bytes_stored = 30000;
  m.stats.capture_ms = 1.25;
  m.stats.persist_ms = 17.5;
  ok &= write(dir, "fuzz_manifest", "seed-full", encode_manifest(m).value());

  // Pack header, record header and index (fixed pack id of fuzz_pack_index.cc).
  const PackId pack = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
                       0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};
  std::vector<IndexEntry> entries;
  entries.push_back({digest_of("a"), 32, 4096, 4096, format::kObjectChunk, format::kCodecNone});
  entries.push_back(
      {digest_of("b"), 32 + 48 + 4096, 4096, 900, format::kObjectChunk, format::kCodecZstd});
  entries.push_back({digest_of("c"), 32 + 2 * 48 + 4096 + 900, 136, 136, format::kObjectNode,
                     format::kCodecNone});
  ok &= write(dir, "fuzz_pack_index", "seed-index", encode_index(pack, entries));
  ok &= write(dir, "fuzz_pack_index", "seed-index-empty", encode_index(pack, {}));
  ok &= write(dir, "fuzz_pack_index", "seed-pack-header", encode_pack_header(pack));
  RecordHeader rh{format::kObjectChunk, format::kCodecZstd, 4096, 900, digest_of("b")};
  std::vector<uint8_t> rec(format::kRecordHeaderSize);
  encode_record_header(rh, rec.data());
  ok &= write(dir, "fuzz_pack_index", "seed-record-header", rec);

  // Ref.
  Ref ref;
  ref.id = m.id;
  ref.seq = 7;
  ok &= write(dir, "fuzz_ref", "seed", encode_ref(ref));

  // Store header.
  StoreHeader h;
  h.version = format::kVersion;
  h.uuid = m.store_uuid;
  h.chunk_size = 1u << 16;
  h.fanout = 64;
  h.created_unix_ns = m.created_unix_ns;
  ok &= write(dir, "fuzz_store_header", "seed", encode_store_header(h));

  // Tree nodes: one node as decode_node sees it, and tree descriptions for read_tree
  // (layout in fuzz_tree_node.cc).
  std::vector<Digest> leaves = {digest_of("x"), Digest{}, digest_of("y")};
  ok &= write(dir, "fuzz_tree_node", "seed-node", encode_node(0, leaves));
  {
    // fanout 2 (selector 0), 5 chunks, depth 3: root = node 1, covering nodes 2 and 3.
    auto ref_to = [](uint8_t k) {
      Digest d;
      d.bytes[0] = k;
      return d;
    };
    std::vector<std::vector<uint8_t>> nodes;
    Digest n3[] = {ref_to(3), ref_to(4)};  // node 1 (digest 1): level 2
    nodes.push_back(encode_node(2, n3));
    Digest l1a[] = {ref_to(5), Digest{}};  // node 2 (digest 3): level 1, chunks 0-3
    Digest l1b[] = {ref_to(6)};            // node 3 (digest 4): level 1, chunk 4
    Digest pad[] = {ref_to(1)};            // node 2 (digest 2): unused self-reference
    nodes.push_back(encode_node(1, pad));
    nodes.push_back(encode_node(1, l1a));
    nodes.push_back(encode_node(1, l1b));
    Digest l0a[] = {digest_of("c0"), digest_of("c1")};  // digest 5: chunks 0-1
    Digest l0b[] = {digest_of("c4")};                   // digest 6: chunk 4
    nodes.push_back(encode_node(0, l0a));
    nodes.push_back(encode_node(0, l0b));
    std::vector<uint8_t> t = {0, 5, 0, 3, 1};
    for (const auto& n : nodes) {
      t.push_back(uint8_t(n.size()));
      t.push_back(uint8_t(n.size() >> 8));
      t.insert(t.end(), n.begin(), n.end());
    }
    ok &= write(dir, "fuzz_tree_node", "seed-tree", t);
    ok &= write(dir, "fuzz_tree_node", "seed-tree-sparse", {5, 0x10, 0x27, 5, 0});
  }
  {
    // Sealed with the fuzz targets' fixed keys, so the fuzzer reaches the decryption.
    Manifest m;
    m.id.fill(7);
    m.seq = 3;
    m.chunk_size = 4096;
    m.fanout = 64;
    m.store_uuid = fuzz::fixed_uuid();
    m.labels = {"sealed"};
    crypt::KeyId kid;
    kid.fill(9);
    crypt::SealingKey key(kid, fuzz::fixed_data_key());
    m.key_id = kid;
    if (auto sealed = encode_sealed_manifest(m, key); sealed.ok())
      ok &= write(dir, "fuzz_sealed_manifest", "seed-manifest", *sealed);
    std::vector<uint8_t> env{1};
    std::vector<uint8_t> sealed_chunk;
    crypt::ObjectBinding b{fuzz::fixed_uuid(), 1, 0, 64, Digest{}};
    std::vector<uint8_t> plain(64, 0x5a);
    if (crypt::seal_object(key, b, plain, sealed_chunk).ok()) {
      env.insert(env.end(), sealed_chunk.begin(), sealed_chunk.end());
      ok &= write(dir, "fuzz_sealed_manifest", "seed-envelope", env);
    }

    crypt::WrappedKey w{crypt::KeyPurpose::kData, kid, fuzz::fixed_uuid(), {}};
    if (crypt::wrap_to(w, fuzz::fixed_data_key(), fuzz::fixed_identity().pub).ok()) {
      auto bytes = crypt::encode_wrapped_key(w);
      bytes.insert(bytes.begin(), 0);
      ok &= write(dir, "fuzz_key_files", "seed-wrapped", bytes);
    }
    crypt::Recipients r{fuzz::fixed_uuid(), {}, {fuzz::fixed_identity().pub}};
    auto rb = crypt::encode_recipients(r, fuzz::fixed_data_key());
    rb.insert(rb.begin(), 1);
    ok &= write(dir, "fuzz_key_files", "seed-recipients", rb);
  }
  {  // Replication messages, each behind its selector byte.
    auto seed = [&](uint8_t selector, std::vector<uint8_t> body, const char* name) {
      body.insert(body.begin(), selector);
      ok &= write(dir, "fuzz_replication_wire", name, body);
    };
    seed(0,
         encode_hello({.epoch = 3,
                       .chunk_size = 4096,
                       .fanout = 64,
                       .flags = 1,
                       .store_uuid = fuzz::fixed_uuid(),
                       .primary = "host pid 1"}),
         "seed-hello");
    seed(1, encode_welcome({.verdict = Verdict::kFenced, .epoch = 4, .message = "fenced"}),
         "seed-welcome");
    std::vector<OfferEntry> offer{{1, digest_of("a")}, {2, digest_of("b")}};
    seed(2, encode_offer(offer), "seed-offer");
    ObjectBatch batch;
    const uint8_t raw[6] = {1, 2, 3, 4, 5, 6};
    batch.add(1, 0, 6, sha256(raw, 6), raw);
    batch.add(2, 1, 9, digest_of("n"), std::span(raw, 4));
    seed(3, batch.take(), "seed-objects");
    seed(4, encode_store_files({.header = {1, 2}, .dedup_key = {3}, .recipients = {4, 5}}),
         "seed-store-files");
    seed(4, encode_key_file({.id = {7}, .bytes = {8, 9}}), "seed-key");
  }
  {  // A ckpt-kv session: line limit byte, cut byte, then requests (one over the limit).
    const std::string session = std::string("\x20\x03") + "SET a 1\nGET a\nDEL a\nGET a\nNOPE\n" +
                                std::string(40, 'x') + "\nSET b 2\r\nGET b\n" +
                                std::string(50, 'y');
    ok &= write(dir, "fuzz_kv_protocol", "seed-session",
                std::vector<uint8_t>(session.begin(), session.end()));
  }
  return ok ? 0 : 1;
}
