/* Worker-loop restart and operator signals for C programs (C side of run.h, signals.h).
 *
 *   static int init(ckpt_t* h, void* arg)   { ...create arena, build state...; return 0; }
 *   static int worker(ckpt_t* h, void* arg) {
 *     struct state* s = ckpt_arena_root(h, "state");
 *     while (s->step < N) {
 *       advance(s);
 *       if (ckpt_exit_requested()) { ckpt_checkpoint(h, NULL, NULL); return ckpt_wait(h); }
 *       if (ckpt_checkpoint_requested() || s->step % 100 == 0) ckpt_checkpoint(h, NULL, NULL);
 *     }
 *     return 0;
 *   }
 *   int main(void) { ckpt_install_signal_handlers(); return ckpt_run("/var/lib/app", init, worker,
 * NULL); }
 */
#ifndef CKPT_RUN_C_H_
#define CKPT_RUN_C_H_

#include <ckpt/ckpt.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef int (*ckpt_run_fn)(ckpt_t* h, void* arg);

/* Opens a checkpointer on `store`. If the store holds a checkpoint, restores "latest" and
 * calls worker(h, arg), skipping init; otherwise calls init(h, arg) (if not NULL), then
 * worker(h, arg). After the worker returns 0, waits until every checkpoint is durable.
 * Returns the worker's value (or init's, if non-zero: the worker is then not called),
 * or a negative ckpt_code if opening, restoring or the final wait failed. Keep the
 * callbacks' own return values >= 0 to tell them apart. The handle is closed on return. */
int ckpt_run(const char* store, ckpt_run_fn init, ckpt_run_fn worker, void* arg);

/* ckpt_run with a setup callback that runs on both paths before restore and init (protect
 * ranges, create arenas), and the message of a library failure written to err_buf. */
int ckpt_run_setup(const char* store, ckpt_run_fn setup, ckpt_run_fn init, ckpt_run_fn worker,
                   void* arg, char* err_buf, size_t err_len);

/* signals.h: SIGUSR1 -> checkpoint requested, SIGTERM -> exit requested. */
int ckpt_install_signal_handlers(void); /* CKPT_OK or a negative ckpt_code */
void ckpt_uninstall_signal_handlers(void);
int ckpt_checkpoint_requested(void); /* 1 once per request (consumes it), else 0 */
int ckpt_exit_requested(void);       /* 1 after SIGTERM, else 0 */

#ifdef __cplusplus
}
#endif

#endif /* CKPT_RUN_C_H_ */
