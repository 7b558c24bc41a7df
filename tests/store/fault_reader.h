// The reader's side of the fault-injection suite: what a reader sees in a damaged store
// (verify's report and every checkpoint read back), in this process or as the user
// nobody in a forked child.
#pragma once

#include <ckpt/store.h>

#include <string>
#include <vector>

#include "store/fault_store.h"

namespace ckpt::test::faults {

// What a reader saw in the damaged store. Plain data, so that a reader that is not root
// (a forked child) can send it back through a pipe.
struct ReadOutcome {
  std::string open_error;    // empty: the store opened
  std::string verify_error;  // empty: verify() ran
  bool verify_ok = false;
  std::string problems;  // one line per problem: object | path | message | affected
  std::vector<std::string> damaged;
  std::vector<std::string> restore_error;  // per checkpoint; empty: exact bytes back
  std::vector<std::string> wrong;          // per checkpoint; non-empty: different bytes back
};

// Reads every stream of checkpoint `r` and compares it with what was checkpointed; false
// with the reason in `error` if a read fails or returns other bytes.
bool exact(Store& s, const CheckpointRecord& r, std::string* error);

// Opens the store at `store` as a reader (with `identity` if encrypted), verifies it and
// reads every checkpoint of `p` back.
ReadOutcome read_store(const PristineStore& p, const std::string& store,
                       const std::string& identity);
// read_store() as the user nobody, in a forked child.
ReadOutcome read_store_as_nobody(const PristineStore& p, const std::string& store,
                                 const std::string& identity);

}  // namespace ckpt::test::faults
