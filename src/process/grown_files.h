// Files a checkpointed process wrote to that changed size after the dump. CRIU restores
// the offset of every open file and refuses a regular file whose size is not the one it
// recorded ("File ... has bad size"). The typical case is a log or output file that
// went on growing: the program ran on after a --leave-running dump, or something else
// appended to it. With FileMismatch::kTruncate, ckpt cuts such a file back to its
// checkpointed size before CRIU runs and keeps the cut bytes beside it, so nothing is
// lost; with kFail (the default) CRIU refuses and criu_errors explains.
//
// The checkpointed sizes come from CRIU's own images (files.img, read back from the
// store): the size CRIU will check is the size ckpt restores.
#pragma once

#include <ckpt/process.h>
#include <ckpt/status.h>

#include <string>
#include <vector>

namespace ckpt {

// Checks every regular file the images in `image_dir` record against the file system and,
// for o.file_mismatch == kTruncate, cuts back each file that grew (o.truncate_only, if
// set, limits which), writing its tail to PATH.ckpt-tail-`short_id` (".N" appended if that
// exists). Refuses, before changing anything, a file that shrank, is no longer a regular
// file, or grew but was open read-only, and a truncate_only path the images do not have.
// kFail checks nothing (CRIU does); kIgnore is refused. `what` starts every message.
Result<std::vector<TruncatedFile>> settle_grown_files(const std::string& image_dir,
                                                      const ProcessRestoreOptions& o,
                                                      const std::string& short_id,
                                                      const std::string& what);

}  // namespace ckpt
