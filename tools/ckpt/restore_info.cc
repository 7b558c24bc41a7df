// ckpt restore-info ID: what a restore of that checkpoint would do, without doing it.
#include <ckpt/checkpointer.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <cstdio>
#include <iostream>

#include "commands.h"
#include "output.h"

namespace ckpt::cli {

namespace {

std::string access_mode(uint32_t flags) {
  std::string m = (flags & O_ACCMODE) == O_RDONLY   ? "read"
                  : (flags & O_ACCMODE) == O_WRONLY ? "write"
                                                    : "read-write";
  if (flags & O_APPEND) m += ", append";
  return m;
}

const char* mismatch_name(FileMismatch m) {
  switch (m) {
    case FileMismatch::kFail:
      return "fail";
    case FileMismatch::kTruncate:
      return "truncate";
    case FileMismatch::kIgnore:
      return "ignore";
  }
  return "?";
}

// What the file looks like now, as restore will check it.
std::string file_status(const FileInfo& f, const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return "MISSING: restore will fail";
  uint64_t size = static_cast<uint64_t>(st.st_size);
  if (size == f.size) return "ok";
  std::string what = "now " + std::to_string(size) + " bytes";
  if (f.on_mismatch == FileMismatch::kIgnore) return what + ": reopened as it is";
  if (f.on_mismatch == FileMismatch::kTruncate && size > f.size)
    return what + ": will be truncated";
  return what + ": restore will fail";
}

std::string hex(uint64_t v) {
  char b[32];
  std::snprintf(b, sizeof b, "0x%llx", static_cast<unsigned long long>(v));
  return b;
}

}  // namespace

int run_restore_info(const GlobalOptions& g, const RestoreInfoOptions& o) {
  auto store = open_store(g);
  if (!store) return kExitFailure;
  auto info = store->get(o.ref);
  if (!info.ok()) return fail(info.status());
  auto files = store->files(info->id);
  if (!files.ok()) return fail(files.status());
  Json jstreams = Json::array(), jfiles = Json::array();
  for (const auto& s : info->streams) {
    if (s.kind == StreamKind::kBlob && s.name.rfind("ckpt:", 0) == 0) continue;
    std::string action;
    switch (s.kind) {
      case StreamKind::kRange:
        action = "copied into the range the application registers as '" + s.name + "' (" +
                 std::to_string(s.length) + " bytes)";
        break;
      case StreamKind::kArena:
        action = "arena re-created at " + hex(s.address) + " (" + std::to_string(s.reserved) +
                 " bytes reserved), " + std::to_string(s.length) + " bytes restored";
        break;
      case StreamKind::kBlob:
        action = "blob of " + std::to_string(s.length) + " bytes";
        break;
      case StreamKind::kImage:
        action = "CRIU image file of " + std::to_string(s.length) +
                 " bytes, written for 'criu restore' by 'ckpt restore'";
        break;
    }
    // RestoreMode::kAuto's choice (design.md, Restore), given the uffd-wp-async tracker.
    std::string mode = "eager";
    if (s.kind == StreamKind::kArena && s.length >= kLazyRestoreMinBytes)
      mode = "lazy";
    else if (s.kind == StreamKind::kRange && s.length >= kLazyRestoreMinBytes)
      mode = "lazy if the range is page-aligned private anonymous memory";
    action += "; restored " + mode;
    jstreams.push_back(Json{{"name", s.name},
                            {"kind", stream_kind_name(s.kind)},
                            {"action", action},
                            {"auto_mode", mode}});
  }
  for (const auto& f : *files) {
    auto path = remap_file_path(f.path, o.remap);
    if (!path.ok()) return fail(path.status());
    jfiles.push_back(Json{{"name", f.name},
                          {"fd", f.fd},
                          {"path", f.path},
                          {"reopen_path", *path},
                          {"access", access_mode(f.flags)},
                          {"offset", f.offset},
                          {"size", f.size},
                          {"on_mismatch", mismatch_name(f.on_mismatch)},
                          {"status", file_status(f, *path)}});
  }
  if (o.json) {
    print_json(Json{{"id", info->id},
                    {"seq", info->seq},
                    {"streams", jstreams},
                    {"files", jfiles},
                    {"remap", o.remap}});
    return kExitOk;
  }
  std::cout << "restore of checkpoint " << info->id << " (seq " << info->seq << ") would:\n";
  for (const auto& s : jstreams)
    std::cout << "  " << s["kind"].get<std::string>() << " '" << s["name"].get<std::string>()
              << "': " << s["action"].get<std::string>() << "\n";
  if (jfiles.empty()) std::cout << "  (no registered files)\n";
  for (const auto& f : jfiles) {
    std::cout << "  file '" << f["name"].get<std::string>() << "' fd " << f["fd"].get<int>() << ": "
              << f["reopen_path"].get<std::string>();
    if (f["reopen_path"] != f["path"])
      std::cout << " (recorded as " << f["path"].get<std::string>() << ")";
    std::cout << ", " << f["access"].get<std::string>() << ", offset "
              << f["offset"].get<uint64_t>() << " of " << f["size"].get<uint64_t>()
              << " bytes, on size change: " << f["on_mismatch"].get<std::string>() << " -- "
              << f["status"].get<std::string>() << "\n";
  }
  return kExitOk;
}

}  // namespace ckpt::cli
