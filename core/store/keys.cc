#include "store/keys.h"

namespace trashd::keys {

std::vector<std::string_view> Split(std::string_view key) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t p = key.find(kSep, start);
    if (p == std::string_view::npos) {
      parts.push_back(key.substr(start));
      return parts;
    }
    parts.push_back(key.substr(start, p - start));
    start = p + 1;
  }
}

}  // namespace trashd::keys
