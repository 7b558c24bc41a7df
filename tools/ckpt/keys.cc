// ckpt keygen, recipient, rewrap: the keys of encrypted stores (docs/security.md).
#include <ckpt/keys.h>

#include <iostream>

#include "commands.h"
#include "output.h"

namespace ckpt::cli {

int run_keygen(const KeygenOptions& o) {
  auto files = generate_key_pair(o.out, o.name);
  if (!files.ok()) return fail(files.status());
  if (o.json) {
    print_json(Json{{"private_key", files->private_key},
                    {"public_key", files->public_key},
                    {"fingerprint", files->fingerprint}});
    return kExitOk;
  }
  KeyValues kv;
  kv.add("private key", files->private_key + " (mode 0600; keep it off writer machines)");
  kv.add("public key", files->public_key + " (for `ckpt init --recipient`)");
  kv.add("fingerprint", files->fingerprint);
  kv.print(std::cout);
  return kExitOk;
}

int run_recipient(const GlobalOptions& g, const RecipientOptions& o) {
  auto store = open_store(g);
  if (!store) return kExitFailure;
  for (const auto& k : o.keys) {
    Status st = o.action == "add" ? add_recipient(*store, k) : remove_recipient(*store, k);
    if (!st.ok()) return fail(st);
  }
  auto list = store_recipients(*store);
  if (!list.ok()) return fail(list.status());
  if (o.json) {
    print_json(Json{{"store", store->path()}, {"recipients", *list}});
    return kExitOk;
  }
  std::cout << "recipients of future checkpoints in " << store->path() << '\n';
  for (const auto& f : *list) std::cout << "  " << f << '\n';
  return kExitOk;
}

int run_rewrap(const GlobalOptions& g, const RewrapOptions& o) {
  if (o.add.empty() && o.remove.empty()) {
    print_error("rewrap: give --add-recipient PUB and/or --remove-recipient PUB");
    return kExitUsage;
  }
  auto store = open_store(g);
  if (!store) return kExitFailure;
  uint64_t files = 0;
  for (const auto& k : o.add) {
    auto n = rewrap_add_recipient(*store, k);
    if (!n.ok()) return fail(n.status());
    files += *n;
  }
  for (const auto& k : o.remove) {
    auto n = rewrap_remove_recipient(*store, k);
    if (!n.ok()) return fail(n.status());
    files += *n;
  }
  if (o.json) {
    print_json(Json{{"store", store->path()}, {"key_files_rewritten", files}});
    return kExitOk;
  }
  std::cout << "rewrote " << files << " wrapped-key file(s) in " << store->path()
            << " (no data re-encrypted)\n";
  return kExitOk;
}

}  // namespace ckpt::cli
