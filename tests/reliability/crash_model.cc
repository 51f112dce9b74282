#include "reliability/crash_model.h"

#include <cstdio>
#include <filesystem>
#include <fstream>

namespace trashd::reliability {

const char* StateName(State s) {
  switch (s) {
    case State::kNone:
      return "none";
    case State::kActive:
      return "active";
    case State::kTrashed:
      return "trashed";
    case State::kPurged:
      return "purged";
  }
  return "?";
}

const char* OpName(OpKind k) {
  switch (k) {
    case OpKind::kCreate:
      return "create";
    case OpKind::kUpload:
      return "upload";
    case OpKind::kTrash:
      return "trash";
    case OpKind::kRestore:
      return "restore";
    case OpKind::kPurge:
      return "purge";
    case OpKind::kEmpty:
      return "empty-trash";
  }
  return "?";
}

DriverClock::DriverClock(std::string path) : path_(std::move(path)) { Advance(0); }

void DriverClock::Advance(TimeMs by) {
  TimeMs offset = high_ += by;
  std::string next = path_ + ".next";
  {
    std::ofstream out(next, std::ios::trunc);
    out << offset << "\n";
  }
  std::filesystem::rename(next, path_);
  low_ = offset;
}

std::string Rng::Bytes(size_t n) {
  std::string out(n, '\0');
  for (char& c : out) c = static_cast<char>(gen_() & 0xff);
  return out;
}

}  // namespace trashd::reliability
