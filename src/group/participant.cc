// One rank's side of the group commit (docs/group.md, "Protocol"): joins the
// coordinator, and at each consistent point the application reaches with a PREPARE
// waiting, takes its local checkpoint, makes it durable and votes.
#include <ckpt/checkpointer.h>
#include <ckpt/group.h>

#include <filesystem>

#include "group/group_wire.h"
#include "replication/epoch.h"
#include "replication/secure_channel.h"

namespace ckpt {

class GroupParticipantImpl {
 public:
  Checkpointer* cp = nullptr;  // borrowed; outlives the participant
  GroupParticipantOptions opt;
  std::optional<SecureChannel> channel;
  std::string group;
  std::string store_path, store_uuid;

  Status lost(const Status& st) const {
    if (channel->peer_closed())
      return Status(Code::kFailedPrecondition,
                    "coordinator " + opt.coordinator + " closed the connection of rank " +
                        std::to_string(opt.rank) +
                        " (it stopped, or refused this participant: its log says why); "
                        "restart from the newest committed global checkpoint");
    return st.with_context("rank " + std::to_string(opt.rank) + ", coordinator " + opt.coordinator);
  }
  Status refused(const Frame& f) const {
    auto m = decode_round(f.body, opt.coordinator);
    return Status(Code::kFailedPrecondition, "coordinator " + opt.coordinator + " refused rank " +
                                                 std::to_string(opt.rank) + ": " +
                                                 (m.ok() ? m->text : m.status().message()));
  }

  Result<RoundResult> round(uint64_t r) {
    RoundResult result{.round = r};
    VoteMsg vote{.round = r};
    auto id = cp->checkpoint({.labels = {"group-round-" + std::to_string(r)}});
    Status st = id.ok() ? cp->wait_for(*id) : id.status();
    if (st.ok()) result.checkpoint = *id;  // durable, whatever the vote
    if (st.ok() && opt.before_vote) st = opt.before_vote(r);
    Result<uint64_t> epoch = st.ok() ? load_epoch(store_path) : Result<uint64_t>(st);
    if (epoch.ok())
      vote = VoteMsg{.round = r,
                     .yes = true,
                     .checkpoint = *id,
                     .store = store_path,
                     .store_uuid = store_uuid,
                     .epoch = *epoch};
    else
      vote.reason = epoch.status().to_string();
    if (Status sent = channel->send(kGroupVote, encode(vote)); !sent.ok()) return lost(sent);
    auto f = channel->receive(opt.outcome_timeout_ms);
    if (!f.ok()) return lost(f.status());
    if (f->type == kGroupRefused) return refused(*f);
    if (f->type != kGroupCommit && f->type != kGroupAbort)
      return Status(Code::kCorruption, "coordinator " + opt.coordinator + " sent message type " +
                                           std::to_string(f->type) + " where an outcome was due");
    CKPT_ASSIGN_OR_RETURN(RoundMsg m, decode_round(f->body, opt.coordinator));
    if (m.round != r)
      return Status(Code::kCorruption, "coordinator " + opt.coordinator + " answered round " +
                                           std::to_string(m.round) + " to a vote for round " +
                                           std::to_string(r));
    result.committed = f->type == kGroupCommit;
    result.reason = m.text;
    return result;
  }
};

GroupParticipant::GroupParticipant(std::unique_ptr<GroupParticipantImpl> impl)
    : impl_(std::move(impl)) {}
GroupParticipant::~GroupParticipant() = default;

Result<std::unique_ptr<GroupParticipant>> GroupParticipant::join(
    Checkpointer& checkpointer, const GroupParticipantOptions& options) {
  auto impl = std::make_unique<GroupParticipantImpl>();
  impl->cp = &checkpointer;
  impl->opt = options;
  std::error_code ec;
  impl->store_path = std::filesystem::absolute(checkpointer.store().path(), ec).string();
  if (ec) impl->store_path = checkpointer.store().path();
  impl->store_uuid = checkpointer.store().summary().uuid;
  CKPT_ASSIGN_OR_RETURN(PreSharedKey psk, read_psk(options.psk_file));
  CKPT_ASSIGN_OR_RETURN(SecureChannel ch,
                        SecureChannel::connect(options.coordinator, psk, options.timeout_ms));
  impl->channel = std::move(ch);
  const std::string rank = "rank " + std::to_string(options.rank);
  CKPT_RETURN_IF_ERROR(
      impl->channel->send(kGroupJoin, encode(JoinMsg{.rank = options.rank, .size = options.size})));
  auto f = impl->channel->receive(options.timeout_ms);
  if (!f.ok() && impl->channel->peer_closed())
    return Status(Code::kFailedPrecondition,
                  "coordinator " + options.coordinator +
                      " closed the connection without "
                      "welcoming " +
                      rank +
                      ": it refused this participant (wrong pre-shared key? "
                      "use the coordinator's key file; its log says why)");
  if (!f.ok()) return f.status().with_context("join " + options.coordinator + " as " + rank);
  if (f->type == kGroupRefused) return impl->refused(*f);
  if (f->type != kGroupWelcome)
    return Status(Code::kCorruption, "coordinator " + options.coordinator +
                                         " answered JOIN with "
                                         "message type " +
                                         std::to_string(f->type));
  CKPT_ASSIGN_OR_RETURN(WelcomeMsg w, decode_welcome(f->body, options.coordinator));
  impl->group = w.group;
  return std::unique_ptr<GroupParticipant>(new GroupParticipant(std::move(impl)));
}

std::string GroupParticipant::group_id() const { return impl_->group; }

Result<std::optional<RoundResult>> GroupParticipant::poll(int wait_ms) {
  GroupParticipantImpl& I = *impl_;
  while (true) {
    CKPT_ASSIGN_OR_RETURN(bool ready, I.channel->readable(wait_ms));
    if (!ready) return std::optional<RoundResult>();
    auto f = I.channel->receive(I.opt.timeout_ms);
    if (!f.ok()) return I.lost(f.status());
    if (f->type == kGroupRefused) return I.refused(*f);
    CKPT_ASSIGN_OR_RETURN(RoundMsg m, decode_round(f->body, I.opt.coordinator));
    // An outcome outside a round is for one this rank gave up on (timed out): nothing to do.
    if (f->type == kGroupCommit || f->type == kGroupAbort) continue;
    if (f->type != kGroupPrepare)
      return Status(Code::kCorruption, "coordinator " + I.opt.coordinator + " sent message type " +
                                           std::to_string(f->type) + " between rounds");
    CKPT_ASSIGN_OR_RETURN(RoundResult r, I.round(m.round));
    return std::optional<RoundResult>(std::move(r));
  }
}

}  // namespace ckpt
