#include "replication/primary_stream.h"

#include <unistd.h>

#include <set>
#include <unordered_set>

#include "crypt/envelope.h"
#include "replication/epoch.h"
#include "replication/wire.h"
#include "store/format.h"
#include "store/store_crypto.h"
#include "util/fs.h"
#include "util/time_units.h"

namespace ckpt {
namespace {

constexpr size_t kOfferSlice = 65536;          // entries per OFFER
constexpr size_t kBatchBytes = 1u << 20;       // raw bytes per OBJECTS frame
constexpr int kCommitAllowanceMs = 60 * 1000;  // the spare fsyncs before it acks

}  // namespace

Result<std::unique_ptr<PrimaryStream>> PrimaryStream::start(const ReplicationOptions& options,
                                                            const std::string& store_path,
                                                            const StoreOptions& store_options,
                                                            Log log) {
  std::unique_ptr<PrimaryStream> s(new PrimaryStream());
  s->opt_ = options;
  s->log_ = std::move(log);
  CKPT_ASSIGN_OR_RETURN(s->psk_, read_psk(options.psk_file));
  StoreOptions reader_options;  // read only: the identity, no writer key
  reader_options.identity = store_options.identity;
  CKPT_ASSIGN_OR_RETURN(s->reader_, StoreImpl::open(store_path, reader_options));
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

void PrimaryStream::committed(uint64_t seq, const std::string& id_hex, SharedTrees trees) {
  std::lock_guard<std::mutex> lk(mu_);
  state_.committed_seq = seq;
  target_id_ = id_hex;
  target_trees_ = std::move(trees);
  update_lag_locked();
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
  auto done = [&] { return state_.fenced || stop_ || state_.lag <= opt_.max_lag; };
  if (opt_.mode == ReplicationMode::kSync && opt_.sync_timeout_ms > 0) {
    if (!cv_.wait_for(lk, std::chrono::milliseconds(opt_.sync_timeout_ms), done))
      return Status(Code::kIoError, "spare " + opt_.spare + " is " + std::to_string(state_.lag) +
                                        " checkpoints behind for more than " +
                                        std::to_string(opt_.sync_timeout_ms) + " ms (" +
                                        state_.last_error + ")");
  } else {
    cv_.wait(lk, done);
  }
  if (state_.fenced) return Status(Code::kFailedPrecondition, "fenced: " + state_.last_error);
  return {};
}

ReplicationState PrimaryStream::state() const {
  std::lock_guard<std::mutex> lk(mu_);
  return state_;
}

void PrimaryStream::update_lag_locked() {
  state_.lag =
      state_.committed_seq > state_.acked_seq ? state_.committed_seq - state_.acked_seq : 0;
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
    if (ch.ok() && !ch->peer_closed()) {
      // Closing on purpose: tell the spare, so it waits for a reconnect before taking
      // over (a connection that just ends means this process died).
      std::string why = st.message();
      (void)ch->send(kMsgGoodbye,
                     std::span(reinterpret_cast<const uint8_t*>(why.data()), why.size()));
    }
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
              .flags = static_cast<uint8_t>(reader_->encrypted() ? kHelloEncrypted : 0),
              .store_uuid = reader_->header().uuid,
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
    update_lag_locked();
    state_.last_error.clear();
    logged_error_.clear();
  }
  if (reader_->encrypted()) CKPT_RETURN_IF_ERROR(send_store_files(ch));
  if (log_)
    log_("replicating to spare " + opt_.spare + " (it has seq " + std::to_string(w.latest_seq) +
         ")");
  uint64_t heard = monotonic_ns(), sent = monotonic_ns();
  SharedTrees base;  // trees of the last checkpoint acked on this connection
  for (;;) {
    uint64_t seq = 0;
    std::string id;
    SharedTrees trees;
    {
      std::unique_lock<std::mutex> lk(mu_);
      auto due = [&] {
        return state_.committed_seq > state_.acked_seq && state_.committed_seq != unshippable_seq_;
      };
      cv_.wait_for(lk, std::chrono::milliseconds(opt_.heartbeat_ms / 2 + 1),
                   [&] { return stop_ || due(); });
      if (stop_) return Status(Code::kFailedPrecondition, "replication stopped (primary closing)");
      if (due()) {
        seq = state_.committed_seq;
        id = target_id_;
        trees = target_trees_;
      }
    }
    if (seq) {
      auto shipment = load_shipment(*reader_, seq, id, std::move(trees));
      if (!shipment.ok() && shipment.status().code() == Code::kFailedPrecondition) {
        if (log_) log_(shipment.status().message());
        std::lock_guard<std::mutex> lk(mu_);
        unshippable_seq_ = seq;
        continue;
      }
      if (!shipment.ok()) return shipment.status();
      CKPT_RETURN_IF_ERROR(
          ship(ch, *shipment, base).with_context("checkpoint seq " + std::to_string(seq)));
      // The spare now holds every object of these trees, for the rest of this connection
      // (it holds its store's writer lock: nothing removes them meanwhile).
      base = shipment->trees;
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
    if (ns_to_whole_ms(monotonic_ns() - heard) > opt_.timeout_ms)
      return Status(Code::kIoError, "spare " + opt_.spare + " silent for more than " +
                                        std::to_string(opt_.timeout_ms) + " ms");
    if (ns_to_whole_ms(monotonic_ns() - sent) >= opt_.heartbeat_ms) {
      CKPT_RETURN_IF_ERROR(ch.send(kMsgHeartbeat, {}));
      sent = monotonic_ns();
    }
  }
}

Status PrimaryStream::send_store_files(SecureChannel& ch) {
  const StoreLayout& l = reader_->layout();
  StoreFiles files;
  CKPT_ASSIGN_OR_RETURN(files.header, read_file(l.header()));
  CKPT_ASSIGN_OR_RETURN(files.dedup_key, read_file(l.dedup_key()));
  CKPT_ASSIGN_OR_RETURN(files.recipients, read_file(l.recipients()));
  return ch.send(kMsgStore, encode_store_files(files));
}

Status PrimaryStream::ship(SecureChannel& ch, const Shipment& s, const SharedTrees& base) {
  const int timeout = static_cast<int>(opt_.timeout_ms);
  uint64_t objects_sent = 0, bytes_sent = 0;
  std::set<crypt::KeyId> keys;  // data keys of the sealed objects sent
  CKPT_RETURN_IF_ERROR(send_objects(ch, s, base, keys, objects_sent, bytes_sent));
  if (s.sealed) {
    // Objects shared with older checkpoints were sealed under those checkpoints' data
    // keys, which a spare that skipped them lacks: every key an object needs goes along.
    keys.erase(s.key_id);
    for (const auto& k : keys) {
      const std::string path = reader_->layout().key(crypt::key_id_hex(k));
      auto bytes = read_file(path);
      if (!bytes.ok()) return bytes.status().with_context("data key of objects sent");
      CKPT_RETURN_IF_ERROR(ch.send(kMsgKey, encode_key_file({.id = k, .bytes = *bytes})));
    }
    CKPT_RETURN_IF_ERROR(ch.send(kMsgKey, encode_key_file({.id = s.key_id, .bytes = s.key_file})));
  }
  CKPT_RETURN_IF_ERROR(ch.send(kMsgManifest, s.manifest_file));
  CKPT_ASSIGN_OR_RETURN(Frame f, reply(ch, kMsgAck, timeout + kCommitAllowanceMs));
  CKPT_ASSIGN_OR_RETURN(Ack ack, decode_ack(f.body));
  if (ack.seq != s.seq || ack.id != s.id)
    return Status(Code::kCorruption, "spare acknowledged seq " + std::to_string(ack.seq) +
                                         ", expected " + std::to_string(s.seq));
  std::lock_guard<std::mutex> lk(mu_);
  state_.acked_seq = std::max(state_.acked_seq, s.seq);
  update_lag_locked();
  state_.objects_sent += objects_sent;
  state_.bytes_sent += bytes_sent;
  cv_.notify_all();
  return {};
}

Status PrimaryStream::send_objects(SecureChannel& ch, const Shipment& s, const SharedTrees& base,
                                   std::set<crypt::KeyId>& keys, uint64_t& objects_sent,
                                   uint64_t& bytes_sent) {
  const int timeout = static_cast<int>(opt_.timeout_ms);
  const uint64_t fanout = reader_->header().fanout;
  // A place in one of the trees: tree t, level (0 = chunks), index within the level.
  struct Pos {
    uint32_t tree;
    uint32_t level;
    uint64_t index;
  };
  const std::vector<TreeLevels>& trees = *s.trees;
  auto digest_at = [&](const Pos& p) -> const Digest& { return trees[p.tree][p.level][p.index]; };
  // Known to the spare without asking: the same digest at the same place in the trees it
  // acknowledged on this connection (a changed page is offered alone, not with its 63
  // unchanged neighbours in the leaf above it).
  auto in_base = [&](const Pos& p) {
    if (!base || p.tree >= base->size()) return false;
    const TreeLevels& b = (*base)[p.tree];
    return p.level < b.size() && p.index < b[p.level].size() && b[p.level][p.index] == digest_at(p);
  };
  std::vector<Pos> frontier;
  std::unordered_set<Digest, DigestHash> seen;
  for (uint32_t t = 0; t < trees.size(); ++t) {
    const TreeLevels& levels = trees[t];
    if (levels.empty() || levels.back().size() != 1) continue;
    Pos root{t, static_cast<uint32_t>(levels.size() - 1), 0};
    if (digest_at(root) != Digest{} && !in_base(root) && seen.insert(digest_at(root)).second)
      frontier.push_back(root);
  }
  CKPT_ASSIGN_OR_RETURN(ObjectStore * objects, reader_->objects());
  std::vector<uint8_t> stored;
  std::vector<OfferEntry> offer;
  RecordHeader hdr;
  while (!frontier.empty()) {
    std::vector<Pos> next;
    for (size_t from = 0; from < frontier.size(); from += kOfferSlice) {
      const size_t n = std::min(kOfferSlice, frontier.size() - from);
      offer.clear();
      for (size_t i = 0; i < n; ++i) {
        const Pos& p = frontier[from + i];
        offer.push_back({p.level == 0 ? format::kObjectChunk : format::kObjectNode, digest_at(p)});
      }
      CKPT_RETURN_IF_ERROR(ch.send(kMsgOffer, encode_offer(offer)));
      CKPT_ASSIGN_OR_RETURN(Frame f, reply(ch, kMsgWant, timeout));
      CKPT_ASSIGN_OR_RETURN(auto want, decode_want(f.body, n));
      ObjectBatch batch;
      for (size_t i = 0; i < n; ++i) {
        if (!want[i]) continue;
        const OfferEntry& e = offer[i];
        if (!objects->contains(e.id)) {  // committed by the writer after our index load
          CKPT_RETURN_IF_ERROR(reader_->refresh_objects());
          CKPT_ASSIGN_OR_RETURN(objects, reader_->objects());
        }
        CKPT_RETURN_IF_ERROR(objects->read_stored(e.id, hdr, stored));
        if (hdr.type != e.type)
          return Status(Code::kCorruption, objects->describe(e.id) + " is a " +
                                               object_type_name(hdr.type) + ", the tree says " +
                                               object_type_name(e.type));
        if (hdr.codec & format::kCodecSealed) {
          crypt::KeyId key;
          if (!crypt::envelope_key_id(stored, key))
            return Status(Code::kCorruption,
                          objects->describe(e.id) + " is too short to be sealed");
          keys.insert(key);
        }
        batch.add(hdr.type, hdr.codec, hdr.raw_len, e.id, stored);
        ++objects_sent;
        bytes_sent += stored.size();
        const Pos& p = frontier[from + i];
        if (p.level > 0) {
          const auto& below = trees[p.tree][p.level - 1];
          const uint64_t end = std::min<uint64_t>(below.size(), (p.index + 1) * fanout);
          for (uint64_t c = p.index * fanout; c < end; ++c) {
            const Pos child{p.tree, p.level - 1, c};
            if (below[c] != Digest{} && !in_base(child) && seen.insert(below[c]).second)
              next.push_back(child);
          }
        }
        if (batch.bytes() >= kBatchBytes) CKPT_RETURN_IF_ERROR(ch.send(kMsgObjects, batch.take()));
      }
      if (batch.count()) CKPT_RETURN_IF_ERROR(ch.send(kMsgObjects, batch.take()));
    }
    frontier = std::move(next);
  }
  return {};
}

}  // namespace ckpt
