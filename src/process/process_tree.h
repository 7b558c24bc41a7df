// What a process tree looks like before CRIU freezes it, read from /proc: recorded in
// the manifest (attribute "process_tree") so `ckpt show` says what was dumped.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ckpt {

// "PID PPID COMM" for the process and every descendant, "; "-separated, parents first.
// Empty if the process does not exist.
std::string describe_process_tree(int pid);

// The pids of the process and every descendant, parents first.
std::vector<int> process_tree_pids(int pid);

// The process's command name (/proc/PID/comm), empty if it does not exist.
std::string process_comm(int pid);

// Resident bytes of the process and its descendants (VmRSS), for sizing the work dir.
uint64_t process_tree_rss(int pid);

}  // namespace ckpt
