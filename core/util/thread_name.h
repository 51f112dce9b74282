// Names a thread, as `top -H`, `ps -L`, perf and gdb show it, so that an operator (or
// a profile) can tell trashd's threads apart. Called by the thread that started it,
// right after, so the name is there before the starter goes on. The kernel keeps at
// most 15 characters.
#pragma once

#include <pthread.h>

#include <string>
#include <thread>

namespace trashd {

inline void NameThread(std::thread& thread, const std::string& name) {
  pthread_setname_np(thread.native_handle(), name.substr(0, 15).c_str());
}

}  // namespace trashd
