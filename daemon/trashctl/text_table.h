// TextTable: rows of text printed as aligned columns, trashctl's human output. Widths
// count UTF-8 code points, so a name with accents does not push its row out of line.
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

// "512 B", "1.5 KiB", "3.0 GiB": sizes as people read them (powers of 1024).
std::string FormatBytes(uint64_t bytes);

}  // namespace trashctl
