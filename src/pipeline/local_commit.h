// The first commit sink: the checkpoint's objects and manifest go into the local store
// (CheckpointWriter), after the durability barrier on the registered files.
#pragma once

#include "pipeline/commit_sink.h"
#include "store/store_impl.h"
#include "util/thread_pool.h"

namespace ckpt {

class LocalCommit final : public CommitSink {
 public:
  LocalCommit(StoreImpl& store, ThreadPool& pool) : store_(store), pool_(pool) {}
  std::string name() const override { return "the local store"; }
  Status commit(CommitJob& job) override;

 private:
  StoreImpl& store_;
  ThreadPool& pool_;
};

}  // namespace ckpt
