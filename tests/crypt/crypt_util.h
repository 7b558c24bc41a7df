// Helpers for the encryption tests: key pairs, encrypted store options, and the records
// of a store's packs (to tamper with specific sealed objects).
#pragma once

#include <ckpt/checkpointer.h>
#include <ckpt/keys.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "store/pack_format.h"
#include "test_util.h"

namespace ckpt::test {

struct KeyRing {
  TempDir dir;
  KeyPairFiles admin, escrow, stranger;
  std::string writer_key;
  KeyRing() {
    admin = generate_key_pair(dir.path(), "admin").value();
    escrow = generate_key_pair(dir.path(), "escrow").value();
    stranger = generate_key_pair(dir.path(), "stranger").value();
    writer_key = dir.sub("writer.key");
  }
};

inline StoreOptions create_encrypted(const KeyRing& k, std::vector<std::string> recipients) {
  StoreOptions o;
  o.create_if_missing = true;
  o.recipients = std::move(recipients);
  o.writer_key = k.writer_key;
  return o;
}

inline StoreOptions with_identity(const std::string& identity) {
  StoreOptions o;
  o.identity = identity;
  return o;
}

// One checkpoint of `mem` (already protected by `cp`); fails the test on error.
inline std::string checkpoint_of(Checkpointer& cp) {
  auto id = durable(cp);
  EXPECT_TRUE(id.ok()) << id.status().to_string();
  return id.ok() ? *id : std::string();
}

struct Record {
  std::string pack_path;
  IndexEntry entry;
};

// Every record of every committed pack of `store_dir`, from the .idx files.
std::vector<Record> records_of(const std::string& store_dir);
// First record of `type` (1 chunk, 2 node) whose codec has no zstd (fixed-size payload).
Record first_record(const std::string& store_dir, uint8_t type);
// Rewrites the SHA-256 trailer (last 32 bytes) after a deliberate edit, so the edit is
// caught by authentication rather than by the checksum.
void fix_trailer(const std::string& path);

// Counts occurrences of `needle` in every file under `dir`.
size_t occurrences(const std::string& dir, const std::string& needle);

}  // namespace ckpt::test
