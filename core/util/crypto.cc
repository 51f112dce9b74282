#include "util/crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <stdexcept>

namespace trashd::crypto {
namespace {

std::string Hex(const unsigned char* p, size_t n) {
  return HexOf(std::string_view(reinterpret_cast<const char*>(p), n));
}

// SHA-256, fetched once: with OpenSSL 3, EVP_sha256() at each use makes every
// digest look the algorithm up again (a lock and a table search per API key check).
const EVP_MD* Sha256Md() {
  static const EVP_MD* const md = [] {
    const EVP_MD* fetched = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    return fetched ? fetched : EVP_sha256();
  }();
  return md;
}

void Random(unsigned char* p, size_t n) {
  if (RAND_bytes(p, static_cast<int>(n)) != 1)
    throw std::runtime_error("RAND_bytes failed");
}

}  // namespace

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  EVP_DigestInit_ex(static_cast<EVP_MD_CTX*>(ctx_), Sha256Md(), nullptr);
}
Sha256::~Sha256() { EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_)); }
void Sha256::Update(std::string_view data) {
  EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(ctx_), data.data(), data.size());
}
std::string Sha256::FinishHex() {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(static_cast<EVP_MD_CTX*>(ctx_), md, &len);
  return Hex(md, len);
}

std::string Sha256Of(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!EVP_Digest(data.data(), data.size(), md, &len, Sha256Md(), nullptr))
    throw std::runtime_error("EVP_Digest failed");
  return std::string(reinterpret_cast<const char*>(md), len);
}

std::string Sha256Hex(std::string_view data) { return HexOf(Sha256Of(data)); }

std::string HmacSha256Hex(std::string_view key, std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!HMAC(Sha256Md(), key.data(), static_cast<int>(key.size()),
            reinterpret_cast<const unsigned char*>(data.data()), data.size(), md, &len)) {
    throw std::runtime_error("HMAC failed");
  }
  return Hex(md, len);
}

std::string RandomHex(size_t n) {
  std::string buf(n, '\0');
  Random(reinterpret_cast<unsigned char*>(buf.data()), n);
  return Hex(reinterpret_cast<const unsigned char*>(buf.data()), n);
}

std::string RandomBase32(size_t chars) {
  static const char kAlphabet[] = "0123456789abcdefghjkmnpqrstvwxyz";
  std::string buf(chars, '\0');
  Random(reinterpret_cast<unsigned char*>(buf.data()), chars);
  for (char& c : buf) c = kAlphabet[static_cast<unsigned char>(c) & 31];
  return buf;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string HexOf(std::string_view bytes) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out(bytes.size() * 2, '0');
  for (size_t i = 0; i < bytes.size(); ++i) {
    const auto b = static_cast<unsigned char>(bytes[i]);
    out[2 * i] = kDigits[b >> 4];
    out[2 * i + 1] = kDigits[b & 15];
  }
  return out;
}

}  // namespace trashd::crypto
