// Small helpers shared by the tests.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ckpt::test {

// A fresh directory under $TMPDIR (or /var/tmp), removed by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// A tmpfs of `size` ("10m", "64k") mounted over the existing directory `path` (usually a
// TempDir's) and detached by the destructor. mounted() is false where mounting is not
// allowed (not root): tests then GTEST_SKIP.
class Tmpfs {
 public:
  Tmpfs(const std::string& path, const std::string& size);
  ~Tmpfs();
  Tmpfs(const Tmpfs&) = delete;
  Tmpfs& operator=(const Tmpfs&) = delete;
  bool mounted() const { return mounted_; }
  // Remounts it read-only: every write then fails with EROFS, root's included.
  bool make_read_only();

 private:
  std::string path_, size_;
  bool mounted_ = false;
};

void fill_random(uint8_t* p, size_t n, uint64_t seed);
std::vector<uint8_t> read_all(const std::string& path);
void write_all_file(const std::string& path, const std::vector<uint8_t>& data);
void flip_byte(const std::string& path, uint64_t offset);
std::vector<std::string> files_in(const std::string& dir, const std::string& suffix);
// Runs argv, returns exit status (or 128+signal) and captured stdout (and stderr, merged
// into it, with merge_stderr).
int run(const std::vector<std::string>& argv, std::string* out = nullptr,
        bool merge_stderr = false);
// A store of `rounds` checkpoints written by ckpt-test-helper ("state" command); returns
// their ids, oldest first.
std::vector<std::string> make_helper_store(const std::string& dir, int rounds);
// Runs the ckpt CLI on `store` with `args`; exit status, stdout in `out`.
int ckpt_cli(const std::string& store, std::vector<std::string> args, std::string* out = nullptr);

}  // namespace ckpt::test

#include <ckpt/checkpointer.h>

namespace ckpt::test {

// checkpoint() then wait(): the id once the checkpoint is durable, or the first error.
inline Result<std::string> durable(Checkpointer& cp, const CheckpointOptions& o = {}) {
  auto id = cp.checkpoint(o);
  if (!id.ok()) return id.status();
  Status st = cp.wait();
  if (!st.ok()) return st;
  return id;
}

// What checkpoint `i` of make_own_packs_store holds in its range "m": 64 KiB no other
// checkpoint shares a chunk of.
std::vector<uint8_t> own_packs_memory(int i);
// A store of `n` checkpoints, one writer session each, so each checkpoint's chunks and
// tree nodes land in packs of its own. Returns the ids, oldest first; `packs[i]` are the
// .pack paths checkpoint i added.
std::vector<std::string> make_own_packs_store(
    const std::string& dir, int n, std::vector<std::vector<std::string>>* packs = nullptr);

}  // namespace ckpt::test
