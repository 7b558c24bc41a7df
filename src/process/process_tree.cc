#include "process/process_tree.h"

#include <dirent.h>

#include <fstream>
#include <sstream>
#include <vector>

namespace ckpt {

namespace {

std::string read_line(const std::string& path) {
  std::ifstream f(path);
  std::string s;
  std::getline(f, s);
  return s;
}

// Children of every thread of `pid` (/proc/PID/task/TID/children).
std::vector<int> children_of(int pid) {
  std::vector<int> out;
  const std::string task = "/proc/" + std::to_string(pid) + "/task";
  DIR* d = ::opendir(task.c_str());
  if (!d) return out;
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    std::ifstream f(task + "/" + e->d_name + "/children");
    int c;
    while (f >> c) out.push_back(c);
  }
  ::closedir(d);
  return out;
}

// Parents before children, breadth first.
std::vector<std::pair<int, int>> tree_of(int root) {
  std::vector<std::pair<int, int>> out{{root, 0}};
  for (size_t i = 0; i < out.size() && out.size() < 4096; ++i)
    for (int c : children_of(out[i].first)) out.push_back({c, out[i].first});
  return out;
}

}  // namespace

std::vector<int> process_tree_pids(int pid) {
  std::vector<int> out;
  for (auto [p, parent] : tree_of(pid)) out.push_back(p);
  return out;
}

std::string process_comm(int pid) { return read_line("/proc/" + std::to_string(pid) + "/comm"); }

std::string describe_process_tree(int pid) {
  if (process_comm(pid).empty()) return {};
  std::string out;
  for (auto [p, parent] : tree_of(pid)) {
    if (!out.empty()) out += "; ";
    out += std::to_string(p) + " " + std::to_string(parent) + " " + process_comm(p);
  }
  return out;
}

uint64_t process_tree_rss(int pid) {
  uint64_t total = 0;
  for (auto [p, parent] : tree_of(pid)) {
    std::ifstream f("/proc/" + std::to_string(p) + "/status");
    std::string line;
    while (std::getline(f, line))
      if (line.rfind("VmRSS:", 0) == 0) total += std::stoull(line.substr(6)) * 1024;
  }
  return total;
}

}  // namespace ckpt
