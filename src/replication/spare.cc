// The spare: accepts a primary, applies its stream (SpareSession), watches heartbeats,
// and takes over when the primary is lost. After a takeover it keeps refusing
// (fencing) primaries with an older epoch. Why and in what order: docs/replication.md.
#include <ckpt/replication.h>
#include <fcntl.h>

#include <atomic>
#include <cstdio>
#include <thread>

#include "replication/epoch.h"
#include "replication/net.h"
#include "replication/peer_gate.h"
#include "replication/replica_store.h"
#include "replication/secure_channel.h"
#include "replication/spare_session.h"
#include "replication/wire.h"
#include "store/store_impl.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/time_units.h"

namespace ckpt {

class SpareImpl {
 public:
  SpareOptions opt;
  PreSharedKey psk{};
  UniqueFd listener;
  std::unique_ptr<PeerGate> gate;  // on `listener`
  std::string address;
  std::unique_ptr<StoreImpl> store;
  std::atomic<uint64_t> epoch{0};
  std::atomic<bool> stop{false};
  std::thread fencer;

  ~SpareImpl() {
    stop = true;
    if (fencer.joinable()) fencer.join();
  }

  void log(const std::string& msg) { log_to(opt.log, "ckpt spare", msg); }

  uint64_t elapsed_ms(uint64_t since_ns) const { return ns_to_whole_ms(monotonic_ns() - since_ns); }

  // The hello of a peer through the gate; nullopt (logged) when the peer is refused.
  // `taken_over`: this node is the primary now, so every primary is refused.
  std::optional<SecureChannel> admit(PeerGate::Admitted a, bool taken_over) {
    SecureChannel* ch = &a.channel;
    const std::string& peer = a.peer;
    Result<Hello> hello =
        a.first.type == kMsgHello
            ? decode_hello(a.first.body)
            : Result<Hello>(Status(Code::kCorruption, "first message is not hello (type " +
                                                          std::to_string(a.first.type) + ")"));
    if (!hello.ok()) {
      log("refused peer " + peer + ": " + hello.status().message());
      return std::nullopt;
    }
    Welcome w{.epoch = epoch};
    const auto& h = taken_over ? StoreHeader{} : store->header();
    bool adopt = false;
    uint64_t latest_seq = 0;  // the spare's newest checkpoint (one manifest scan)
    Status replica;
    if (!taken_over) {
      auto seq = store->max_seq();
      latest_seq = seq.ok() ? *seq : 0;
      replica = check_replica(*store, *hello, latest_seq, adopt);
    }
    if (hello->epoch < epoch) {
      w.verdict = Verdict::kFenced;
      w.message = "a takeover happened: the spare is at epoch " + std::to_string(epoch) +
                  ", this primary at " + std::to_string(hello->epoch);
    } else if (taken_over) {
      w.verdict = Verdict::kIncompatible;
      w.message = "this node took over at epoch " + std::to_string(epoch) + "; it is no spare";
    } else if (!replica.ok()) {
      w.verdict = Verdict::kIncompatible;
      w.message = replica.message();
    } else if (!adopt && (hello->chunk_size != h.chunk_size || hello->fanout != h.fanout)) {
      w.verdict = Verdict::kIncompatible;
      w.message = "chunk size/fanout " + std::to_string(hello->chunk_size) + "/" +
                  std::to_string(hello->fanout) + " differ from the spare's store (" +
                  std::to_string(h.chunk_size) + "/" + std::to_string(h.fanout) + ")";
    }
    if (w.verdict == Verdict::kAccepted) {
      if (hello->epoch > epoch) {
        if (Status st = store_epoch(opt.store, hello->epoch); !st.ok()) {
          log("cannot record epoch " + std::to_string(hello->epoch) + ": " + st.message());
          return std::nullopt;
        }
        epoch = hello->epoch;
        w.epoch = epoch;
      }
      w.latest_seq = latest_seq;
    } else {
      log("refused primary " + hello->primary + " at " + peer + ": " + w.message);
    }
    auto body = encode_welcome(w);
    if (Status st = ch->send(kMsgWelcome, body); !st.ok() || w.verdict != Verdict::kAccepted)
      return std::nullopt;
    if (hello->flags & kHelloEncrypted) {
      if (Status st = receive_store_files(*ch, hello->store_uuid, adopt); !st.ok()) {
        log("refused primary " + hello->primary + " at " + peer + ": " + st.message());
        return std::nullopt;
      }
    }
    log("primary " + hello->primary + " connected from " + peer + " (epoch " +
        std::to_string(epoch) + ", spare has seq " + std::to_string(w.latest_seq) + ")");
    return std::move(a.channel);
  }

  // An encrypted primary's STORE message, right after WELCOME.
  Status receive_store_files(SecureChannel& ch, const std::array<uint8_t, 16>& uuid, bool adopt) {
    CKPT_ASSIGN_OR_RETURN(Frame f, ch.receive(static_cast<int>(opt.timeout_ms)));
    if (f.type != kMsgStore)
      return Status(Code::kCorruption, "expected the store's files after the welcome");
    CKPT_ASSIGN_OR_RETURN(StoreFiles files, decode_store_files(f.body));
    CKPT_RETURN_IF_ERROR(apply_store_files(store, opt.store_options, files, uuid, adopt));
    if (adopt) log("the store is now a replica of the primary's encrypted store");
    return {};
  }

