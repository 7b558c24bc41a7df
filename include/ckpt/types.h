// Plain descriptions of checkpoints, shared by the library, the Store API and the CLI.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace ckpt {

// What a stream of a checkpoint holds. Values are part of the on-disk format.
enum class StreamKind : uint8_t {
  kRange = 1,  // a protected memory range (restored into the range registered under its name)
  kArena = 2,  // a checkpoint-safe arena (restored at its recorded base address)
  kBlob = 3,   // application bytes from put_blob()
  kImage = 4,  // a file of a CRIU image directory (process checkpoints, include/ckpt/process.h)
};
const char* stream_kind_name(StreamKind kind);

struct StreamInfo {
  std::string name;
  StreamKind kind = StreamKind::kRange;
  uint64_t address = 0;   // virtual address for ranges and arenas, 0 for blobs
  uint64_t length = 0;    // bytes
  uint64_t reserved = 0;  // arenas: reserved size (length is the used part)
  uint64_t chunks = 0;    // number of chunk slots (ceil(length / chunk size))
  uint64_t zero_chunks = 0;
  std::string root;  // hex SHA-256 of the tree root node, all zeros if empty
};

// What one checkpoint cost. "dirty" pages are the ones the capture had to look at;
// of those, "written" went to a pack, "deduplicated" were already stored,
// "zero" were all-zero and stored as nothing.
struct CheckpointStats {
  uint64_t bytes_logical = 0;  // sum of stream lengths
  uint64_t chunks_total = 0;
  uint64_t chunks_dirty = 0;
  uint64_t chunks_written = 0;
  uint64_t chunks_deduplicated = 0;
  uint64_t chunks_zero = 0;
  uint64_t nodes_written = 0;  // manifest tree nodes newly stored
  uint64_t bytes_stored = 0;   // bytes appended to packs (after compression)
  double capture_ms = 0;       // application-visible stall
  double persist_ms = 0;       // capture end -> durable
  // Not stored in the manifest (known to the writing process only):
  double queue_ms = 0;       // checkpoint() waited this long for the previous one
  bool over_budget = false;  // the stall exceeded the freeze budget
  std::string strategy;      // strategy that captured it ("stop-and-copy", ...)
};

// What restore does with a registered file whose size differs from the checkpoint's.
enum class FileMismatch : uint8_t {
  kFail = 0,      // refuse the restore, naming the file (default)
  kTruncate = 1,  // truncate a longer file back to the checkpointed size (append-only logs)
  kIgnore = 2,    // reopen it as it is, at the checkpointed offset
};

// An open file registered with Checkpointer::register_file, as recorded in a checkpoint.
struct FileInfo {
  int fd = -1;          // descriptor number; restore re-creates it with this number
  std::string name;     // the application's name for it
  std::string path;     // absolute path at checkpoint time
  uint32_t flags = 0;   // open(2) flags (access mode, O_APPEND, ...)
  uint64_t offset = 0;  // file offset at the capture instant
  uint32_t mode = 0;    // st_mode
  uint64_t size = 0;    // file size at the capture instant
  FileMismatch on_mismatch = FileMismatch::kFail;
};

struct CheckpointInfo {
  std::string id;      // 32 lowercase hex digits
  uint64_t seq = 0;    // 1, 2, 3... in commit order within a store
  std::string parent;  // id of the previous checkpoint of this writer, empty for the first
  int64_t created_unix_ns = 0;
  std::vector<std::string> labels;
  std::map<std::string, std::string> attrs;  // host, pid, program, ...
  uint32_t flags = 0;                        // bit 0: encrypted (docs/format.md)
  // Encrypted checkpoint read without an identity: labels, attrs, streams and stats are
  // sealed and left empty here.
  bool sealed = false;
  std::vector<StreamInfo> streams;
  CheckpointStats stats;
};

// A lazy restore's progress (the latest one; all zero if none happened).
struct RestoreProgress {
  bool active = false;            // pages are still missing
  uint64_t total_bytes = 0;       // bytes of the lazily restored streams
  uint64_t resident_bytes = 0;    // of which restored (zero chunks count when reached)
  uint64_t faults = 0;            // first touches answered
  uint64_t background_bytes = 0;  // restored by the background stream
  double resident_ms = 0;         // from restore() to the last page (0 while active)
};

}  // namespace ckpt
