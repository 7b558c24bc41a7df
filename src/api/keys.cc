#include <ckpt/keys.h>

#include <algorithm>

#include "crypt/key_files.h"
#include "store/store_impl.h"

namespace ckpt {

namespace {

Result<crypt::StoreCrypto*> crypto_of(Store& store) {
  crypt::StoreCrypto* c = store_impl(store).crypto();
  if (!c)
    return Status(Code::kFailedPrecondition,
                  "store " + store.path() +
                      " is not encrypted; encryption is chosen when a store is created "
                      "(`ckpt init --recipient PUB --writer-key FILE`)");
  return c;
}

}  // namespace

Result<KeyPairFiles> generate_key_pair(const std::string& dir, const std::string& name) {
  CKPT_ASSIGN_OR_RETURN(crypt::PublicKey pub, crypt::generate_key_pair(dir, name));
  return KeyPairFiles{dir + "/" + name + ".key", dir + "/" + name + ".pub",
                      crypt::fingerprint_hex(pub)};
}

Result<std::string> public_key_fingerprint(const std::string& public_key_file) {
  CKPT_ASSIGN_OR_RETURN(crypt::PublicKey pub, crypt::load_public_key(public_key_file));
  return crypt::fingerprint_hex(pub);
}

Result<std::vector<std::string>> store_recipients(Store& store) {
  CKPT_ASSIGN_OR_RETURN(crypt::StoreCrypto * c, crypto_of(store));
  auto r = c->recipients(/*authenticated=*/true);
  if (!r.ok() && r.status().code() == Code::kFailedPrecondition)
    r = c->recipients(/*authenticated=*/false);  // no key: list them as stored
  CKPT_RETURN_IF_ERROR(r.status());
  std::vector<std::string> out;
  for (const auto& k : r->keys) out.push_back(crypt::fingerprint_hex(k));
  return out;
}

Status add_recipient(Store& store, const std::string& public_key_file) {
  CKPT_ASSIGN_OR_RETURN(crypt::StoreCrypto * c, crypto_of(store));
  CKPT_ASSIGN_OR_RETURN(crypt::PublicKey pub, crypt::load_public_key(public_key_file));
  CKPT_RETURN_IF_ERROR(store_impl(store).lock_writer("recipient add"));
  CKPT_ASSIGN_OR_RETURN(crypt::Recipients r, c->recipients());
  if (std::find(r.keys.begin(), r.keys.end(), pub) == r.keys.end()) r.keys.push_back(pub);
  return c->set_recipients(r.keys);
}

Status remove_recipient(Store& store, const std::string& public_key_file) {
  CKPT_ASSIGN_OR_RETURN(crypt::StoreCrypto * c, crypto_of(store));
  CKPT_ASSIGN_OR_RETURN(crypt::PublicKey pub, crypt::load_public_key(public_key_file));
  CKPT_RETURN_IF_ERROR(store_impl(store).lock_writer("recipient remove"));
  CKPT_ASSIGN_OR_RETURN(crypt::Recipients r, c->recipients());
  if (std::erase(r.keys, pub) == 0)
    return Status(Code::kNotFound, "recipient " + crypt::fingerprint_hex(pub) + " (" +
                                       public_key_file + ") is not a recipient of store " +
                                       store.path());
  return c->set_recipients(r.keys);
}

Result<uint64_t> rewrap_add_recipient(Store& store, const std::string& public_key_file) {
  CKPT_ASSIGN_OR_RETURN(crypt::StoreCrypto * c, crypto_of(store));
  CKPT_ASSIGN_OR_RETURN(crypt::PublicKey pub, crypt::load_public_key(public_key_file));
  CKPT_RETURN_IF_ERROR(store_impl(store).lock_writer("rewrap"));
  return c->rewrap_add(pub);
}

Result<uint64_t> rewrap_remove_recipient(Store& store, const std::string& public_key_file) {
  CKPT_ASSIGN_OR_RETURN(crypt::StoreCrypto * c, crypto_of(store));
  CKPT_ASSIGN_OR_RETURN(crypt::PublicKey pub, crypt::load_public_key(public_key_file));
  CKPT_RETURN_IF_ERROR(store_impl(store).lock_writer("rewrap"));
  return c->rewrap_remove(pub);
}

}  // namespace ckpt
