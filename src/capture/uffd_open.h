// Opening a userfaultfd with a feature set: one place for the privilege fallback.
#pragma once

#include <ckpt/status.h>

#include <cstdint>
#include <string>

#include "util/unique_fd.h"

namespace ckpt {

// Creates a non-blocking, close-on-exec userfaultfd and negotiates `features` with
// UFFDIO_API. Without UFFD_USER_MODE_ONLY userfaultfd needs CAP_SYS_PTRACE (or
// vm.unprivileged_userfaultfd=1); on EPERM it retries with that flag, so only user-mode
// faults are handled (`user_mode_only` tells which). `who` prefixes error messages;
// a kernel without the features gives kUnsupported naming `needs`.
Result<UniqueFd> open_userfaultfd(uint64_t features, const std::string& who,
                                  const std::string& needs, bool* user_mode_only = nullptr);

}  // namespace ckpt
