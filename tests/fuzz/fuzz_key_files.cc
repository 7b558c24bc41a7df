// Fuzzes the key formats of encrypted stores: wrapped-key files (decode, then unwrap
// with a fixed identity), the recipients list (with and without its HMAC), and the
// public, private and writer key files. The first byte selects the parser.
#include <cstdint>

#include "crypt/recipients.h"
#include "crypt/wrapped_key.h"
#include "fuzz_crypt.h"
#include "fuzz_util.h"

using namespace ckpt;

namespace {

void wrapped(std::span<const uint8_t> data) {
  auto w = crypt::decode_wrapped_key(data, "fuzz");
  if (!w.ok()) return;
  FUZZ_CHECK(crypt::encode_wrapped_key(*w).size() == data.size());
  crypt::Key32 key;
  (void)crypt::unwrap(*w, fuzz::fixed_identity(), "fuzz", key);
}

void recipients(std::span<const uint8_t> data) {
  crypt::Key32 mac = fuzz::fixed_data_key();
  auto r = crypt::decode_recipients(data, &mac, "fuzz");
  auto loose = crypt::decode_recipients(data, nullptr, "fuzz");
  if (r.ok()) FUZZ_CHECK(loose.ok() && loose->keys == r->keys);
  if (loose.ok()) FUZZ_CHECK(!loose->keys.empty());
}

void key_files(std::span<const uint8_t> data) {
  (void)crypt::decode_public_key(data, "fuzz");
  if (auto id = crypt::decode_identity(data, "fuzz"); id.ok()) {
    crypt::PublicKey pub;
    FUZZ_CHECK(crypt::x25519_public(id->priv, pub).ok() && pub == id->pub);
  }
  (void)crypt::decode_writer_key(data, "fuzz");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  auto in = fuzz::exact(data + 1, size - 1);
  switch (data[0] % 3) {
    case 0:
      wrapped(in);
      wrapped(fuzz::with_trailer(in, in.size()));
      break;
    case 1:
      recipients(in);
      break;
    default:
      key_files(in);
      key_files(fuzz::with_trailer(in, in.size()));
  }
  return 0;
}
