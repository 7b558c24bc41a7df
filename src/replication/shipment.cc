#include "replication/shipment.h"

#include "store/store_crypto.h"
#include "store/manifest.h"
#include "store/sealed_manifest.h"
#include "util/fs.h"

namespace ckpt {

Result<Shipment> load_shipment(StoreImpl& store, uint64_t seq, const std::string& id_hex,
                               SharedTrees trees) {
  Shipment s;
  s.seq = seq;
  s.id_hex = id_hex;
  const std::string path = store.layout().manifest(id_hex);
  CKPT_ASSIGN_OR_RETURN(s.manifest_file, read_file(path));
  s.sealed = is_sealed_manifest(s.manifest_file);
  std::optional<Manifest> contents;  // the streams, where this process can read them
  if (s.sealed) {
    CKPT_ASSIGN_OR_RETURN(SealedManifest sm, decode_sealed_manifest(s.manifest_file, path));
    s.id = sm.header.id;
    s.key_id = sm.header.key_id;
    const std::string key_path = store.layout().key(crypt::key_id_hex(s.key_id));
    CKPT_ASSIGN_OR_RETURN(s.key_file, read_file(key_path));
    if (!trees) {
      if (!store.crypto() || !store.crypto()->can_read())
        return Status(Code::kFailedPrecondition,
                      "checkpoint " + id_hex.substr(0, 12) +
                          " is sealed and was written before this process started; without "
                          "an identity (StoreOptions::identity) its chunk trees cannot be "
                          "read, so the spare receives the next checkpoint instead");
      CKPT_ASSIGN_OR_RETURN(Manifest m, store.manifest_contents(id_hex));
      contents = std::move(m);
    }
  } else {
    CKPT_ASSIGN_OR_RETURN(Manifest m, decode_manifest(s.manifest_file, path));
    s.id = m.id;
    contents = std::move(m);
  }
  if (s.seq == 0 && contents) s.seq = contents->seq;
  if (trees) {
    s.trees = std::move(trees);
    const auto& in_memory = *s.trees;
    if (contents) {  // the memory copy must describe this very checkpoint
      size_t t = 0;
      for (const auto& st : contents->streams) {
        if (st.root == Digest{}) continue;
        if (t >= in_memory.size() || in_memory[t].empty() || in_memory[t].back().size() != 1 ||
            in_memory[t].back()[0] != st.root)
          return Status(Code::kInternal, "checkpoint " + id_hex.substr(0, 12) +
                                             ": the tree of "
                                             "stream '" +
                                             st.info.name +
                                             "' in memory does not match its manifest");
        ++t;
      }
      if (t != in_memory.size())
        return Status(Code::kInternal,
                      "checkpoint " + id_hex.substr(0, 12) + ": stream count mismatch");
    }
    return s;
  }
  auto read = std::make_shared<std::vector<TreeLevels>>();
  for (const auto& st : contents->streams) {
    if (st.root == Digest{}) continue;
    TreeLevels levels;
    CKPT_RETURN_IF_ERROR(store.read_tree_of(st, levels)
                             .with_context("replicate checkpoint " + id_hex.substr(0, 12)));
    read->push_back(std::move(levels));
  }
  s.trees = std::move(read);
  return s;
}

}  // namespace ckpt
