// A compact binary encoding for store records: varint integers and length-prefixed
// strings, read back in the order written. Each record starts with a version byte so
// a later schema can read older records.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace trashd {

class RecordWriter {
 public:
  explicit RecordWriter(uint8_t version = 1) {
    buf_.push_back(static_cast<char>(version));
  }
  RecordWriter& U(uint64_t v);
  RecordWriter& I(int64_t v) { return U(static_cast<uint64_t>(v)); }
  RecordWriter& B(bool v) {
    buf_.push_back(v ? 1 : 0);
    return *this;
  }
  RecordWriter& S(std::string_view s);
  RecordWriter& List(const std::vector<std::string>& items);
  const std::string& str() const { return buf_; }

 private:
  std::string buf_;
};

// Reads what RecordWriter wrote. A short or corrupt record sets ok() to false and
// yields zero values; callers check ok() once at the end.
class RecordReader {
 public:
  explicit RecordReader(std::string_view data);
  uint8_t version() const { return version_; }
  uint64_t U();
  int64_t I() { return static_cast<int64_t>(U()); }
  bool B();
  std::string S();
  std::vector<std::string> List();
  bool ok() const { return ok_; }

 private:
  std::string_view data_;
  size_t pos_ = 0;
  uint8_t version_ = 0;
  bool ok_ = true;
};

}  // namespace trashd
