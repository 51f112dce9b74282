#include "util/record.h"

#include <utility>

namespace trashd {

char* RecordBuffer::Grow(size_t n, size_t keep) {
  if (n <= capacity_) return data_.get();
  size_t capacity = capacity_ < 64 ? 64 : capacity_;
  while (capacity < n) capacity *= 2;
  std::unique_ptr<char[]> grown(new char[capacity]);
  if (keep > 0) std::memcpy(grown.get(), data_.get(), keep);
  data_ = std::move(grown);
  capacity_ = capacity;
  return data_.get();
}

RecordWriter& RecordWriter::List(const std::vector<std::string>& items) {
  U(items.size());
  for (const auto& s : items) S(s);
  return *this;
}

RecordReader::RecordReader(std::string_view data) : data_(data) {
  if (data_.empty()) {
    ok_ = false;
  } else {
    version_ = static_cast<uint8_t>(data_[0]);
    pos_ = 1;
  }
}

uint64_t RecordReader::U() {
  uint64_t v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (pos_ >= data_.size()) {
      ok_ = false;
      return 0;
    }
    uint8_t b = static_cast<uint8_t>(data_[pos_++]);
    v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if (!(b & 0x80)) return v;
  }
  ok_ = false;
  return 0;
}

bool RecordReader::B() {
  if (pos_ >= data_.size()) {
    ok_ = false;
    return false;
  }
  return data_[pos_++] != 0;
}

std::string RecordReader::S() {
  uint64_t n = U();
  if (!ok_ || n > data_.size() - pos_) {
    ok_ = false;
    return {};
  }
  std::string s(data_.substr(pos_, n));
  pos_ += n;
  return s;
}

void RecordReader::S(std::string* out) {
  uint64_t n = U();
  if (!ok_ || n > data_.size() - pos_) {
    ok_ = false;
    out->clear();
    return;
  }
  out->assign(data_.substr(pos_, n));
  pos_ += n;
}

std::vector<std::string> RecordReader::List() {
  uint64_t n = U();
  std::vector<std::string> out;
  if (!ok_ || n > data_.size()) {
    ok_ = false;
    return out;
  }
  out.reserve(n);
  for (uint64_t i = 0; i < n && ok_; ++i) out.push_back(S());
  return out;
}

}  // namespace trashd
