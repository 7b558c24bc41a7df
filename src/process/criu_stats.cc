#include "process/criu_stats.h"

namespace ckpt {

namespace {

// A protobuf wire-format reader: just varints and length-delimited fields.
class WireReader {
 public:
  explicit WireReader(std::span<const uint8_t> d) : d_(d) {}
  bool done() const { return pos_ >= d_.size(); }
  bool varint(uint64_t& v) {
    v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= d_.size()) return false;
      const uint8_t b = d_[pos_++];
      v |= uint64_t(b & 0x7f) << shift;
      if (!(b & 0x80)) return true;
    }
    return false;
  }
  bool bytes(std::span<const uint8_t>& out) {
    uint64_t n;
    if (!varint(n) || n > d_.size() - pos_) return false;
    out = d_.subspan(pos_, n);
    pos_ += n;
    return true;
  }
  // Skips a field of wire type `wt` (0 varint, 1 fixed64, 2 bytes, 5 fixed32).
  bool skip(uint64_t wt) {
    uint64_t v;
    std::span<const uint8_t> b;
    switch (wt) {
      case 0:
        return varint(v);
      case 1:
        return advance(8);
      case 2:
        return bytes(b);
      case 5:
        return advance(4);
    }
    return false;
  }

 private:
  bool advance(size_t n) {
    if (n > d_.size() - pos_) return false;
    pos_ += n;
    return true;
  }
  std::span<const uint8_t> d_;
  size_t pos_ = 0;
};

bool parse_dump_entry(std::span<const uint8_t> msg, CriuDumpStats& s) {
  WireReader r(msg);
  while (!r.done()) {
    uint64_t key, v;
    if (!r.varint(key)) return false;
    if ((key & 7) != 0) {
      if (!r.skip(key & 7)) return false;
      continue;
    }
    if (!r.varint(v)) return false;
    switch (key >> 3) {
      case 1:
        s.freezing_us = v;
        break;
      case 2:
        s.frozen_us = v;
        break;
      case 3:
        s.memdump_us = v;
        break;
      case 4:
        s.memwrite_us = v;
        break;
      case 7:
        s.pages_written = v;
        break;
    }
  }
  return true;
}

}  // namespace

Result<CriuDumpStats> parse_dump_stats(std::span<const uint8_t> image, const std::string& where) {
  auto bad = [&](const char* why) {
    return Status(Code::kCorruption, "CRIU stats image " + where + ": " + why);
  };
  if (image.size() < 12) return bad("too short");
  const uint32_t size = uint32_t(image[8]) | uint32_t(image[9]) << 8 | uint32_t(image[10]) << 16 |
                        uint32_t(image[11]) << 24;
  if (size > image.size() - 12) return bad("entry longer than the file");
  WireReader r(image.subspan(12, size));
  CriuDumpStats s;
  bool found = false;
  while (!r.done()) {
    uint64_t key;
    if (!r.varint(key)) return bad("malformed field");
    if (key == ((1 << 3) | 2)) {
      std::span<const uint8_t> msg;
      if (!r.bytes(msg) || !parse_dump_entry(msg, s)) return bad("malformed dump entry");
      found = true;
    } else if (!r.skip(key & 7)) {
      return bad("malformed field");
    }
  }
  if (!found) return bad("no dump statistics");
  return s;
}

}  // namespace ckpt
