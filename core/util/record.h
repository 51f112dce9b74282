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
  explicit RecordWriter(uint8_t version = 1) : out_(&own_) { Start(version); }
  // Writes into *reuse (cleared first), keeping its capacity: for hot loops.
  explicit RecordWriter(std::string* reuse, uint8_t version = 1) : out_(reuse) {
    Start(version);
  }
  RecordWriter& U(uint64_t v) {
    char tmp[10];
    int n = 0;
    while (v >= 0x80) {
      tmp[n++] = static_cast<char>((v & 0x7f) | 0x80);
      v >>= 7;
    }
    tmp[n++] = static_cast<char>(v);
    out_->append(tmp, static_cast<size_t>(n));
    return *this;
  }
  RecordWriter& I(int64_t v) { return U(static_cast<uint64_t>(v)); }
  RecordWriter& B(bool v) {
    out_->push_back(v ? 1 : 0);
    return *this;
  }
  RecordWriter& S(std::string_view s) {
    U(s.size());
    out_->append(s.data(), s.size());
    return *this;
  }
  RecordWriter& List(const std::vector<std::string>& items);
  const std::string& str() const { return *out_; }

 private:
  void Start(uint8_t version) {
    out_->clear();
    out_->push_back(static_cast<char>(version));
  }
  std::string own_;
  std::string* out_;
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
  // Reads a string into *out, reusing its capacity.
  void S(std::string* out);
  std::vector<std::string> List();
  bool ok() const { return ok_; }

 private:
  std::string_view data_;
  size_t pos_ = 0;
  uint8_t version_ = 0;
  bool ok_ = true;
};

}  // namespace trashd
