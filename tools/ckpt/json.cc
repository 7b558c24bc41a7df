// The JSON shapes printed by `ckpt ... --json` (docs/cli.md describes them).
// Sizes and counts are exact integers; addresses are hex strings, because JSON readers
// often hold numbers as doubles and would round a 64-bit address.
#include <iostream>

#include "output.h"

namespace ckpt::cli {

void print_json(const Json& j) {
  std::cout << j.dump(2, ' ', false, Json::error_handler_t::replace) << '\n';
}

Json to_json(const StoreSummary& s) {
  return Json{{"path", s.path},
              {"uuid", s.uuid},
              {"format_version", s.format_version},
              {"chunk_size", s.chunk_size},
              {"checkpoints", s.checkpoints},
              {"packs", s.packs},
              {"objects", s.objects},
              {"pack_bytes", s.pack_bytes}};
}

Json to_json(const StreamInfo& s) {
  return Json{{"name", s.name},
              {"kind", stream_kind_name(s.kind)},
              {"address", hex_address(s.address)},
              {"length", s.length},
              {"reserved", s.reserved},
              {"chunks", s.chunks},
              {"zero_chunks", s.zero_chunks},
              {"root", s.root}};
}

Json to_json(const CheckpointStats& s) {
  return Json{{"bytes_logical", s.bytes_logical},
              {"chunks_total", s.chunks_total},
              {"chunks_dirty", s.chunks_dirty},
              {"chunks_written", s.chunks_written},
              {"chunks_deduplicated", s.chunks_deduplicated},
              {"chunks_zero", s.chunks_zero},
              {"nodes_written", s.nodes_written},
              {"bytes_stored", s.bytes_stored},
              {"capture_ms", s.capture_ms},
              {"persist_ms", s.persist_ms}};
}

Json to_json(const CheckpointInfo& info) {
  Json streams = Json::array();
  for (const auto& s : info.streams) streams.push_back(to_json(s));
  Json attrs = Json::object();
  for (const auto& [k, v] : info.attrs) attrs[k] = v;
  return Json{{"id", info.id},
              {"seq", info.seq},
              {"parent", info.parent.empty() ? Json(nullptr) : Json(info.parent)},
              {"created", format_utc_time(info.created_unix_ns)},
              {"created_unix_ns", info.created_unix_ns},
              {"labels", info.labels},
              {"attrs", std::move(attrs)},
              {"flags", info.flags},
              {"sealed", info.sealed},
              {"streams", std::move(streams)},
              {"stats", to_json(info.stats)}};
}

Json to_json(const Problem& p) {
  return Json{{"object", p.object},
              {"path", p.path},
              {"offset", p.offset},
              {"message", p.message},
              {"affected", p.affected}};
}

Json to_json(const VerifyReport& r) {
  Json problems = Json::array();
  for (const auto& p : r.problems) problems.push_back(to_json(p));
  return Json{{"ok", r.ok()},
              {"checkpoints_checked", r.checkpoints_checked},
              {"objects_checked", r.objects_checked},
              {"bytes_checked", r.bytes_checked},
              {"problems", std::move(problems)},
              {"damaged_checkpoints", r.damaged_checkpoints},
              {"data_checked", r.data_checked},
              {"quarantined", r.quarantined}};
}

Json to_json(const DiffReport& r) {
  Json streams = Json::array();
  for (const auto& s : r.streams)
    streams.push_back(Json{{"name", s.name},
                           {"change", s.change},
                           {"chunks_changed", s.chunks_changed},
                           {"bytes_a", s.bytes_a},
                           {"bytes_b", s.bytes_b}});
  return Json{{"a", r.a},
              {"b", r.b},
              {"chunks_changed", r.chunks_changed},
              {"streams", std::move(streams)}};
}

Json to_json(const PruneReport& r, bool dry_run) {
  return Json{{"dry_run", dry_run},
              {"removed", r.removed},
              {"kept", r.kept},
              {"damaged", r.damaged},
              {"newest_intact", r.newest_intact}};
}

Json to_json(const GcReport& r, bool dry_run) {
  return Json{{"dry_run", dry_run},
              {"objects_live", r.objects_live},
              {"objects_dead", r.objects_dead},
              {"packs_deleted", r.packs_deleted},
              {"packs_repacked", r.packs_repacked},
              {"bytes_freed", r.bytes_freed},
              {"temp_files_removed", r.temp_files_removed},
              {"keys_deleted", r.keys_deleted},
              {"notes", r.notes}};
}

}  // namespace ckpt::cli
