// ckpt repair: the operator's way back to whole checkpoints after damage
// (docs/recovery.md). Exit status: 0 nothing stays damaged; 3 repaired, but some
// checkpoints stay damaged (new checkpoints are whole); 1 repair failed.
#include <iostream>

#include "commands.h"
#include "output.h"

namespace ckpt::cli {

namespace {

Json to_json(const HealSource& h) {
  return Json{{"object", h.object},
              {"checkpoint", h.checkpoint},
              {"stream", h.stream},
              {"offset", h.offset},
              {"length", h.length}};
}

Json to_json(const RepairReport& r) {
  Json j;
  j["dry_run"] = r.dry_run;
  j["whole"] = r.whole();
  j["data_checked"] = r.data_checked;
  j["objects_checked"] = r.objects_checked;
  j["bytes_checked"] = r.bytes_checked;
  j["indexes_rebuilt"] = r.indexes_rebuilt;
  Json q = Json::array();
  for (const auto& p : r.quarantined) q.push_back(cli::to_json(p));
  j["quarantined"] = q;
  j["quarantine_released"] = r.quarantine_released;
  j["quarantine_size"] = r.quarantine_size;
  Json problems = Json::array();
  for (const auto& p : r.problems) problems.push_back(cli::to_json(p));
  j["problems"] = problems;
  j["damaged_checkpoints"] = r.damaged_checkpoints;
  Json heal = Json::array();
  for (const auto& h : r.heal) heal.push_back(to_json(h));
  j["heal"] = heal;
  j["notes"] = r.notes;
  return j;
}

void print_report(const RepairReport& r) {
  const char* would = r.dry_run ? "would be " : "";
  KeyValues kv;
  kv.add("objects checked",
         std::to_string(r.objects_checked) + " (" + human_bytes(r.bytes_checked) + ")");
  kv.add(std::string("indexes ") + (r.dry_run ? "to rebuild" : "rebuilt"),
         std::to_string(r.indexes_rebuilt.size()));
  kv.add(std::string("copies ") + would + "quarantined", std::to_string(r.quarantined.size()));
  if (r.quarantine_released)
    kv.add(std::string("quarantine entries ") + would + "released",
           std::to_string(r.quarantine_released));
  kv.add("quarantine size", std::to_string(r.quarantine_size));
  std::cout << (r.dry_run ? "repair (dry run)\n" : "repair\n");
  kv.print(std::cout, "  ");
  for (const auto& p : r.quarantined)
    std::cout << "  quarantined: " << p.object << " in " << p.path << " at offset " << p.offset
              << '\n';
  for (const auto& n : r.notes) std::cout << "  note: " << n << '\n';
  if (r.dry_run) return;
  for (const auto& p : r.problems) {
    std::cout << "still damaged: " << p.object << '\n';
    KeyValues pk;
    if (!p.path.empty()) pk.add("path", p.path);
    pk.add("error", p.message);
    if (!p.affected.empty()) {
      std::vector<std::string> ids;
      for (const auto& id : p.affected) ids.push_back(short_id(id));
      pk.add("affects", join(ids, ", "));
    }
    pk.print(std::cout, "  ");
  }
  for (const auto& h : r.heal)
    std::cout << "heal: " << h.object << " = stream '" << h.stream << "' bytes " << h.offset << ".."
              << h.offset + h.length << " of checkpoint " << short_id(h.checkpoint) << '\n';
  if (r.whole()) {
    std::cout << "store is whole\n";
    return;
  }
  std::vector<std::string> ids;
  for (const auto& id : r.damaged_checkpoints) ids.push_back(short_id(id));
  std::cout << "new checkpoints are whole; damaged checkpoints: " << join(ids, ", ")
            << " (a checkpoint holding the data listed under 'heal' repairs them; else "
               "restore the packs from a replica, or `ckpt prune` them; see "
               "docs/recovery.md)\n";
}

}  // namespace

int run_repair(const GlobalOptions& g, const RepairCmdOptions& o) {
  auto store = open_store(g);
  if (!store) return kExitFailure;
  RepairOptions opts;
  opts.dry_run = o.dry_run;
  auto rep = store->repair(opts);
  if (!rep.ok()) return fail(rep.status());
  if (o.json)
    print_json(to_json(*rep));
  else
    print_report(*rep);
  return rep->whole() || rep->dry_run ? kExitOk : kExitDamaged;
}

}  // namespace ckpt::cli
