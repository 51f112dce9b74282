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

// The byte encodings every writer below shares: each writes at p and returns the end.
namespace record_bytes {
constexpr size_t kMaxVarint = 10;
inline char* Varint(char* p, uint64_t v) {
  while (v >= 0x80) {
    *p++ = static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<char>(v);
  return p;
}
inline char* Bool(char* p, bool v) {
  *p++ = v ? 1 : 0;
  return p;
}
inline char* String(char* p, std::string_view s) {
  p = Varint(p, s.size());
  if (!s.empty()) std::memcpy(p, s.data(), s.size());
  return p + s.size();
}
}  // namespace record_bytes

// Writes one record. With a caller's RecordBuffer the record lives in that buffer
// (view() stays valid until the buffer is written again); otherwise in the writer.
class RecordWriter {
 public:
  static constexpr size_t kMaxVarint = record_bytes::kMaxVarint;

  explicit RecordWriter(uint8_t version = 1) : RecordWriter(&own_, version) {}
  // Writes into *reuse from its start, keeping its capacity: for hot loops.
  explicit RecordWriter(RecordBuffer* reuse, uint8_t version = 1) : buf_(reuse) {
    Room(1)[0] = static_cast<char>(version);
    len_ = 1;
  }
  RecordWriter(const RecordWriter&) = delete;
  RecordWriter& operator=(const RecordWriter&) = delete;

  // Fields written into room made once for all of them, with no capacity check per
  // field: for the encoders a cascade runs per descendant. The caller's bound must
  // cover every field it writes (kMaxVarint per number, plus each string's size). The
  // writer's length follows when the Reserved ends; use the writer again only then.
  class Reserved {
   public:
    Reserved(const Reserved&) = delete;
    Reserved& operator=(const Reserved&) = delete;
    ~Reserved() { w_->len_ = static_cast<size_t>(p_ - w_->buf_->data()); }
    Reserved& U(uint64_t v) {
      p_ = record_bytes::Varint(p_, v);
      return *this;
    }
    Reserved& I(int64_t v) { return U(static_cast<uint64_t>(v)); }
    Reserved& B(bool v) {
      p_ = record_bytes::Bool(p_, v);
      return *this;
    }
    Reserved& S(std::string_view s) {
      p_ = record_bytes::String(p_, s);
      return *this;
    }

   private:
    friend class RecordWriter;
    Reserved(RecordWriter* w, char* p) : w_(w), p_(p) {}
    RecordWriter* w_;
    char* p_;
  };
  Reserved Reserve(size_t bound) { return Reserved(this, Room(bound)); }

  RecordWriter& U(uint64_t v) {
    char* p = Room(kMaxVarint);
    len_ += static_cast<size_t>(record_bytes::Varint(p, v) - p);
    return *this;
  }
  RecordWriter& I(int64_t v) { return U(static_cast<uint64_t>(v)); }
  RecordWriter& B(bool v) {
    record_bytes::Bool(Room(1), v);
    ++len_;
    return *this;
  }
  RecordWriter& S(std::string_view s) {
    char* p = Room(kMaxVarint + s.size());
    len_ += static_cast<size_t>(record_bytes::String(p, s) - p);
    return *this;
  }
  RecordWriter& List(const std::vector<std::string>& items);
  std::string_view view() const { return {buf_->data(), len_}; }
  std::string str() const { return std::string(view()); }

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
