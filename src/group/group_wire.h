// The messages of the group commit protocol (docs/group.md, "Messages"), carried as
// frames of a SecureChannel (the hot spare's authenticated channel). Types start at 32 so
// that a replication peer that reaches a coordinator is refused at its first frame.
#pragma once

#include <ckpt/status.h>

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace ckpt {

enum GroupMessage : uint8_t {
  kGroupJoin = 32,     // participant -> coordinator, first frame: rank, N, known group
  kGroupWelcome = 33,  // coordinator -> participant: group id, next round
  kGroupPrepare = 34,  // coordinator -> all: take your part of round r
  kGroupVote = 35,     // participant -> coordinator: yes (checkpoint, store) or no (reason)
  kGroupCommit = 36,   // coordinator -> all: round r is committed
  kGroupAbort = 37,    // coordinator -> all: round r is aborted, and why
  kGroupRefused = 38,  // coordinator -> participant, then close: why it is refused
};

struct JoinMsg {
  uint32_t rank = 0;
  uint32_t size = 0;
  std::string group;  // 32 hex digits, or "" for a participant that knows none yet
};

struct WelcomeMsg {
  std::string group;
  uint64_t next_round = 0;
};

struct VoteMsg {
  uint64_t round = 0;
  bool yes = false;
  std::string checkpoint;  // yes: local checkpoint id (32 hex digits)
  std::string store;       // yes: absolute store path
  std::string store_uuid;  // yes: 32 hex digits
  uint64_t epoch = 0;
  std::string reason;  // no: why
};

// Round-only messages (PREPARE, COMMIT) and ABORT/REFUSED (round + text).
struct RoundMsg {
  uint64_t round = 0;
  std::string text;
};

std::vector<uint8_t> encode(const JoinMsg& m);
std::vector<uint8_t> encode(const WelcomeMsg& m);
std::vector<uint8_t> encode(const VoteMsg& m);
std::vector<uint8_t> encode(const RoundMsg& m);
// Each decoder refuses trailing bytes and malformed ids; the error names `peer`.
Result<JoinMsg> decode_join(std::span<const uint8_t> body, const std::string& peer);
Result<WelcomeMsg> decode_welcome(std::span<const uint8_t> body, const std::string& peer);
Result<VoteMsg> decode_vote(std::span<const uint8_t> body, const std::string& peer);
Result<RoundMsg> decode_round(std::span<const uint8_t> body, const std::string& peer);

}  // namespace ckpt
