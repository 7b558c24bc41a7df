// Little-endian encoding helpers for the on-disk format. ByteReader never reads past
// its buffer: every getter reports failure instead, so parsers fed garbage (the fuzz
// targets do exactly that) fail cleanly.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "util/digest.h"

namespace ckpt {

class ByteWriter {
 public:
  void u8(uint8_t v) { buf_.push_back(v); }
  void u16(uint16_t v) { le(v, 2); }
  void u32(uint32_t v) { le(v, 4); }
  void u64(uint64_t v) { le(v, 8); }
  void i64(int64_t v) { le(static_cast<uint64_t>(v), 8); }
  void raw(const void* p, size_t n) {
    const auto* b = static_cast<const uint8_t*>(p);
    buf_.insert(buf_.end(), b, b + n);
  }
  void digest(const Digest& d) { raw(d.bytes.data(), d.bytes.size()); }
  // u16 length + bytes. A longer string is cut at 65,535 bytes, so the encoding is never
  // corrupt; callers whose strings must survive whole check first (ckpt/limits.h).
  void str(std::string_view s) {
    if (s.size() > UINT16_MAX) s = s.substr(0, UINT16_MAX);
    u16(static_cast<uint16_t>(s.size()));
    raw(s.data(), s.size());
  }
  std::vector<uint8_t>& buffer() { return buf_; }
  size_t size() const { return buf_.size(); }

 private:
  void le(uint64_t v, int n) {
    for (int i = 0; i < n; ++i) buf_.push_back(static_cast<uint8_t>(v >> (8 * i)));
  }
  std::vector<uint8_t> buf_;
};

class ByteReader {
 public:
  explicit ByteReader(std::span<const uint8_t> data) : data_(data) {}

  bool u8(uint8_t& v) { return le(v, 1); }
  bool u16(uint16_t& v) { return le(v, 2); }
  bool u32(uint32_t& v) { return le(v, 4); }
  bool u64(uint64_t& v) { return le(v, 8); }
  bool i64(int64_t& v) {
    uint64_t u;
    if (!le(u, 8)) return false;
    v = static_cast<int64_t>(u);
    return true;
  }
  bool raw(void* out, size_t n) {
    if (remaining() < n) return false;
    std::memcpy(out, data_.data() + pos_, n);
    pos_ += n;
    return true;
  }
  bool digest(Digest& d) { return raw(d.bytes.data(), d.bytes.size()); }
  bool str(std::string& s) {
    uint16_t n;
    if (!u16(n) || remaining() < n) return false;
    s.assign(reinterpret_cast<const char*>(data_.data() + pos_), n);
    pos_ += n;
    return true;
  }
  bool skip(size_t n) {
    if (remaining() < n) return false;
    pos_ += n;
    return true;
  }
  size_t remaining() const { return data_.size() - pos_; }
  size_t pos() const { return pos_; }

 private:
  template <typename T>
  bool le(T& v, int n) {
    if (remaining() < static_cast<size_t>(n)) return false;
    uint64_t x = 0;
    for (int i = 0; i < n; ++i) x |= uint64_t{data_[pos_ + i]} << (8 * i);
    v = static_cast<T>(x);
    pos_ += n;
    return true;
  }
  std::span<const uint8_t> data_;
  size_t pos_ = 0;
};

}  // namespace ckpt
