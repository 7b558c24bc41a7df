// The store the fault-injection suite damages: a real store written by a Checkpointer
// (four checkpoints of changing data, one pack, index, manifest and, when encrypted, one
// data key each), built once per process and copied for every case, with what each
// checkpoint holds and which files it depends on.
#pragma once

#include <ckpt/store.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "crypt/crypt_util.h"
#include "test_util.h"

namespace ckpt::test::faults {

enum class Flavor { kPlain, kEncrypted };

struct CheckpointRecord {
  std::string id;
  std::map<std::string, std::vector<uint8_t>> streams;  // name -> checkpointed bytes
  std::string pack;                                     // hex of the pack it wrote
  std::string key;                                      // encrypted: its data key id (hex)
  std::set<std::string> packs_used;  // every pack holding an object it references
  std::set<std::string> keys_used;   // encrypted: its manifest's key and its objects' keys
};

struct PristineStore {
  Flavor flavor = Flavor::kPlain;
  TempDir dir;                                // the store is dir.sub("s")
  std::unique_ptr<KeyRing> keys;              // encrypted only
  std::vector<CheckpointRecord> checkpoints;  // oldest first

  std::string path() const { return dir.sub("s"); }
  // A reader: plain, or with the admin identity at `identity` (a copy a case may own).
  StoreOptions reader_options(const std::string& identity) const;
  // The application's writer (never creates a store).
  StoreOptions writer_options() const;
};

// Built on first use; later calls return the same store. Fails the calling test (and
// returns null) if the store cannot be built or does not verify clean.
const PristineStore* pristine(Flavor flavor);

// Copies directory `from` to `to` (which must not exist), keeping modes.
void copy_tree(const std::string& from, const std::string& to);

// Runs argv with stdout and stderr captured together; exit status (128+signal if killed).
int run_merged(const std::vector<std::string>& argv, std::string* out);

// The uid/gid of "nobody" (false if there is none).
bool nobody_ids(uid_t* uid, gid_t* gid);

}  // namespace ckpt::test::faults
