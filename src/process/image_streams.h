// CRIU image directories <-> the streams of a process checkpoint.
//
// Every file of the image directory becomes one stream of kind "image" named after the
// file. The store cuts every stream into chunk_size (4 KiB) content-addressed chunks, so
// a page image (pages-N.img: raw pages, back to back) is stored page by page and a page
// that an earlier dump already stored costs nothing; metadata images are small and go
// in whole. The CRIU log of the dump is kept as the blob "ckpt:criu-dump.log".
#pragma once

#include <ckpt/status.h>

#include <string>

#include "store/manifest.h"
#include "store/store_impl.h"

namespace ckpt {

inline constexpr const char* kCriuLogBlob = "ckpt:criu-dump.log";
inline constexpr const char* kCriuLogFile = "dump.log";

// Stores every regular file of `dir` (dump.log as the log blob) and commits `m`, which
// arrives with identity, lineage, labels and attributes filled in. The caller holds the
// writer lock. `frozen_ns` is recorded as the checkpoint's stall.
Result<Manifest> store_image_dir(StoreImpl& store, Manifest m, const std::string& dir,
                                 uint64_t frozen_ns);

// Writes every image stream of `m` into `dir` (files 0600), verifying every chunk; the
// log blob is left out. Refuses stream names that are not plain file names.
Status materialise_images(StoreImpl& store, const Manifest& m, const std::string& dir);

}  // namespace ckpt
