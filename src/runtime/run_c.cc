// ckpt_run over the public C API only (the handle's layout belongs to api/c_api.cc).
#include <ckpt/run_c.h>
#include <ckpt/signals.h>

#include <cstdio>
#include <string>

namespace {

void put_error(char* buf, size_t len, const std::string& msg) {
  if (buf && len) std::snprintf(buf, len, "%s", msg.c_str());
}

// ckpt_open reports no code, only "<code name>: <message>"; recover the code from it.
int code_of_message(const std::string& msg) {
  for (int c = static_cast<int>(ckpt::Code::kInvalidArgument);
       c <= static_cast<int>(ckpt::Code::kInternal); ++c) {
    std::string prefix = std::string(ckpt::code_name(static_cast<ckpt::Code>(c))) + ":";
    if (msg.rfind(prefix, 0) == 0) return -c;
  }
  return CKPT_E_INTERNAL;
}

}  // namespace

extern "C" {

int ckpt_run_setup(const char* store, ckpt_run_fn setup, ckpt_run_fn init, ckpt_run_fn worker,
                   void* arg, char* err_buf, size_t err_len) {
  if (!worker) {
    put_error(err_buf, err_len, "invalid argument: ckpt_run: no worker function");
    return CKPT_E_INVALID;
  }
  char open_error[1024] = "";
  ckpt_t* h = ckpt_open(store, open_error, sizeof open_error);
  if (!h) {
    put_error(err_buf, err_len, open_error);
    return code_of_message(open_error);
  }
  // Library failures keep their message; callback failures return their own value.
  auto fail = [&](int rc, const char* what) {
    put_error(err_buf, err_len, std::string("ckpt_run: ") + what + ": " + ckpt_last_error(h));
    ckpt_close(h);
    return rc;
  };
  int rc = 0;
  if (setup && (rc = setup(h, arg)) != 0) {
    ckpt_close(h);
    return rc;
  }
  char id[CKPT_ID_LEN];
  int found = ckpt_latest(h, id);
  if (found < 0) return fail(found, "latest");
  if (found == 1) {
    if ((rc = ckpt_restore(h, id)) != CKPT_OK)
      return fail(rc, (std::string("restore ") + id).c_str());
  } else if (init && (rc = init(h, arg)) != 0) {
    ckpt_close(h);
    return rc;
  }
  rc = worker(h, arg);
  int waited = ckpt_wait(h);
  if (rc == 0 && waited != CKPT_OK) return fail(waited, "wait");
  ckpt_close(h);
  return rc;
}

int ckpt_run(const char* store, ckpt_run_fn init, ckpt_run_fn worker, void* arg) {
  return ckpt_run_setup(store, nullptr, init, worker, arg, nullptr, 0);
}

int ckpt_install_signal_handlers(void) {
  ckpt::Status st = ckpt::install_signal_handlers();
  return st.ok() ? CKPT_OK : -static_cast<int>(st.code());
}

void ckpt_uninstall_signal_handlers(void) { ckpt::uninstall_signal_handlers(); }
int ckpt_checkpoint_requested(void) { return ckpt::checkpoint_requested() ? 1 : 0; }
int ckpt_exit_requested(void) { return ckpt::exit_requested() ? 1 : 0; }

}  // extern "C"
