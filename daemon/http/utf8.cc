#include "http/utf8.h"

namespace trashd {

namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// The first index at or after `pos` whose byte is not ASCII, or text.size().
size_t SkipAscii(std::string_view text, size_t pos) {
  while (pos < text.size() && static_cast<unsigned char>(text[pos]) < 0x80) ++pos;
  return pos;
}

}  // namespace

Utf8Sequence Utf8SequenceAt(std::string_view text, size_t pos) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(text[pos + i]); };
  const unsigned char lead = byte(0);
  if (lead < 0x80) return {1, lead, true};
  // Table 3-7 of the Unicode Standard: how many bytes follow the lead, and the range
  // of the second byte (which rules out overlong forms, surrogates and > U+10FFFF).
  size_t follow = 0;
  unsigned char low = 0x80, high = 0xBF;
  char32_t code_point = 0;
  if (lead >= 0xC2 && lead <= 0xDF) {
    follow = 1;
    code_point = lead & 0x1F;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    follow = 2;
    code_point = lead & 0x0F;
    if (lead == 0xE0) low = 0xA0;
    if (lead == 0xED) high = 0x9F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    follow = 3;
    code_point = lead & 0x07;
    if (lead == 0xF0) low = 0x90;
    if (lead == 0xF4) high = 0x8F;
  } else {
    return {1, 0, false};
  }
  for (size_t i = 1; i <= follow; ++i) {
    if (pos + i >= text.size() || byte(i) < low || byte(i) > high) return {i, 0, false};
    code_point = (code_point << 6) | (byte(i) & 0x3F);
    low = 0x80;
    high = 0xBF;
  }
  return {follow + 1, code_point, true};
}

bool IsValidUtf8(std::string_view text) {
  for (size_t pos = SkipAscii(text, 0); pos < text.size();) {
    Utf8Sequence sequence = Utf8SequenceAt(text, pos);
    if (!sequence.valid) return false;
    pos = SkipAscii(text, pos + sequence.length);
  }
  return true;
}

std::string ValidUtf8(std::string_view text) {
  if (IsValidUtf8(text)) return std::string(text);
  std::string out;
  out.reserve(text.size() + 16);
  for (size_t pos = 0; pos < text.size();) {
    Utf8Sequence sequence = Utf8SequenceAt(text, pos);
    if (sequence.valid) {
      out.append(text, pos, sequence.length);
    } else {
      out += kReplacement;
    }
    pos += sequence.length;
  }
  return out;
}

}  // namespace trashd
