#include "replication/primary_stream.h"

#include <unistd.h>

#include <unordered_set>

#include "replication/epoch.h"
#include "replication/wire.h"
#include "store/format.h"
#include "store/tree.h"
#include "util/fs.h"

namespace ckpt {
namespace {

constexpr size_t kOfferSlice = 65536;          // entries per OFFER
constexpr size_t kBatchBytes = 1u << 20;       // raw bytes per OBJECTS frame
constexpr int kCommitAllowanceMs = 60 * 1000;  // the spare fsyncs before it acks

}  // namespace

Result<std::unique_ptr<PrimaryStream>> PrimaryStream::start(const ReplicationOptions& options,
                                                            const std::string& store_path,
                                                            Log log) {
  std::unique_ptr<PrimaryStream> s(new PrimaryStream());
  s->opt_ = options;
  s->log_ = std::move(log);
  CKPT_ASSIGN_OR_RETURN(s->psk_, read_psk(options.psk_file));
  CKPT_ASSIGN_OR_RETURN(s->reader_, StoreImpl::open(store_path, {}));
  CKPT_ASSIGN_OR_RETURN(s->epoch_, load_epoch(store_path));
  CKPT_ASSIGN_OR_RETURN(uint64_t seq, s->reader_->max_seq());
  if (seq > 0) {
    CKPT_ASSIGN_OR_RETURN(s->target_id_, s->reader_->resolve("latest"));
  }
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  s->name_ = std::string(host) + " pid " + std::to_string(::getpid());
  s->state_.enabled = true;
  s->state_.epoch = s->epoch_;
  s->state_.committed_seq = seq;
  s->state_.lag = seq;  // until the spare says what it has
  s->thread_ = std::thread([p = s.get()] { p->run(); });
  return s;
}

PrimaryStream::~PrimaryStream() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void PrimaryStream::committed(uint64_t seq, const std::string& id_hex) {
  std::lock_guard<std::mutex> lk(mu_);
  state_.committed_seq = seq;
  target_id_ = id_hex;
  state_.lag = seq > state_.acked_seq ? seq - state_.acked_seq : 0;
  cv_.notify_all();
}

Status PrimaryStream::wait_acked(uint64_t seq) {
  std::unique_lock<std::mutex> lk(mu_);
  auto done = [&] { return state_.fenced || state_.acked_seq >= seq || stop_; };
  if (opt_.sync_timeout_ms == 0) {
    cv_.wait(lk, done);
  } else if (!cv_.wait_for(lk, std::chrono::milliseconds(opt_.sync_timeout_ms), done)) {
    return Status(Code::kIoError, "spare " + opt_.spare + " did not acknowledge checkpoint seq " +
                                      std::to_string(seq) + " within " +
                                      std::to_string(opt_.sync_timeout_ms) + " ms (" +
                                      state_.last_error + ")");
  }
  if (state_.fenced) return Status(Code::kFailedPrecondition, "fenced: " + state_.last_error);
  return {};
}

Status PrimaryStream::wait_lag() {
  std::unique_lock<std::mutex> lk(mu_);
  cv_.wait(lk, [&] { return state_.fenced || stop_ || state_.lag <= opt_.max_lag; });
  if (state_.fenced) return Status(Code::kFailedPrecondition, "fenced: " + state_.last_error);
  return {};
}

ReplicationState PrimaryStream::state() const {
  std::lock_guard<std::mutex> lk(mu_);
  return state_;
}

void PrimaryStream::fail(const Status& st) {
  std::lock_guard<std::mutex> lk(mu_);
  state_.connected = false;
  state_.last_error = st.message();
  if (st.message() != logged_error_ && log_)
    log_("replication to " + opt_.spare + ": " + st.message());
  logged_error_ = st.message();
}

void PrimaryStream::run() {
  for (;;) {
    {
      std::lock_guard<std::mutex> lk(mu_);
      if (stop_ || state_.fenced) return;
    }
    auto ch = SecureChannel::connect(opt_.spare, psk_, static_cast<int>(opt_.timeout_ms));
    Status st = ch.ok() ? session(*ch) : ch.status();
    {
      std::lock_guard<std::mutex> lk(mu_);
      if (stop_) return;
    }
    fail(st);
    std::unique_lock<std::mutex> lk(mu_);
    if (state_.fenced) {
      lk.unlock();
      if (opt_.on_fenced) opt_.on_fenced(st.message());
      cv_.notify_all();
      return;
    }
    cv_.wait_for(lk, std::chrono::milliseconds(100), [&] { return stop_; });
  }
}

Result<Frame> PrimaryStream::reply(SecureChannel& ch, uint8_t expected, int timeout_ms) {
  for (;;) {
    CKPT_ASSIGN_OR_RETURN(Frame f, ch.receive(timeout_ms));
    if (f.type == kMsgHeartbeat) continue;
    if (f.type == kMsgRefused)
      return Status(Code::kFailedPrecondition,
                    "spare refused: " + std::string(f.body.begin(), f.body.end()));
    if (f.type != expected)
      return Status(Code::kCorruption, "spare sent message type " + std::to_string(f.type) +
                                           ", expected " + std::to_string(expected));
    return f;
  }
}

Status PrimaryStream::session(SecureChannel& ch) {
  const int timeout = static_cast<int>(opt_.timeout_ms);
  Hello hello{.epoch = epoch_,
              .chunk_size = reader_->header().chunk_size,
              .fanout = reader_->header().fanout,
              .primary = name_};
  auto body = encode_hello(hello);
  CKPT_RETURN_IF_ERROR(ch.send(kMsgHello, body));
  auto frame = reply(ch, kMsgWelcome, timeout);
  if (!frame.ok())
    return frame.status().with_context(
        "hello (a spare that closes here was given a different pre-shared key)");
  CKPT_ASSIGN_OR_RETURN(Welcome w, decode_welcome(frame->body));
  if (w.verdict != Verdict::kAccepted) {
    std::lock_guard<std::mutex> lk(mu_);
    state_.fenced = w.verdict == Verdict::kFenced;
    return Status(Code::kFailedPrecondition,
                  "spare " + opt_.spare + " refused this primary: " + w.message);
  }
  {
    std::lock_guard<std::mutex> lk(mu_);
    state_.connected = true;
    state_.acked_seq = std::max(state_.acked_seq, w.latest_seq);
    state_.lag =
        state_.committed_seq > state_.acked_seq ? state_.committed_seq - state_.acked_seq : 0;
    state_.last_error.clear();
    logged_error_.clear();
  }
  if (log_)
    log_("replicating to spare " + opt_.spare + " (it has seq " + std::to_string(w.latest_seq) +
         ")");
  uint64_t heard = monotonic_ns(), sent = monotonic_ns();
  for (;;) {
    uint64_t seq = 0;
    std::string id;
    {
      std::unique_lock<std::mutex> lk(mu_);
      cv_.wait_for(lk, std::chrono::milliseconds(opt_.heartbeat_ms / 2 + 1),
                   [&] { return stop_ || state_.committed_seq > state_.acked_seq; });
      if (stop_) return Status(Code::kFailedPrecondition, "replication stopped");
      if (state_.committed_seq > state_.acked_seq) {
        seq = state_.committed_seq;
        id = target_id_;
      }
    }
    if (seq) {
      CKPT_RETURN_IF_ERROR(ship(ch, seq, id).with_context("checkpoint seq " + std::to_string(seq)));
      heard = sent = monotonic_ns();
      continue;
    }
    CKPT_ASSIGN_OR_RETURN(bool ready, ch.readable(0));
    if (ready) {
      CKPT_ASSIGN_OR_RETURN(Frame f, ch.receive(timeout));
      if (f.type != kMsgHeartbeat)
        return Status(Code::kCorruption, "unexpected message " + std::to_string(f.type));
      heard = monotonic_ns();
    }
    if ((monotonic_ns() - heard) / 1000000 > opt_.timeout_ms)
      return Status(Code::kIoError, "spare " + opt_.spare + " silent for more than " +
                                        std::to_string(opt_.timeout_ms) + " ms");
    if ((monotonic_ns() - sent) / 1000000 >= opt_.heartbeat_ms) {
      CKPT_RETURN_IF_ERROR(ch.send(kMsgHeartbeat, {}));
      sent = monotonic_ns();
    }
  }
}

Status PrimaryStream::ship(SecureChannel& ch, uint64_t seq, const std::string& id_hex) {
  const int timeout = static_cast<int>(opt_.timeout_ms);
  const std::string path = reader_->layout().manifest(id_hex);
  CKPT_ASSIGN_OR_RETURN(auto bytes, read_file(path));
  CKPT_ASSIGN_OR_RETURN(Manifest m, decode_manifest(bytes, path));
  CKPT_ASSIGN_OR_RETURN(ObjectStore * objects, reader_->objects());
  std::vector<OfferEntry> frontier;
  std::unordered_set<Digest, DigestHash> seen;
  for (const auto& s : m.streams)
    if (s.root != Digest{} && seen.insert(s.root).second)
      frontier.push_back({format::kObjectNode, s.root});
  uint64_t objects_sent = 0, bytes_sent = 0;
  std::vector<uint8_t> raw;
  std::vector<Digest> children;
  while (!frontier.empty()) {
    std::vector<OfferEntry> next;
    for (size_t from = 0; from < frontier.size(); from += kOfferSlice) {
      std::span<const OfferEntry> slice(frontier.data() + from,
                                        std::min(kOfferSlice, frontier.size() - from));
      auto offer = encode_offer(slice);
      CKPT_RETURN_IF_ERROR(ch.send(kMsgOffer, offer));
      CKPT_ASSIGN_OR_RETURN(Frame f, reply(ch, kMsgWant, timeout));
      CKPT_ASSIGN_OR_RETURN(auto want, decode_want(f.body, slice.size()));
      ObjectBatch batch;
      for (size_t i = 0; i < slice.size(); ++i) {
        if (!want[i]) continue;
        const OfferEntry& e = slice[i];
        if (!objects->contains(e.id)) {  // committed by the writer after our index load
          reader_->reload_objects();
          CKPT_ASSIGN_OR_RETURN(objects, reader_->objects());
        }
        CKPT_RETURN_IF_ERROR(objects->read(e.id, e.type, raw));
        batch.add(e.type, e.id, raw);
        ++objects_sent;
        bytes_sent += raw.size();
        if (e.type == format::kObjectNode) {
          uint8_t level = 0;
          CKPT_RETURN_IF_ERROR(decode_node(raw, m.fanout, level, children, e.id.hex()));
          for (const auto& c : children)
            if (c != Digest{} && seen.insert(c).second)
              next.push_back({level == 0 ? format::kObjectChunk : format::kObjectNode, c});
        }
        if (batch.bytes() >= kBatchBytes) CKPT_RETURN_IF_ERROR(ch.send(kMsgObjects, batch.take()));
      }
      if (batch.count()) CKPT_RETURN_IF_ERROR(ch.send(kMsgObjects, batch.take()));
    }
    frontier = std::move(next);
  }
  CKPT_RETURN_IF_ERROR(ch.send(kMsgManifest, bytes));
  CKPT_ASSIGN_OR_RETURN(Frame f, reply(ch, kMsgAck, timeout + kCommitAllowanceMs));
  CKPT_ASSIGN_OR_RETURN(Ack ack, decode_ack(f.body));
  if (ack.seq != seq || ack.id != m.id)
    return Status(Code::kCorruption, "spare acknowledged seq " + std::to_string(ack.seq) +
                                         ", expected " + std::to_string(seq));
  std::lock_guard<std::mutex> lk(mu_);
  state_.acked_seq = std::max(state_.acked_seq, seq);
  state_.lag =
      state_.committed_seq > state_.acked_seq ? state_.committed_seq - state_.acked_seq : 0;
  state_.objects_sent += objects_sent;
  state_.bytes_sent += bytes_sent;
  cv_.notify_all();
  return {};
}

}  // namespace ckpt
