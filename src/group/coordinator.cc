// The coordinator of the group commit (docs/group.md, "Protocol"): admits participants
// through the hot spare's PeerGate, runs rounds, and writes the global manifest only
// when every rank voted yes for the round in progress.
#include <fcntl.h>
#include <poll.h>

#include <algorithm>

#include "group/global_manifest.h"
#include "group/group_wire.h"
#include "replication/net.h"
#include "replication/peer_gate.h"
#include "replication/secure_channel.h"
#include "util/fs.h"
#include "util/hex.h"

namespace ckpt {

namespace {

struct Member {
  SecureChannel channel;
  std::string peer;
  // The round this rank was told is aborted before its vote came in: that vote, when it
  // arrives, is late, not stale, and is dropped quietly.
  uint64_t late_round = 0;
};

int ms_until(uint64_t deadline_ns) {
  const uint64_t now = monotonic_ns();
  return now >= deadline_ns ? 0 : static_cast<int>((deadline_ns - now + 999'999) / 1'000'000);
}

}  // namespace

class GroupCoordinatorImpl {
 public:
  GroupCoordinatorOptions opt;
  PreSharedKey psk{};
  UniqueFd listener;
  std::string address;
  std::unique_ptr<PeerGate> gate;
  std::string group;
  uint64_t next_round = 1;
  std::vector<std::optional<Member>> members;

  void log(const std::string& m) const {
    if (opt.log) opt.log(m);
  }
  std::string who(uint32_t rank) const {
    return "rank " + std::to_string(rank) + " (peer " + members[rank]->peer + ")";
  }

  // Tells `ch` why it is refused and closes it.
  void refuse(SecureChannel& ch, uint64_t round, const std::string& why) {
    log("refused peer " + ch.peer() + ": " + why);
    (void)ch.send(kGroupRefused, encode(RoundMsg{.round = round, .text = why}));
    ch.close();
  }
  void drop(uint32_t rank, const std::string& why) {
    log("dropped " + who(rank) + ": " + why);
    members[rank].reset();
  }

  void admit(PeerGate::Admitted a) {
    SecureChannel& ch = a.channel;
    if (a.first.type != kGroupJoin) {
      refuse(ch, 0,
             "its first message (type " + std::to_string(a.first.type) +
                 ") is not a group JOIN: a replication primary or another program? "
                 "point it at its own port");
      return;
    }
    auto join = decode_join(a.first.body, a.peer);
    if (!join.ok()) return refuse(ch, 0, join.status().message());
    const uint32_t n = opt.size;
    if (join->size != n)
      return refuse(ch, 0,
                    "it joined a group of " + std::to_string(join->size) +
                        " ranks; this "
                        "group has " +
                        std::to_string(n) + ": start it with the group's size");
    if (join->rank >= n)
      return refuse(
          ch, 0, "rank " + std::to_string(join->rank) + " is outside 0.." + std::to_string(n - 1));
    if (!join->group.empty() && join->group != group)
      return refuse(ch, 0,
                    "it belongs to group " + join->group + ", this is group " + group +
                        ": a participant of another group directory");
    if (members[join->rank]) check_idle(join->rank);
    if (members[join->rank])
      return refuse(ch, 0,
                    "rank " + std::to_string(join->rank) + " is already held by peer " +
                        members[join->rank]->peer +
                        ": duplicate rank (give each participant its own rank)");
    if (Status st = ch.send(kGroupWelcome, encode(WelcomeMsg{group, next_round})); !st.ok()) {
      log("lost peer " + a.peer + " while welcoming it: " + st.message());
      return;
    }
    members[join->rank] = Member{.channel = std::move(ch), .peer = a.peer};
    log("rank " + std::to_string(join->rank) + " joined from " + a.peer);
  }

  void admit_waiting(int wait_ms) {
    for (auto a = gate->next(wait_ms); a; a = gate->next(0)) admit(std::move(*a));
  }

  // Between rounds a participant sends nothing: anything readable is a closed socket, a
  // late vote for an aborted round (dropped), or a participant from an old round.
  void check_idle(uint32_t rank) {
    Member& m = *members[rank];
    while (true) {
      auto ready = m.channel.readable(0);
      if (!ready.ok() || !*ready) return;
      auto f = m.channel.receive(opt.handshake_timeout_ms);
      if (!f.ok())
        return drop(rank, m.channel.peer_closed() ? "connection closed" : f.status().message());
      if (f->type == kGroupVote) {
        auto v = decode_vote(f->body, m.peer);
        if (v.ok() && v->round == m.late_round) {
          log("late vote of " + who(rank) + " for aborted round " + std::to_string(v->round) +
              " dropped");
          continue;
        }
        if (v.ok()) {
          refuse(m.channel, v->round, stale(rank, v->round, 0));
          return drop(rank, "vote for a round not in progress");
        }
      }
      refuse(m.channel, 0,
             "unexpected message type " + std::to_string(f->type) + " between rounds");
      return drop(rank, "protocol violation");
    }
  }

  std::string stale(uint32_t rank, uint64_t voted, uint64_t current) const {
    return "rank " + std::to_string(rank) + " voted for round " + std::to_string(voted) +
           (current ? ", but round " + std::to_string(current) + " is in progress"
                    : " while no round is in progress") +
           ": a participant from an old round is refused (restart it from the newest "
           "committed global checkpoint)";
  }

  // Votes of round `r` from every rank, until all are in or the deadline. Returns the
  // abort reason ("" if every rank voted yes); `votes` holds the yes votes by rank.
  std::string collect(uint64_t r, std::vector<std::optional<VoteMsg>>& votes) {
    const uint64_t deadline = monotonic_ns() + uint64_t(opt.vote_timeout_ms) * 1'000'000;
    std::string reason;
    auto fail = [&](std::string why) {
      if (reason.empty()) reason = std::move(why);
    };
    std::vector<bool> done(opt.size, false);
    for (uint32_t k = 0; k < opt.size; ++k)
      if (!members[k]) fail("rank " + std::to_string(k) + " was lost before PREPARE reached it");
    while (true) {
      std::vector<pollfd> fds;
      std::vector<uint32_t> ranks;
      for (uint32_t k = 0; k < opt.size; ++k)
        if (!done[k] && members[k]) {
          fds.push_back({members[k]->channel.fd(), POLLIN, 0});
          ranks.push_back(k);
        }
      if (fds.empty()) return reason;
      const int wait = ms_until(deadline);
      if (wait == 0) {
        std::string silent;
        for (uint32_t k : ranks) {
          silent += (silent.empty() ? "" : ", ") + who(k);
          members[k]->late_round = r;
        }
        fail(silent + " did not vote within " + std::to_string(opt.vote_timeout_ms) + " ms");
        return reason;
      }
      if (::poll(fds.data(), fds.size(), wait) < 0 && errno != EINTR)
        return Status::from_errno(errno, "poll participants").message();
      for (size_t i = 0; i < fds.size(); ++i) {
        if (!fds[i].revents) continue;
        const uint32_t k = ranks[i];
        Member& m = *members[k];
        auto f = m.channel.receive(ms_until(deadline));
        if (!f.ok()) {
          fail(who(k) + " was lost before voting: " +
               (m.channel.peer_closed() ? "connection closed" : f.status().message()));
          drop(k, f.status().message());
          continue;
        }
        auto v = f->type == kGroupVote
                     ? decode_vote(f->body, m.peer)
                     : Result<VoteMsg>(Status(
                           Code::kCorruption,
                           "message type " + std::to_string(f->type) + " where a VOTE was due"));
        if (v.ok() && v->round == m.late_round && v->round != r) continue;
        if (!v.ok() || v->round != r) {
          const std::string why = v.ok() ? stale(k, v->round, r) : v.status().message();
          fail(who(k) + ": " + why);
          refuse(m.channel, r, why);
          drop(k, why);
          continue;
        }
        done[k] = true;
        if (!v->yes)
          fail(who(k) + " voted no: " + v->reason);
        else
          votes[k] = std::move(v).value();
      }
    }
  }

  void tell_all(uint8_t type, const RoundMsg& msg) {
    for (uint32_t k = 0; k < opt.size; ++k) {
      if (!members[k]) continue;
      if (Status st = members[k]->channel.send(type, encode(msg)); !st.ok())
        drop(k, "could not tell it the outcome: " + st.message());
    }
  }

  // `prepared`: the ranks were sent PREPARE(r) and wait for the outcome.
  RoundOutcome abort(uint64_t r, std::string reason, bool prepared = true) {
    log("round " + std::to_string(r) + " aborted: " + reason);
    if (prepared) tell_all(kGroupAbort, RoundMsg{.round = r, .text = reason});
    return RoundOutcome{.round = r, .committed = false, .reason = std::move(reason)};
  }
};

GroupCoordinator::GroupCoordinator(std::unique_ptr<GroupCoordinatorImpl> impl)
    : impl_(std::move(impl)) {}
GroupCoordinator::~GroupCoordinator() = default;

Result<std::unique_ptr<GroupCoordinator>> GroupCoordinator::open(
    const GroupCoordinatorOptions& options) {
  if (options.size == 0 || options.size > kMaxGroupSize)
    return Status(Code::kInvalidArgument, "group size must be 1.." + std::to_string(kMaxGroupSize) +
                                              ", not " + std::to_string(options.size));
  auto impl = std::make_unique<GroupCoordinatorImpl>();
  impl->opt = options;
  CKPT_ASSIGN_OR_RETURN(impl->psk, read_psk(options.psk_file));
  CKPT_RETURN_IF_ERROR(make_dir(options.group_dir));
  // The group id and round numbers continue from the newest manifest, damaged or not.
  CKPT_ASSIGN_OR_RETURN(auto all, list_global_checkpoints(options.group_dir));
  if (!all.empty() && all.back().parts.size() != options.size)
    return Status(Code::kInvalidArgument,
                  "group directory " + options.group_dir + " holds a group of " +
                      std::to_string(all.back().parts.size()) + " ranks, not " +
                      std::to_string(options.size) + ": use the same size or a new directory");
  if (!all.empty()) impl->group = all.back().group;
  if (auto names = list_dir(options.group_dir + "/globals"); names.ok())
    for (const std::string& name : *names) {
      uint64_t round = 0;
      std::string group;
      if (parse_global_name(name, round, group))
        impl->next_round = std::max(impl->next_round, round + 1);
    }
  if (impl->group.empty()) impl->group = random_hex(16);
  impl->members.resize(options.size);
  CKPT_ASSIGN_OR_RETURN(impl->listener, listen_tcp(options.listen));
  impl->address = bound_address(impl->listener.get());
  const int fd = impl->listener.get();
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  GroupCoordinatorImpl* I = impl.get();
  impl->gate = std::make_unique<PeerGate>(fd, impl->psk, options.handshake_timeout_ms,
                                          [I](const std::string& m) { I->log(m); });
  return std::unique_ptr<GroupCoordinator>(new GroupCoordinator(std::move(impl)));
}

std::string GroupCoordinator::address() const { return impl_->address; }
std::string GroupCoordinator::group_id() const { return impl_->group; }
uint64_t GroupCoordinator::next_round() const { return impl_->next_round; }

std::vector<uint32_t> GroupCoordinator::connected() const {
  std::vector<uint32_t> out;
  for (uint32_t k = 0; k < impl_->opt.size; ++k)
    if (impl_->members[k]) out.push_back(k);
  return out;
}

Status GroupCoordinator::wait_for_participants(int timeout_ms) {
  GroupCoordinatorImpl& I = *impl_;
  const uint64_t deadline = monotonic_ns() + uint64_t(timeout_ms) * 1'000'000;
  while (connected().size() < I.opt.size) {
    const int wait = ms_until(deadline);
    if (wait == 0) {
      std::string missing;
      for (uint32_t k = 0; k < I.opt.size; ++k)
        if (!I.members[k]) missing += (missing.empty() ? "" : ", ") + std::to_string(k);
      return Status(Code::kFailedPrecondition,
                    "group " + I.group + ": ranks " + missing + " did not join " + I.address +
                        " within " + std::to_string(timeout_ms) +
                        " ms (are they started, with this address and pre-shared key?)");
    }
    I.admit_waiting(wait);
  }
  return Status();
}

Result<RoundOutcome> GroupCoordinator::run_round() {
  GroupCoordinatorImpl& I = *impl_;
  I.admit_waiting(0);
  for (uint32_t k = 0; k < I.opt.size; ++k)
    if (I.members[k]) I.check_idle(k);
  const uint64_t r = I.next_round++;
  for (uint32_t k = 0; k < I.opt.size; ++k)
    if (!I.members[k]) return I.abort(r, "rank " + std::to_string(k) + " is not connected", false);
  I.tell_all(kGroupPrepare, RoundMsg{.round = r});
  std::vector<std::optional<VoteMsg>> votes(I.opt.size);
  std::string reason = I.collect(r, votes);
  if (reason.empty() && std::count(votes.begin(), votes.end(), std::nullopt) > 0)
    reason = "a vote is missing";  // collect() names every way to lose one; never reached
  if (!reason.empty()) return I.abort(r, reason);

  GlobalCheckpoint g{.group = I.group, .round = r, .created_unix_ns = now_unix_ns()};
  for (uint32_t k = 0; k < I.opt.size; ++k)
    g.parts.push_back(GroupPart{.rank = k,
                                .store = votes[k]->store,
                                .store_uuid = votes[k]->store_uuid,
                                .checkpoint = votes[k]->checkpoint,
                                .epoch = votes[k]->epoch});
  if (Status st = write_global(I.opt.group_dir, g); !st.ok()) {
    (void)I.abort(r, "the global manifest could not be written: " + st.message());
    return st;
  }
  g.path = global_path(I.opt.group_dir, r, I.group);
  I.log("round " + std::to_string(r) + " committed: " + g.path);
  I.tell_all(kGroupCommit, RoundMsg{.round = r});
  return RoundOutcome{.round = r, .committed = true, .global = std::move(g)};
}

}  // namespace ckpt
