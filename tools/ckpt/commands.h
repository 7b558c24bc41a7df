// The ckpt CLI commands. main.cc parses the command line into these option structs and
// calls one run_* function, which returns the process exit status (output.h: kExit*).
// Every command prints its errors itself as "ckpt: <message>" on stderr.
#pragma once

#include <ckpt/process.h>
#include <ckpt/store.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ckpt::cli {

struct GlobalOptions {
  std::string store;       // --store; empty: $CKPT_STORE
  std::string identity;    // --identity; empty: $CKPT_IDENTITY (encrypted stores, reading)
  std::string writer_key;  // --writer-key; empty: $CKPT_WRITER_KEY (encrypted stores, writing)
};

// StoreOptions carrying the keys from --identity/--writer-key or the environment.
StoreOptions store_options(const GlobalOptions& g);

// The store directory from --store or $CKPT_STORE; prints an error and returns nullopt
// if there is neither.
std::optional<std::string> store_path(const GlobalOptions& g);
// A checkpoint argument must be 'latest' or 4..32 hex digits (an empty one is refused, not
// read as 'latest'); else prints an error naming `what` and returns false (exit 2).
bool check_ref(std::string_view command, const std::string& ref);
// Opens an existing store; prints an error and returns null on failure.
std::unique_ptr<Store> open_store(const GlobalOptions& g);

struct InitOptions {
  std::string dir;                      // positional; overrides --store
  uint32_t chunk_size = 0;              // 0: library default
  std::vector<std::string> recipients;  // public key files: an encrypted store
  bool recover = false;                 // rebuild a lost store.ckpt (--recover)
  bool dry_run = false;                 // with --recover: report, write nothing
  bool json = false;
};
int run_init(const GlobalOptions& g, const InitOptions& o);

struct LsOptions {
  bool json = false;
};
int run_ls(const GlobalOptions& g, const LsOptions& o);

struct ShowOptions {
  std::string ref;
  bool log = false;  // print the CRIU log kept with a process checkpoint instead
  bool json = false;
};
int run_show(const GlobalOptions& g, const ShowOptions& o);

struct RestoreInfoOptions {
  std::string ref;
  std::vector<std::string> remap;
  bool json = false;
};
int run_restore_info(const GlobalOptions& g, const RestoreInfoOptions& o);

struct DiffOptions {
  std::string a, b;
  bool json = false;
};
int run_diff(const GlobalOptions& g, const DiffOptions& o);

struct VerifyCmdOptions {
  std::vector<std::string> refs;
  bool all = false;
  bool read_data = false;
  bool json = false;
};
int run_verify(const GlobalOptions& g, const VerifyCmdOptions& o);

struct PruneCmdOptions {
  uint64_t keep_last = 0;
  std::string keep_within;  // DURATION, empty: no age rule
  bool dry_run = false;
  bool allow_empty = false;  // the rules may remove the newest intact checkpoint too
  bool gc = false;
  bool json = false;
};
int run_prune(const GlobalOptions& g, const PruneCmdOptions& o);

struct GcCmdOptions {
  bool dry_run = false;
  double repack_threshold = GcOptions{}.repack_threshold;
  bool json = false;
};
int run_gc(const GlobalOptions& g, const GcCmdOptions& o);

// `ckpt repair` (repair.cc). Exit status: 0 nothing stays damaged, 3 repaired but some
// checkpoints stay damaged (listed, with the data that would heal them), 1 failure.
struct RepairCmdOptions {
  bool dry_run = false;
  bool json = false;
};
int run_repair(const GlobalOptions& g, const RepairCmdOptions& o);

// `ckpt check`: kernel features, dirty trackers and capture strategies (check.cc).
// Needs no store.
struct CheckOptions {
  bool json = false;
};
int run_check(const CheckOptions& o);

// Process checkpoints (process.cc, run.cc). dump and run create the store if needed.
std::unique_ptr<Store> open_or_create_store(const GlobalOptions& g);

struct DumpCmdOptions {
  ProcessDumpOptions dump;
  bool json = false;
};
int run_dump(const GlobalOptions& g, const DumpCmdOptions& o);

struct RestoreCmdOptions {
  std::string ref;
  bool detach = false;
  std::vector<std::string> file_mismatch;  // --file-mismatch: fail | truncate | truncate:PATH
};
int run_restore(const GlobalOptions& g, const RestoreCmdOptions& o);

int print_dump_log(Store& store, const std::string& ref);

struct RunCmdOptions {
  std::string every = "10m";  // DURATION between checkpoints
  uint64_t keep_last = 0;     // 0: keep all of this run's checkpoints
  std::string output;         // the program's stdout/stderr go here; empty: inherited
  ProcessDumpOptions dump;    // pid is filled in by run
  std::vector<std::string> command;
};
int run_run(const GlobalOptions& g, const RunCmdOptions& o);
// Keys and encryption (keys.cc): `ckpt keygen`, `ckpt recipient`, `ckpt rewrap`.
struct KeygenOptions {
  std::string out;  // directory
  std::string name = "ckpt";
  bool json = false;
};
int run_keygen(const KeygenOptions& o);

struct RecipientOptions {
  std::string action;             // list | add | remove
  std::vector<std::string> keys;  // public key files
  bool json = false;
};
int run_recipient(const GlobalOptions& g, const RecipientOptions& o);

struct RewrapOptions {
  std::vector<std::string> add;     // public key files to wrap every key to (needs --identity)
  std::vector<std::string> remove;  // public key files whose wraps are removed
  bool json = false;
};
int run_rewrap(const GlobalOptions& g, const RewrapOptions& o);

// "30s", "10m", "2h", "7d", "1w", "1d12h"; a bare number is seconds (prune refuses one).
// nullopt if malformed.
std::optional<int64_t> parse_duration(std::string_view text);

}  // namespace ckpt::cli
