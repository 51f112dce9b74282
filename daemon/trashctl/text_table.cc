#include "trashctl/text_table.h"

#include <locale.h>
#include <wchar.h>

#include <algorithm>
#include <cstdio>

#include "http/utf8.h"

namespace trashctl {
namespace {

bool IsControl(char32_t c) { return c < 0x20 || (c >= 0x7F && c <= 0x9F); }

void AppendEscaped(std::string& out, unsigned value) {
  char buf[8];
  std::snprintf(buf, sizeof(buf), "\\x%02x", value & 0xFF);
  out += buf;
}

// The columns a terminal gives one printable code point. wcwidth reads the width
// tables of LC_CTYPE, so this thread borrows a UTF-8 one whatever trashctl's locale is.
size_t CodePointWidth(char32_t c) {
  if (c < 0x80) return 1;
  static const locale_t utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", locale_t{});
  if (utf8 == locale_t{}) return 1;
  locale_t before = uselocale(utf8);
  int width = wcwidth(static_cast<wchar_t>(c));
  uselocale(before);
  return width < 0 ? 1 : static_cast<size_t>(width);
}

}  // namespace

std::string Printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t pos = 0; pos < text.size();) {
    trashd::Utf8Sequence sequence = trashd::Utf8SequenceAt(text, pos);
    if (!sequence.valid) {
      for (size_t i = 0; i < sequence.length; ++i) {
        AppendEscaped(out, static_cast<unsigned char>(text[pos + i]));
      }
    } else if (IsControl(sequence.code_point)) {
      AppendEscaped(out, static_cast<unsigned>(sequence.code_point));
    } else {
      out.append(text, pos, sequence.length);
    }
    pos += sequence.length;
  }
  return out;
}

size_t DisplayWidth(std::string_view text) {
  size_t width = 0;
  for (size_t pos = 0; pos < text.size();) {
    trashd::Utf8Sequence sequence = trashd::Utf8SequenceAt(text, pos);
    // What Printable shows for an escaped byte or control: four ASCII columns each.
    if (!sequence.valid) {
      width += 4 * sequence.length;
    } else if (IsControl(sequence.code_point)) {
      width += 4;
    } else {
      width += CodePointWidth(sequence.code_point);
    }
    pos += sequence.length;
  }
  return width;
}

TextTable::TextTable(std::vector<std::string> header) : header_(std::move(header)) {}

void TextTable::AddRow(std::vector<std::string> row) { rows_.push_back(std::move(row)); }

void TextTable::Print(std::ostream& out) const {
  size_t columns = header_.size();
  for (const auto& row : rows_) columns = std::max(columns, row.size());
  std::vector<size_t> widths(columns, 0);
  auto measure = [&](const std::vector<std::string>& row) {
    for (size_t i = 0; i < row.size(); ++i)
      widths[i] = std::max(widths[i], DisplayWidth(row[i]));
  };
  measure(header_);
  for (const auto& row : rows_) measure(row);
  auto print = [&](const std::vector<std::string>& row) {
    std::string line;
    for (size_t i = 0; i < columns; ++i) {
      const std::string cell = i < row.size() ? row[i] : "";
      line += Printable(cell);
      if (i + 1 < columns) line.append(widths[i] - DisplayWidth(cell) + 2, ' ');
    }
    line.erase(line.find_last_not_of(' ') + 1);
    out << line << '\n';
  };
  if (!header_.empty()) print(header_);
  for (const auto& row : rows_) print(row);
}

void TextTable::PrintOr(std::string_view when_empty, std::ostream& out) const {
  if (rows_.empty()) {
    out << when_empty << '\n';
  } else {
    Print(out);
  }
}

std::string FormatBytes(uint64_t bytes) {
  static const char* const kUnits[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  if (bytes < 1024) return std::to_string(bytes) + " B";
  double value = static_cast<double>(bytes) / 1024;
  size_t unit = 0;
  while (value >= 1024 && unit + 1 < std::size(kUnits)) {
    value /= 1024;
    ++unit;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f %s", value, kUnits[unit]);
  return buf;
}

}  // namespace trashctl
