#include <ckpt/checkpointer.h>
#include <ckpt/ckpt.h>

#include <cstdlib>
#include <cstring>

struct ckpt_handle {
  std::unique_ptr<ckpt::Checkpointer> cp;
  std::string error;
};

namespace {

int fail(ckpt_t* h, const ckpt::Status& st) {
  if (st.ok()) return CKPT_OK;
  h->error = st.to_string();
  return -static_cast<int>(st.code());
}

void copy_id(const std::string& id, char out[CKPT_ID_LEN]) {
  std::memset(out, 0, CKPT_ID_LEN);
  std::memcpy(out, id.data(), std::min<size_t>(id.size(), CKPT_ID_LEN - 1));
}

}  // namespace

extern "C" {

ckpt_t* ckpt_open(const char* store_dir, char* err_buf, size_t err_len) {
  ckpt::Options opts;
  opts.store = store_dir ? store_dir : "";
  auto cp = ckpt::Checkpointer::open(opts);
  if (!cp.ok()) {
    if (err_buf && err_len) {
      std::string m = cp.status().to_string();
      std::snprintf(err_buf, err_len, "%s", m.c_str());
    }
    return nullptr;
  }
  auto* h = new ckpt_handle;
  h->cp = std::move(cp).value();
  return h;
}

void ckpt_close(ckpt_t* h) { delete h; }

const char* ckpt_last_error(const ckpt_t* h) { return h ? h->error.c_str() : "null handle"; }

int ckpt_protect(ckpt_t* h, const char* name, void* addr, size_t len) {
  return fail(h, h->cp->protect(name ? name : "", addr, len));
}

int ckpt_unprotect(ckpt_t* h, const char* name) {
  return fail(h, h->cp->unprotect(name ? name : ""));
}

int ckpt_arena_create(ckpt_t* h, const char* name, size_t size, uintptr_t base,
                      uintptr_t* base_out) {
  auto a = h->cp->create_arena(name ? name : "", {.size = size, .base = base});
  if (!a.ok()) return fail(h, a.status());
  if (base_out) *base_out = (*a)->base();
  return CKPT_OK;
}

static ckpt::Arena* find_arena(ckpt_t* h, const char* name) {
  ckpt::Arena* a = h->cp->arena(name ? name : "");
  if (!a) h->error = std::string("not found: no arena named '") + (name ? name : "") + "'";
  return a;
}

void* ckpt_arena_alloc(ckpt_t* h, const char* arena, size_t size) {
  ckpt::Arena* a = find_arena(h, arena);
  return a ? a->allocate(size, 16) : nullptr;
}

void ckpt_arena_free(ckpt_t* h, const char* arena, void* p) {
  if (ckpt::Arena* a = find_arena(h, arena)) a->deallocate(p);
}

int ckpt_arena_set_root(ckpt_t* h, const char* arena, void* root) {
  ckpt::Arena* a = find_arena(h, arena);
  if (!a) return CKPT_E_NOT_FOUND;
  a->set_root(root);
  return CKPT_OK;
}

void* ckpt_arena_root(ckpt_t* h, const char* arena) {
  ckpt::Arena* a = find_arena(h, arena);
  return a ? a->root() : nullptr;
}

int ckpt_put_blob(ckpt_t* h, const char* name, const void* data, size_t len) {
  return fail(
      h, h->cp->put_blob(name ? name : "", {static_cast<const uint8_t*>(data), data ? len : 0}));
}

int ckpt_get_blob(ckpt_t* h, const char* name, void** data_out, size_t* len_out) {
  auto b = h->cp->get_blob(name ? name : "");
  if (!b.ok()) return fail(h, b.status());
  void* p = std::malloc(b->empty() ? 1 : b->size());
  if (!p) return fail(h, ckpt::Status(ckpt::Code::kInternal, "out of memory"));
  std::memcpy(p, b->data(), b->size());
  *data_out = p;
  *len_out = b->size();
  return CKPT_OK;
}

int ckpt_checkpoint(ckpt_t* h, const char* label, char id_out[CKPT_ID_LEN]) {
  ckpt::CheckpointOptions o;
  if (label) o.labels.push_back(label);
  auto id = h->cp->checkpoint(o);
  if (!id.ok()) return fail(h, id.status());
  if (id_out) copy_id(*id, id_out);
  return CKPT_OK;
}

int ckpt_wait(ckpt_t* h) { return fail(h, h->cp->wait()); }

int ckpt_latest(ckpt_t* h, char id_out[CKPT_ID_LEN]) {
  auto l = h->cp->latest();
  if (!l.ok()) return fail(h, l.status());
  if (!*l) return 0;
  if (id_out) copy_id(**l, id_out);
  return 1;
}

int ckpt_restore(ckpt_t* h, const char* ref) {
  return ckpt_restore_mode(h, ref, CKPT_RESTORE_AUTO);
}

int ckpt_restore_mode(ckpt_t* h, const char* ref, int mode) {
  if (mode < CKPT_RESTORE_AUTO || mode > CKPT_RESTORE_LAZY)
    return fail(h,
                ckpt::Status(ckpt::Code::kInvalidArgument,
                             "ckpt_restore_mode: mode must be CKPT_RESTORE_AUTO, _EAGER or _LAZY"));
  ckpt::RestoreOptions o;
  o.mode = static_cast<ckpt::RestoreMode>(mode);  // same order as the C constants
  auto r = h->cp->restore(ref ? ref : "latest", o);
  return r.ok() ? CKPT_OK : fail(h, r.status());
}

int ckpt_wait_restored(ckpt_t* h) {
  ckpt::Status st = h->cp->wait_restored();
  return st.ok() ? CKPT_OK : fail(h, st);
}

void ckpt_free(void* p) { std::free(p); }

}  // extern "C"
