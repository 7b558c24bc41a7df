#include "pipeline/replication_sink.h"

namespace ckpt {

Status ReplicationSink::commit(CommitJob& job) {
  const Manifest& m = job.manifest;
  // The trees as this checkpoint left them, so the stream walks them without reading
  // nodes back (persist jobs run one at a time: nothing changes them meanwhile).
  auto trees = std::make_shared<std::vector<TreeLevels>>();
  for (size_t i = 0; i < m.streams.size(); ++i) {
    const ManifestStream& s = m.streams[i];
    if (s.root == Digest{}) continue;
    const StreamTree* tree = i < job.streams->size() ? (*job.streams)[i].tree : nullptr;
    if (!tree || tree->levels().empty() || tree->root() != s.root) {
      trees.reset();  // read them from the store instead
      break;
    }
    trees->push_back(tree->levels());
  }
  stream_.committed(m.seq, m.id_hex(), std::move(trees));
  return stream_.wait_lag();
}

Status ReplicationSink::wait_durable(uint64_t seq) {
  if (mode_ != ReplicationMode::kSync || seq == 0) return {};
  return stream_.wait_acked(seq);
}

}  // namespace ckpt
