// TextTable: rows of text printed as aligned columns, trashctl's human output. A cell
// is printed as Printable() shows it, so a name cannot move the cursor or clear the
// screen, and its width is what a terminal gives it (wcwidth: a CJK character takes
// two columns, a combining accent none), so every column lines up.
// A plain value; not shared between threads.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace trashctl {

class TextTable {
 public:
  // An empty header prints no header line (a list of facts, say).
  explicit TextTable(std::vector<std::string> header = {});

  // A short row is padded with empty cells.
  void AddRow(std::vector<std::string> row);
  bool empty() const { return rows_.empty(); }

  // Columns two spaces apart, the last one not padded.
  void Print(std::ostream& out) const;
  // Print(), or `when_empty` on a line of its own when there is no row.
  void PrintOr(std::string_view when_empty, std::ostream& out) const;

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

// `text` safe to print on a terminal: each control character (C0, DEL, C1) and each
// byte that is not part of valid UTF-8 is shown as `\xNN`; the rest is as is.
std::string Printable(std::string_view text);
// The columns a terminal gives Printable(text).
size_t DisplayWidth(std::string_view text);

// "512 B", "1.5 KiB", "3.0 GiB": sizes as people read them (powers of 1024).
std::string FormatBytes(uint64_t bytes);

}  // namespace trashctl
