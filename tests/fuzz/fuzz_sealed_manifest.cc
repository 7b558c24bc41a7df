// Fuzzes the sealed formats of encrypted stores that are read from the store itself:
// sealed manifests (clear header, then decryption with a fixed data key) and sealed
// object envelopes (parse, then open). Invariants: decoders never read out of bounds,
// a decoded manifest's clear fields are self-consistent, and nothing opens that the
// fixed key did not seal.
#include <cstdint>

#include "crypt/envelope.h"
#include "fuzz_crypt.h"
#include "fuzz_util.h"
#include "store/format.h"
#include "store/sealed_manifest.h"

using namespace ckpt;

namespace {

void manifest(std::span<const uint8_t> data) {
  auto sm = decode_sealed_manifest(data, "fuzz");
  if (!sm.ok()) return;
  FUZZ_CHECK(sm->header.sealed);
  FUZZ_CHECK(sm->header.flags & format::kManifestEncrypted);
  FUZZ_CHECK(sm->aad.size() + sm->cipher.size() + crypt::kTagSize + 32 == data.size());
  auto m = open_sealed_manifest(*sm, fuzz::fixed_data_key(), "fuzz");
  if (!m.ok()) return;
  FUZZ_CHECK(m->id == sm->header.id && m->seq == sm->header.seq);
  FUZZ_CHECK(m->store_uuid == sm->header.store_uuid && !m->sealed);
}

void envelope(std::span<const uint8_t> data) {
  if (data.size() < 1) return;
  crypt::EnvelopeView env;
  if (!crypt::parse_envelope(data.subspan(1), env, "fuzz").ok()) return;
  FUZZ_CHECK(env.cipher.size() + crypt::kEnvelopeOverhead == data.size() - 1);
  crypt::ObjectBinding b{fuzz::fixed_uuid(), uint8_t(1 + data[0] % 2), 0,
                         static_cast<uint32_t>(env.cipher.size()), Digest{}};
  std::vector<uint8_t> out(env.cipher.size());
  if (!crypt::open_object(fuzz::fixed_data_key(), env, b, out.data(), "fuzz").ok())
    for (uint8_t x : out) FUZZ_CHECK(x == 0);  // no unauthenticated plaintext
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto in = fuzz::exact(data, size);
  manifest(in);
  manifest(fuzz::with_trailer(in, in.size()));
  envelope(in);
  return 0;
}
