// A compact binary encoding for store records: varint integers and length-prefixed
// strings, read back in the order written. Each record starts with a version byte so
// a later schema can read older records. This is the one encoder of the on-disk
// records. A writer and its buffer belong to one thread at a time.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace trashd {

// A reusable byte buffer that grows without zero-filling: a cascade encodes one record
// per descendant into the same buffer, so a long walk allocates at most a few times.
class RecordBuffer {
 public:
  char* data() const { return data_.get(); }
  size_t capacity() const { return capacity_; }
  // Makes room for at least n bytes, keeping the first `keep` bytes.
  char* Grow(size_t n, size_t keep);

 private:
  std::unique_ptr<char[]> data_;
  size_t capacity_ = 0;
};

// Writes one record. With a caller's RecordBuffer the record lives in that buffer
// (view() stays valid until the buffer is written again); otherwise in the writer.
class RecordWriter {
 public:
  explicit RecordWriter(uint8_t version = 1) : RecordWriter(&own_, version) {}
  // Writes into *reuse from its start, keeping its capacity: for hot loops.
  explicit RecordWriter(RecordBuffer* reuse, uint8_t version = 1) : buf_(reuse) {
    Room(1)[0] = static_cast<char>(version);
    len_ = 1;
  }
  RecordWriter(const RecordWriter&) = delete;
  RecordWriter& operator=(const RecordWriter&) = delete;

  // Makes room for n more bytes at once, so the fields that follow do not grow it.
  RecordWriter& Reserve(size_t n) {
    Room(n);
    return *this;
  }
  RecordWriter& U(uint64_t v) {
    char* p = Room(kMaxVarint);
    char* start = p;
    while (v >= 0x80) {
      *p++ = static_cast<char>((v & 0x7f) | 0x80);
      v >>= 7;
    }
    *p++ = static_cast<char>(v);
    len_ += static_cast<size_t>(p - start);
    return *this;
  }
  RecordWriter& I(int64_t v) { return U(static_cast<uint64_t>(v)); }
  RecordWriter& B(bool v) {
    Room(1)[0] = v ? 1 : 0;
    ++len_;
    return *this;
  }
  RecordWriter& S(std::string_view s) {
    U(s.size());
    if (!s.empty()) std::memcpy(Room(s.size()), s.data(), s.size());
    len_ += s.size();
    return *this;
  }
  RecordWriter& List(const std::vector<std::string>& items);
  std::string_view view() const { return {buf_->data(), len_}; }
  std::string str() const { return std::string(view()); }

  static constexpr size_t kMaxVarint = 10;

 private:
  // Where the next n bytes go, growing the buffer if they do not fit.
  char* Room(size_t n) {
    if (len_ + n > buf_->capacity()) buf_->Grow(len_ + n, len_);
    return buf_->data() + len_;
  }
  RecordBuffer own_;
  RecordBuffer* buf_;
  size_t len_ = 0;
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
