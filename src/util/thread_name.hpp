// Threads with names, as `top -H`, `ps -L` and /proc/PID/task/TID/comm show them (the
// benchmark finds the syncer by its name). Linux keeps 15 bytes of a name; longer is cut.
#pragma once

#include <pthread.h>

#include <string>
#include <thread>
#include <utility>

namespace util {

// Starts a thread that names itself `name`, then runs `body`.
template <typename Body>
std::thread named_thread(std::string name, Body body) {
  return std::thread([name = std::move(name), body = std::move(body)]() mutable {
    pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
    body();
  });
}

}  // namespace util
