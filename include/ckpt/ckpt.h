/* C API over ckpt::Checkpointer, for C programs and FFI.
 *
 * Every function returning int returns CKPT_OK (0) or a negative ckpt_code; the
 * message of the last failure on a handle is ckpt_last_error(h). Handles are not
 * thread-safe. Memory returned through out-parameters is owned by the caller and is
 * released with ckpt_free().
 */
#ifndef CKPT_CKPT_H_
#define CKPT_CKPT_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum ckpt_code {
  CKPT_OK = 0,
  CKPT_E_INVALID = -1,
  CKPT_E_NOT_FOUND = -2,
  CKPT_E_CORRUPTION = -3,
  CKPT_E_IO = -4,
  CKPT_E_NO_SPACE = -5,
  CKPT_E_BUSY = -6,
  CKPT_E_UNSUPPORTED = -7,
  CKPT_E_PRECONDITION = -8,
  CKPT_E_EXISTS = -9,
  CKPT_E_INTERNAL = -10,
};

typedef struct ckpt_handle ckpt_t;

#define CKPT_ID_LEN 33 /* 32 hex digits + NUL */

/* Opens a checkpointer on `store_dir` (created if missing). On failure returns NULL
 * and, if err_buf is non-NULL, writes the message there (truncated to err_len). */
ckpt_t* ckpt_open(const char* store_dir, char* err_buf, size_t err_len);
void ckpt_close(ckpt_t* h);
const char* ckpt_last_error(const ckpt_t* h);

int ckpt_protect(ckpt_t* h, const char* name, void* addr, size_t len);
int ckpt_unprotect(ckpt_t* h, const char* name);

/* base == 0: derived from the name. Returns the arena's base address through *base_out. */
int ckpt_arena_create(ckpt_t* h, const char* name, size_t size, uintptr_t base,
                      uintptr_t* base_out);
void* ckpt_arena_alloc(ckpt_t* h, const char* arena, size_t size);
void ckpt_arena_free(ckpt_t* h, const char* arena, void* p);
int ckpt_arena_set_root(ckpt_t* h, const char* arena, void* root);
void* ckpt_arena_root(ckpt_t* h, const char* arena);

int ckpt_put_blob(ckpt_t* h, const char* name, const void* data, size_t len);
/* *data_out is malloc'd; release with ckpt_free. */
int ckpt_get_blob(ckpt_t* h, const char* name, void** data_out, size_t* len_out);

/* label may be NULL; at most 65535 bytes, else CKPT_E_INVALID and nothing is captured.
 * id_out receives the checkpoint id (CKPT_ID_LEN bytes) once it is captured; it is durable
 * when ckpt_wait() returns CKPT_OK. If the previous checkpoint failed in the background
 * (e.g. CKPT_E_NO_SPACE) and ckpt_wait() has not reported it, this call reports it (the
 * message names that checkpoint, the file and the cause) and takes no checkpoint; the
 * next call tries again. */
int ckpt_checkpoint(ckpt_t* h, const char* label, char id_out[CKPT_ID_LEN]);
/* Blocks until every checkpoint is durable; the first failure not yet reported. */
int ckpt_wait(ckpt_t* h);
/* 1 and the id if the store has a checkpoint, 0 if none, <0 on error. */
int ckpt_latest(ckpt_t* h, char id_out[CKPT_ID_LEN]);
/* ref: "latest", an id or a unique prefix; NULL means "latest". Restores with the
   default mode: lazily where the dirty tracker allows (see RestoreMode in options.h). */
int ckpt_restore(ckpt_t* h, const char* ref);
/* The same with a mode: CKPT_RESTORE_AUTO, CKPT_RESTORE_EAGER or CKPT_RESTORE_LAZY. */
enum { CKPT_RESTORE_AUTO = 0, CKPT_RESTORE_EAGER = 1, CKPT_RESTORE_LAZY = 2 };
int ckpt_restore_mode(ckpt_t* h, const char* ref, int mode);
/* After a lazy restore: blocks until every page is back. */
int ckpt_wait_restored(ckpt_t* h);

void ckpt_free(void* p);

#ifdef __cplusplus
}
#endif

#endif /* CKPT_CKPT_H_ */
