// FillRequestHead: the method, target and headers of an HttpRequest from a parsed
// request head, as the server fills them (header names in lower case, a repeated
// header joined with ", "). A template over the head's type, so this header needs no
// Beast: connection.cc instantiates it with Beast's message, and so do the fuzz
// targets (tests/fuzz), which parse raw bytes with the same parser.
//
// A pure function of its arguments, safe from any thread.
#pragma once

#include <cctype>
#include <string>
#include <utility>

#include "http/router.h"

namespace trashd {

template <typename Head>
void FillRequestHead(const Head& head, HttpRequest& request) {
  request.method = std::string(head.method_string());
  request.target = std::string(head.target());
  for (const auto& field : head) {
    std::string name(field.name_string());
    for (char& c : name)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    auto [it, inserted] = request.headers.emplace(std::move(name), field.value());
    if (!inserted) {
      it->second += ", ";
      it->second += field.value();
    }
  }
}

}  // namespace trashd
