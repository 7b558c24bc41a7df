/* The C API from a C program: checkpoint in one process, restore in a second run. */
#include <ckpt/ckpt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct state {
  struct state* self; /* a pointer into the arena must survive restore */
  long counter;
  char text[64];
};

static int fail(ckpt_t* h, const char* what) {
  fprintf(stderr, "c_api_test: %s: %s\n", what, h ? ckpt_last_error(h) : "");
  return 1;
}

int main(int argc, char** argv) {
  if (argc != 3) return 2;
  const char* store = argv[1];
  int write = strcmp(argv[2], "write") == 0;
  char err[512];
  ckpt_t* h = ckpt_open(store, err, sizeof err);
  if (!h) {
    fprintf(stderr, "c_api_test: open: %s\n", err);
    return 1;
  }
  static char buf[10000];
  if (ckpt_protect(h, "buf", buf, sizeof buf) != CKPT_OK) return fail(h, "protect");
  uintptr_t base = 0;
  if (write) {
    if (ckpt_arena_create(h, "c-state", 1 << 20, 0, &base) != CKPT_OK) return fail(h, "arena");
    struct state* s = ckpt_arena_alloc(h, "c-state", sizeof *s);
    s->self = s;
    s->counter = 41;
    strcpy(s->text, "hello from C");
    ckpt_arena_set_root(h, "c-state", s);
    memset(buf, 'x', sizeof buf);
    if (ckpt_put_blob(h, "note", "blob!", 5) != CKPT_OK) return fail(h, "put_blob");
    char id[CKPT_ID_LEN];
    if (ckpt_checkpoint(h, "c-label", id) != CKPT_OK) return fail(h, "checkpoint");
    if (ckpt_wait(h) != CKPT_OK) return fail(h, "wait");
    if (strlen(id) != 32) return fail(h, "id length");
    /* A label the manifest cannot hold is refused by the call, not committed unreadable. */
    static char long_label[70001];
    memset(long_label, 'L', sizeof long_label - 1);
    if (ckpt_checkpoint(h, long_label, id) != CKPT_E_INVALID) return fail(h, "long label accepted");
    if (strstr(ckpt_last_error(h), "65535") == NULL) return fail(h, "long label message");
    if (ckpt_wait(h) != CKPT_OK) return fail(h, "wait after the refused label");
  } else {
    char id[CKPT_ID_LEN];
    if (ckpt_latest(h, id) != 1) return fail(h, "latest");
    if (ckpt_restore_mode(h, NULL, CKPT_RESTORE_LAZY) != CKPT_OK) return fail(h, "lazy restore");
    if (ckpt_wait_restored(h) != CKPT_OK) return fail(h, "wait_restored");
    if (ckpt_restore(h, NULL) != CKPT_OK) return fail(h, "restore");
    if (ckpt_restore_mode(h, NULL, 7) != CKPT_E_INVALID) return fail(h, "bad mode accepted");
    struct state* s = ckpt_arena_root(h, "c-state");
    if (!s || s->self != s || s->counter != 41 || strcmp(s->text, "hello from C") != 0)
      return fail(h, "restored arena state differs");
    for (size_t i = 0; i < sizeof buf; ++i)
      if (buf[i] != 'x') return fail(h, "restored range differs");
    void* data = NULL;
    size_t len = 0;
    if (ckpt_get_blob(h, "note", &data, &len) != CKPT_OK) return fail(h, "get_blob");
    if (len != 5 || memcmp(data, "blob!", 5) != 0) return fail(h, "blob differs");
    ckpt_free(data);
    if (ckpt_restore(h, "zz") != CKPT_E_INVALID) return fail(h, "bad ref accepted");
    if (strstr(ckpt_last_error(h), "not a checkpoint id") == NULL) return fail(h, "message");
  }
  ckpt_close(h);
  return 0;
}
