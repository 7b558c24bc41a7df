#include "store/fault_reader.h"

#include <grp.h>
#include <sys/wait.h>
#include <unistd.h>

namespace ckpt::test::faults {

namespace {

void put(std::string& out, const std::string& s) { out += std::to_string(s.size()) + ":" + s; }
std::string take(const std::string& in, size_t& at) {
  size_t colon = in.find(':', at);
  if (colon == std::string::npos) return {};
  size_t n = std::stoul(in.substr(at, colon - at));
  at = colon + 1 + n;
  return in.substr(colon + 1, n);
}
void put_list(std::string& out, const std::vector<std::string>& v) {
  put(out, std::to_string(v.size()));
  for (const auto& s : v) put(out, s);
}
std::vector<std::string> take_list(const std::string& in, size_t& at) {
  std::vector<std::string> v(std::stoul(take(in, at)));
  for (auto& s : v) s = take(in, at);
  return v;
}
std::string encode(const ReadOutcome& r) {
  std::string out;
  for (const auto* s : {&r.open_error, &r.verify_error, &r.problems}) put(out, *s);
  put(out, r.verify_ok ? "1" : "0");
  for (const auto* v : {&r.damaged, &r.restore_error, &r.wrong}) put_list(out, *v);
  return out;
}
ReadOutcome decode(const std::string& in) {
  ReadOutcome r;
  size_t at = 0;
  for (auto* s : {&r.open_error, &r.verify_error, &r.problems}) *s = take(in, at);
  r.verify_ok = take(in, at) == "1";
  for (auto* v : {&r.damaged, &r.restore_error, &r.wrong}) *v = take_list(in, at);
  return r;
}

}  // namespace

bool exact(Store& s, const CheckpointRecord& r, std::string* error) {
  for (const auto& [name, bytes] : r.streams) {
    auto got = s.read_stream(r.id, name);
    if (!got.ok()) {
      *error = got.status().to_string();
      return false;
    }
    if (*got != bytes) {
      *error = "WRONG BYTES in stream '" + name + "'";
      return false;
    }
  }
  return true;
}

ReadOutcome read_store(const PristineStore& p, const std::string& store,
                       const std::string& identity) {
  ReadOutcome r;
  const size_t n = p.checkpoints.size();
  r.restore_error.assign(n, "");
  r.wrong.assign(n, "");
  auto s = Store::open(store, p.reader_options(identity));
  if (!s.ok()) {
    r.open_error = s.status().to_string();
    r.restore_error.assign(n, "store does not open: " + r.open_error);
    return r;
  }
  auto v = (*s)->verify();
  if (!v.ok()) {
    r.verify_error = v.status().to_string();
  } else {
    r.verify_ok = v->ok();
    r.damaged = v->damaged_checkpoints;
    for (const auto& pr : v->problems) {
      r.problems += pr.object + " | " + pr.path + " | " + pr.message + " |";
      for (const auto& a : pr.affected) r.problems += " " + a;
      r.problems += "\n";
    }
  }
  for (size_t i = 0; i < n; ++i) {
    const auto& rec = p.checkpoints[i];
    for (const auto& [name, bytes] : rec.streams) {
      auto got = (*s)->read_stream(rec.id, name);
      if (!got.ok()) {
        r.restore_error[i] = got.status().to_string();
        break;
      }
      if (*got != bytes) {
        r.wrong[i] = "stream '" + name + "' came back with different bytes";
        r.restore_error[i] = r.wrong[i];
        break;
      }
    }
  }
  return r;
}

ReadOutcome read_store_as_nobody(const PristineStore& p, const std::string& store,
                                 const std::string& identity) {
  uid_t uid;
  gid_t gid;
  ReadOutcome failed;
  if (!nobody_ids(&uid, &gid)) {
    failed.open_error = "no user nobody";
    return failed;
  }
  int fds[2];
  if (pipe(fds) != 0) return failed;
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    if (setgroups(0, nullptr) != 0 || setresgid(gid, gid, gid) != 0 ||
        setresuid(uid, uid, uid) != 0)
      _exit(3);
    std::string out = encode(read_store(p, store, identity));
    size_t done = 0;
    while (done < out.size()) {
      ssize_t w = write(fds[1], out.data() + done, out.size() - done);
      if (w <= 0) _exit(4);
      done += size_t(w);
    }
    _exit(0);
  }
  close(fds[1]);
  std::string data;
  char buf[4096];
  ssize_t got;
  while ((got = read(fds[0], buf, sizeof buf)) > 0) data.append(buf, size_t(got));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    failed.open_error = "the reader running as nobody died (status " + std::to_string(status) + ")";
    failed.restore_error.assign(p.checkpoints.size(), failed.open_error);
    failed.wrong.assign(p.checkpoints.size(), "");
    return failed;
  }
  return decode(data);
}

}  // namespace ckpt::test::faults
