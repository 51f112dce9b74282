#include "auth/password.h"

#include <sodium.h>

#include <string>

namespace trashd::auth {
namespace {

constexpr size_t kMinPassword = 8;
constexpr size_t kMaxPassword = 1024;

bool SodiumReady() {
  static const bool ready = sodium_init() >= 0;
  return ready;
}

}  // namespace

Status CheckPasswordRules(std::string_view password) {
  if (password.size() < kMinPassword) {
    return InvalidArgument("a password must have at least 8 characters");
  }
  if (password.size() > kMaxPassword) {
    return InvalidArgument("a password must have at most 1024 characters");
  }
  return Status::Ok();
}

Result<std::string> HashPassword(std::string_view password) {
  if (!SodiumReady()) return Internal("libsodium could not start");
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(
          out, password.data(), password.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
          crypto_pwhash_MEMLIMIT_INTERACTIVE, crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return Internal("out of memory while hashing a password");
  }
  return std::string(out);
}

bool VerifyPassword(std::string_view hash, std::string_view password) {
  if (!SodiumReady() || hash.empty() || hash.size() >= crypto_pwhash_STRBYTES) {
    return false;
  }
  std::string text(hash);  // libsodium wants it NUL-terminated
  return crypto_pwhash_str_verify(text.c_str(), password.data(), password.size()) == 0;
}

}  // namespace trashd::auth
