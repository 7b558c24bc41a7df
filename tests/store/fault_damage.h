// The fault-injection matrix: every kind of store file × every kind of damage, and how
// to apply one case to a copy of the pristine store (fault_store.h).
#pragma once

#include <set>
#include <string>
#include <vector>

#include "store/fault_store.h"

namespace ckpt::test::faults {

// The file a case damages. "Newest"/"old": the file written by the newest checkpoint,
// or by the oldest one (whose objects every later checkpoint shares).
enum class Kind {
  kHeader,       // store.ckpt
  kPack,         // packs/<P>.pack of the newest checkpoint
  kPackOld,      // packs/<P>.pack of the oldest checkpoint
  kIndex,        // packs/<P>.idx of the newest checkpoint
  kIndexOld,     // packs/<P>.idx of the oldest checkpoint
  kManifest,     // manifests/<C>.mf of the newest checkpoint
  kRef,          // refs/latest
  kLock,         // lock
  kReadersLock,  // readers.lock
  kTmp,          // a stray tmp/<x>.tmp left by an interrupted write
  kOrphanPack,   // a stray packs/<P>.pack without index (an interrupted write's)
  kKey,          // encrypted: keys/<K>.key of the newest checkpoint
  kStoreKey,     // encrypted: keys/store.key
  kRecipients,   // encrypted: recipients
  kStoreDir,     // the store directory itself (permissions only)
};

enum class Damage {
  kFlipHead,     // one byte at offset 10 (the version field of every binary file)
  kFlipMiddle,   // one byte at size / 2
  kFlipTrailer,  // the last byte
  kTruncZero,
  kTruncHalf,
  kTruncOne,  // one byte short
  kDelete,
  kRename,      // to another valid-looking name (a pack with its index)
  kCopyOver,    // another file of the same kind copied over it
  kSwap,        // contents exchanged with another file of the same kind
  kOversize,    // a length or count field set huge (checksum trailer fixed up)
  kUnreadable,  // mode 000 for a reader that is not root (store owned by nobody)
};

struct Case {
  Flavor flavor;
  Kind kind;
  Damage damage;
};

// What verify (or open) must say about a case.
enum class Expect {
  kReported,  // not OK, and a problem names the damaged file or what it holds
  kHarmless,  // verify must be OK: the file holds nothing a checkpoint needs
  kEither,    // OK, or a problem naming it
};

std::vector<Case> all_cases();
std::string case_name(const Case& c);  // e.g. "encrypted_pack_flip_middle"
Expect expectation(const Case& c);

// What applying a case did.
struct Applied {
  std::string skip;                  // non-empty: not applicable here, and why
  std::string target;                // damaged file, relative to the store
  std::string other;                 // second file (copy source, swap partner, new name)
  std::vector<std::string> names;    // any of these identifies the damage in a message
  std::set<std::string> may_affect;  // checkpoints whose files were touched
  bool unreadable = false;           // read as nobody (the store is chowned to nobody)
};

// Damages the copy of `p` at `store`. `owned` (unreadable cases) are further files that
// the reader needs, chowned to nobody along with the store.
Applied apply(const Case& c, const PristineStore& p, const std::string& store,
              const std::vector<std::string>& owned);

}  // namespace ckpt::test::faults
