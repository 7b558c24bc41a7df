// The regular files a process checkpoint's CRIU images record: read from files.img (CRIU
// >= 3.x keeps every file as a file_entry there; older images used reg-files.img) and
// remap-fpath.img, which CRIU writes in the images directory.
//
// Only the fields ckpt needs are decoded, from the protobuf wire format by hand (CRIU's
// images/fdinfo.proto, regfile.proto, remap-file-path.proto): an image is two magic
// words (IMG_COMMON_MAGIC, then the image's own) and entries, each a little-endian u32
// length followed by one encoded message. A malformed image is refused, never guessed at.
#pragma once

#include <ckpt/status.h>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace ckpt {

// One reg_file_entry. CRIU checks `size` at restore, and refuses the restore when the
// file's size differs ("File ... has bad size N (expect M)"); it records no size for a
// file open O_WRONLY|O_APPEND, whose offset does not matter.
struct CriuRegFile {
  uint32_t id = 0;
  uint32_t flags = 0;  // open(2) flags of the file description
  uint64_t pos = 0;    // its offset
  std::string path;    // as CRIU recorded it: absolute within the process's mounts
  bool has_size = false;
  uint64_t size = 0;      // st_size at the dump
  bool remapped = false;  // a ghost or linked remap (remap-fpath.img) stands in for it
  bool external = false;  // --external file: CRIU does not open it itself
};

// Parses the contents of files.img (`files_img`) or, if that is empty, reg-files.img
// (`reg_files_img`), and marks entries remap-fpath.img (`remap_img`, may be empty)
// remaps. `where` names the images in errors.
Result<std::vector<CriuRegFile>> parse_criu_reg_files(std::span<const uint8_t> files_img,
                                                      std::span<const uint8_t> reg_files_img,
                                                      std::span<const uint8_t> remap_img,
                                                      const std::string& where);

// The same for a CRIU images directory; missing images count as empty.
Result<std::vector<CriuRegFile>> read_criu_reg_files(const std::string& image_dir);

}  // namespace ckpt
