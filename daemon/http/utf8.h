// UTF-8: the one check that a text is valid UTF-8 (RFC 3629: no overlong forms, no
// surrogates, nothing past U+10FFFF), and the one way to make any text valid for a
// message or an answer: each ill-formed sequence becomes U+FFFD, one per maximal
// subpart, as Unicode §3.9 recommends. Bytes below 0x80 are never part of an
// ill-formed sequence, so repairing serialized JSON leaves its structure untouched.
//
// Used by the router (refusing input), the JSON answers of both listeners (repairing
// text an older version stored) and trashctl (measuring and escaping what it prints).
// Pure functions: safe from any thread.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace trashd {

// The sequence that starts at text[pos] (pos < text.size()): its length and, when it
// is well-formed, its code point. An ill-formed sequence has valid == false and the
// length of its maximal subpart (at least 1 byte), which one U+FFFD replaces.
struct Utf8Sequence {
  size_t length = 1;
  char32_t code_point = 0;
  bool valid = false;
};
Utf8Sequence Utf8SequenceAt(std::string_view text, size_t pos);

bool IsValidUtf8(std::string_view text);

// `text` with each ill-formed sequence replaced by U+FFFD; valid text comes back as is.
std::string ValidUtf8(std::string_view text);

}  // namespace trashd