  struct Lost {
    std::string why;
    // The primary said it closes on purpose (GOODBYE), or the spare refused a checkpoint:
    // it is expected back, so the spare waits timeout_ms before taking over. A connection
    // that just ends (the process died and its kernel closed the socket) or goes silent
    // for timeout_ms means the primary is gone: take over at once.
    bool expected_back = false;
  };

  // Applies the stream until the connection ends; returns why it ended.
  Lost serve(SecureChannel& ch) {
    SpareSession session(*store, ch);
    uint64_t heard = monotonic_ns(), sent = monotonic_ns();
    while (!stop) {
      auto ready = ch.readable(static_cast<int>(opt.heartbeat_ms));
      if (!ready.ok()) return {ready.status().message(), false};
      if (*ready) {
        auto frame = ch.receive(static_cast<int>(opt.timeout_ms));
        // Closed, reset or silent mid-frame: gone. A garbled frame: the primary will
        // reconnect (and a peer without the key never got this far).
        if (!frame.ok())
          return {frame.status().message(),
                  !ch.peer_closed() && frame.status().code() == Code::kCorruption};
        heard = monotonic_ns();
        if (frame->type == kMsgGoodbye)
          return {
              "it closed the connection: " + std::string(frame->body.begin(), frame->body.end()),
              true};
        if (Status st = session.handle(*frame); !st.ok()) {
          std::string why = "refused the checkpoint in flight, store unchanged: " + st.message();
          std::vector<uint8_t> body(why.begin(), why.end());
          (void)ch.send(kMsgRefused, body);
          return {why, true};
        }
      } else if (elapsed_ms(heard) > opt.timeout_ms) {
        return {"no heartbeat for " + std::to_string(elapsed_ms(heard)) + " ms", false};
      }
      if (elapsed_ms(sent) >= opt.heartbeat_ms) {
        if (Status st = ch.send(kMsgHeartbeat, {}); !st.ok()) return {st.message(), false};
        sent = monotonic_ns();
      }
    }
    return {"stopped", true};
  }

  void fence_loop() {
    while (!stop)
      if (auto a = gate->next(100)) (void)admit(std::move(*a), true);
  }
};

Spare::Spare(std::unique_ptr<SpareImpl> impl) : impl_(std::move(impl)) {}
Spare::~Spare() = default;

Result<std::unique_ptr<Spare>> Spare::start(const SpareOptions& options) {
  auto impl = std::make_unique<SpareImpl>();
  impl->opt = options;
  CKPT_ASSIGN_OR_RETURN(impl->psk, read_psk(options.psk_file));
  CKPT_ASSIGN_OR_RETURN(impl->store, StoreImpl::open(options.store, options.store_options));
  CKPT_RETURN_IF_ERROR(impl->store->lock_writer("receive checkpoints as a spare"));
  CKPT_ASSIGN_OR_RETURN(uint64_t epoch, load_epoch(options.store));
  impl->epoch = epoch;
  CKPT_ASSIGN_OR_RETURN(impl->listener, listen_tcp(options.listen));
  impl->address = bound_address(impl->listener.get());
  ::fcntl(impl->listener.get(), F_SETFL, ::fcntl(impl->listener.get(), F_GETFL) | O_NONBLOCK);
  SpareImpl* I = impl.get();
  impl->gate = std::make_unique<PeerGate>(impl->listener.get(), impl->psk,
                                          static_cast<int>(options.timeout_ms),
                                          [I](const std::string& m) { I->log(m); });
  return std::unique_ptr<Spare>(new Spare(std::move(impl)));
}

std::string Spare::address() const { return impl_->address; }
uint64_t Spare::epoch() const { return impl_->epoch; }
void Spare::stop() { impl_->stop = true; }

Result<uint64_t> Spare::run_until_primary_lost() {
  SpareImpl& I = *impl_;
  if (!I.store) return Status(Code::kFailedPrecondition, "this spare has already taken over");
  uint64_t lost_at = 0;  // 0: no primary seen yet (or none expected back)
  while (!I.stop) {
    if (lost_at && I.elapsed_ms(lost_at) >= I.opt.timeout_ms) break;
    auto a = I.gate->next(static_cast<int>(I.opt.heartbeat_ms));
    if (!a) continue;
    const std::string peer = a->peer;
    auto ch = I.admit(std::move(*a), false);
    if (!ch) continue;
    SpareImpl::Lost lost = I.serve(*ch);
    if (!lost.expected_back) {
      I.log("primary at " + peer + " lost: " + lost.why + " (no goodbye: taking over now)");
      break;
    }
    I.log("primary at " + peer + " lost: " + lost.why + " (waiting " +
          std::to_string(I.opt.timeout_ms) + " ms for it to come back)");
    lost_at = monotonic_ns();
  }
  if (I.stop) return Status(Code::kFailedPrecondition, "spare stopped");
  const uint64_t next = I.epoch + 1;
  CKPT_RETURN_IF_ERROR(store_epoch(I.opt.store, next).with_context("take over"));
  I.epoch = next;
  I.store.reset();  // releases the writer lock for the new primary's Checkpointer
  I.log("taking over at epoch " + std::to_string(next) +
        "; primaries with an older epoch "
        "are refused from now on");
  I.fencer = std::thread([&I] { I.fence_loop(); });
  return next;
}

}  // namespace ckpt
