#include "process/criu_files.h"

#include <cstring>
#include <map>

#include "util/fs.h"

namespace ckpt {

namespace {

// criu/include/magic.h
constexpr uint32_t kImgCommonMagic = 0x54564319;
constexpr uint32_t kFilesMagic = 0x56303138;
constexpr uint32_t kRegFilesMagic = 0x50363636;
constexpr uint32_t kRemapFpathMagic = 0x59133954;
constexpr uint32_t kFdTypeReg = 1;  // fd_types REG (images/fdinfo.proto)

// One field of a protobuf message: its number, and either a number (varint, fixed32,
// fixed64) or bytes (length-delimited).
struct Field {
  uint32_t number = 0;
  uint64_t value = 0;
  std::span<const uint8_t> bytes;
};

class Reader {
 public:
  explicit Reader(std::span<const uint8_t> d) : d_(d) {}
  bool done() const { return at_ == d_.size(); }

  bool varint(uint64_t* v) {
    *v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (at_ >= d_.size()) return false;
      const uint8_t b = d_[at_++];
      *v |= uint64_t(b & 0x7f) << shift;
      if (!(b & 0x80)) return true;
    }
    return false;
  }
  bool fixed(size_t n, uint64_t* v) {
    if (d_.size() - at_ < n) return false;
    *v = 0;
    for (size_t i = 0; i < n; ++i) *v |= uint64_t(d_[at_ + i]) << (8 * i);
    at_ += n;
    return true;
  }
  bool bytes(uint64_t n, std::span<const uint8_t>* out) {
    if (d_.size() - at_ < n) return false;
    *out = d_.subspan(at_, size_t(n));
    at_ += size_t(n);
    return true;
  }
  bool field(Field* f) {
    uint64_t tag = 0, len = 0;
    if (!varint(&tag) || (tag >> 3) == 0 || (tag >> 3) > (1u << 29)) return false;
    f->number = uint32_t(tag >> 3);
    f->bytes = {};
    switch (tag & 7) {
      case 0:
        return varint(&f->value);
      case 1:
        return fixed(8, &f->value);
      case 2:
        return varint(&len) && bytes(len, &f->bytes);
      case 5:
        return fixed(4, &f->value);
      default:  // groups are not used by CRIU's images
        return false;
    }
  }

 private:
  std::span<const uint8_t> d_;
  size_t at_ = 0;
};

bool parse_reg(std::span<const uint8_t> msg, CriuRegFile* r) {
  Reader rd(msg);
  Field f;
  while (!rd.done()) {
    if (!rd.field(&f)) return false;
    switch (f.number) {
      case 1:
        r->id = uint32_t(f.value);
        break;
      case 2:
        r->flags = uint32_t(f.value);
        break;
      case 3:
        r->pos = f.value;
        break;
      case 6:
        r->path.assign(f.bytes.begin(), f.bytes.end());
        break;
      case 8:
        r->has_size = true;
        r->size = f.value;
        break;
      case 9:
        r->external = f.value != 0;
        break;
      default:
        break;
    }
  }
  return true;
}

// Calls `entry` for the payload of every entry of an image with magic `magic`; an empty
// image has no entries. False if the image is malformed or `entry` returns false.
template <typename F>
bool for_each_entry(std::span<const uint8_t> img, uint32_t magic, F entry) {
  if (img.empty()) return true;
  Reader rd(img);
  uint64_t m0 = 0, m1 = 0;
  if (!rd.fixed(4, &m0) || !rd.fixed(4, &m1) || m0 != kImgCommonMagic || m1 != magic) return false;
  while (!rd.done()) {
    uint64_t len = 0;
    std::span<const uint8_t> msg;
    if (!rd.fixed(4, &len) || !rd.bytes(len, &msg) || !entry(msg)) return false;
  }
  return true;
}

Status malformed(const std::string& where, const char* image) {
  return Status(Code::kCorruption, where + ": CRIU image " + image +
                                       " does not parse (not written by CRIU >= 3, or damaged)");
}

}  // namespace

Result<std::vector<CriuRegFile>> parse_criu_reg_files(std::span<const uint8_t> files_img,
                                                      std::span<const uint8_t> reg_files_img,
                                                      std::span<const uint8_t> remap_img,
                                                      const std::string& where) {
  std::vector<CriuRegFile> out;
  const bool ok = !files_img.empty() ? for_each_entry(files_img, kFilesMagic,
                                                      [&](std::span<const uint8_t> msg) {
                                                        Reader rd(msg);
                                                        Field f;
                                                        uint64_t type = 0;
                                                        std::span<const uint8_t> reg;
                                                        while (!rd.done()) {
                                                          if (!rd.field(&f)) return false;
                                                          if (f.number == 1) type = f.value;
                                                          if (f.number == 3) reg = f.bytes;
                                                        }
                                                        if (type != kFdTypeReg) return true;
                                                        CriuRegFile r;
                                                        if (!parse_reg(reg, &r)) return false;
                                                        out.push_back(std::move(r));
                                                        return true;
                                                      })
                                     : for_each_entry(reg_files_img, kRegFilesMagic,
                                                      [&](std::span<const uint8_t> msg) {
                                                        CriuRegFile r;
                                                        if (!parse_reg(msg, &r)) return false;
                                                        out.push_back(std::move(r));
                                                        return true;
                                                      });
  if (!ok) return malformed(where, files_img.empty() ? "reg-files.img" : "files.img");
  std::map<uint32_t, bool> remapped;
  if (!for_each_entry(remap_img, kRemapFpathMagic, [&](std::span<const uint8_t> msg) {
        Reader rd(msg);
        Field f;
        while (!rd.done()) {
          if (!rd.field(&f)) return false;
          if (f.number == 1) remapped[uint32_t(f.value)] = true;
        }
        return true;
      }))
    return malformed(where, "remap-fpath.img");
  for (auto& r : out) r.remapped = remapped.count(r.id) > 0;
  return out;
}

Result<std::vector<CriuRegFile>> read_criu_reg_files(const std::string& image_dir) {
  auto read = [&](const char* name) -> Result<std::vector<uint8_t>> {
    const std::string p = image_dir + "/" + name;
    if (!path_exists(p)) return std::vector<uint8_t>();
    return read_file(p);
  };
  CKPT_ASSIGN_OR_RETURN(std::vector<uint8_t> files, read("files.img"));
  CKPT_ASSIGN_OR_RETURN(std::vector<uint8_t> reg, read("reg-files.img"));
  CKPT_ASSIGN_OR_RETURN(std::vector<uint8_t> remap, read("remap-fpath.img"));
  return parse_criu_reg_files(files, reg, remap, image_dir);
}

}  // namespace ckpt
