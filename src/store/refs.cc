#include "store/refs.h"

#include <cstring>

#include "store/format.h"
#include "util/bytes.h"

namespace ckpt {

std::vector<uint8_t> encode_ref(const Ref& ref) {
  ByteWriter w;
  w.raw(format::kRefMagic, 8);
  w.raw(ref.id.data(), 16);
  w.u64(ref.seq);
  append_sha256_trailer(w.buffer());
  return std::move(w.buffer());
}

Result<Ref> decode_ref(std::span<const uint8_t> data, const std::string& where) {
  if (data.size() != format::kRefSize)
    return Status(Code::kCorruption, "ref " + where + ": " + std::to_string(data.size()) +
                                         " bytes, expected " + std::to_string(format::kRefSize));
  if (std::memcmp(data.data(), format::kRefMagic, 8) != 0)
    return Status(Code::kCorruption, "ref " + where + ": bad magic");
  if (!sha256_trailer_ok(data))
    return Status(Code::kCorruption, "ref " + where + ": SHA-256 mismatch");
  Ref ref;
  ByteReader r(data);
  r.skip(8);
  r.raw(ref.id.data(), 16);
  r.u64(ref.seq);
  return ref;
}

}  // namespace ckpt
