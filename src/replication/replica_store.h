// The spare's store as a replica of an encrypted primary store. Sealed objects and
// manifests are bound to their store's uuid and keys (docs/security.md), so they can
// only be stored unchanged in a store that *is* the primary's: same store.ckpt (uuid,
// parameters, encrypted flag), same keys/store.key and recipients. An empty spare store
// adopts those files from the primary (STORE message); one that already holds another
// store's checkpoints is refused. The spare holds no key: it stores ciphertext only.
#pragma once

#include <ckpt/status.h>

#include <memory>
#include <string>

#include "replication/wire.h"
#include "store/store_impl.h"

namespace ckpt {

// Whether the spare's `store` (whose newest checkpoint is `latest_seq`) can receive the
// stream announced by `hello`. Sets `adopt` when it must take over the primary's store
// files first (an empty store). An error message says why not, for the WELCOME.
Status check_replica(StoreImpl& store, const Hello& hello, uint64_t latest_seq, bool& adopt);

// Applies a STORE message: on adoption writes keys/store.key, recipients, then
// store.ckpt (last: the commit point) and reopens `store` (writer lock taken again);
// otherwise brings keys/store.key and recipients up to date (the primary's recipients
// may have changed). `uuid`: the primary's, from its HELLO.
Status apply_store_files(std::unique_ptr<StoreImpl>& store, const StoreOptions& options,
                         const StoreFiles& files, const std::array<uint8_t, 16>& uuid, bool adopt);

}  // namespace ckpt
