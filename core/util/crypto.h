// Hashing and randomness, from OpenSSL's libcrypto.
#pragma once

#include <string>
#include <string_view>

namespace trashd::crypto {

// Lower-case hex of any bytes (two digits a byte).
std::string HexOf(std::string_view bytes);
// SHA-256 of `data`: its 32 bytes.
std::string Sha256Of(std::string_view data);
// Lower-case hex SHA-256 of `data`.
std::string Sha256Hex(std::string_view data);
// Incremental SHA-256 for content that arrives in pieces.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void Update(std::string_view data);
  std::string FinishHex();

 private:
  void* ctx_;
};
// Lower-case hex HMAC-SHA256 of `data` under `key` (signs webhook deliveries).
std::string HmacSha256Hex(std::string_view key, std::string_view data);
// `n` bytes from the OS's CSPRNG, as lower-case hex (2n characters).
std::string RandomHex(size_t n);
// Characters of Crockford's base32 alphabet, random.
std::string RandomBase32(size_t chars);
// Compares in time that depends only on the lengths.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace trashd::crypto
