// Building and reading the keys of store tables.
//
// A key is a sequence of parts joined by a NUL byte; numbers are 8 bytes big-endian so
// that byte order is numeric order. Names that go into keys (workspace slugs, ids,
// slugs, types) never contain NUL: the engine validates them before they get here.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace trashd::keys {

constexpr char kSep = '\0';

inline void AppendU64(std::string* out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8)
    out->push_back(static_cast<char>(v >> shift));
}
inline uint64_t ReadU64(std::string_view s) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8 && i < s.size(); ++i)
    v = (v << 8) | static_cast<uint8_t>(s[i]);
  return v;
}
// Times sort newest first when inverted.
inline uint64_t Inverted(int64_t t) { return ~static_cast<uint64_t>(t); }

// Key builder: Key().S("ws").S("id").U(7).str()
class Key {
 public:
  Key& S(std::string_view part) {
    if (!first_) buf_.push_back(kSep);
    buf_.append(part);
    first_ = false;
    return *this;
  }
  Key& U(uint64_t v) {
    if (!first_) buf_.push_back(kSep);
    AppendU64(&buf_, v);
    first_ = false;
    return *this;
  }
  // Ends the key with a separator, to scan all keys below this prefix.
  Key& Prefix() {
    buf_.push_back(kSep);
    return *this;
  }
  const std::string& str() const { return buf_; }
  operator std::string_view() const { return buf_; }  // NOLINT

 private:
  std::string buf_;
  bool first_ = true;
};

// Splits a key made of string parts. Fixed-width number parts must be read with
// ReadU64 at a known offset instead, since their bytes may contain NUL.
std::vector<std::string_view> Split(std::string_view key);

// The last part of a key (after the final separator).
inline std::string_view LastPart(std::string_view key) {
  size_t p = key.rfind(kSep);
  return p == std::string_view::npos ? key : key.substr(p + 1);
}

}  // namespace trashd::keys
