// trashctl's tables (hardening): what a daemon answers cannot drive the terminal, and
// columns line up whatever script a name is in.
#include "trashctl/text_table.h"

#include <catch2/catch.hpp>
#include <sstream>
#include <string>

namespace trashctl {
namespace {

const std::string kCat = "\xE7\x8C\xAB\xE3\x81\xAE\xE5\x86\x99\xE7\x9C\x9F";  // 猫の写真

std::string Printed(const TextTable& table) {
  std::ostringstream out;
  table.Print(out);
  return out.str();
}

TEST_CASE("control characters and stray bytes print escaped", "[trashctl][table]") {
  CHECK(Printable("evil\x1b[2J") == "evil\\x1b[2J");
  CHECK(Printable("a\tb\x7f") == "a\\x09b\\x7f");
  CHECK(Printable("c1 \xC2\x9B") == "c1 \\x9b");  // U+009B, the one-byte CSI
  CHECK(Printable("bad \xFF") == "bad \\xff");
  CHECK(Printable("caf\xC3\xA9 " + kCat) == "caf\xC3\xA9 " + kCat);

  TextTable table({"NAME", "SIZE"});
  table.AddRow({"evil\x1b[2J", "1"});
  CHECK(Printed(table) == "NAME         SIZE\nevil\\x1b[2J  1\n");
}

TEST_CASE("a CJK name takes two columns a character and its column aligns",
          "[trashctl][table]") {
  CHECK(DisplayWidth(kCat) == 8);
  CHECK(DisplayWidth("caf\xC3\xA9") == 4);
  CHECK(DisplayWidth("e\xCC\x81") == 1);  // a combining accent takes no column

  TextTable table({"NAME", "SIZE"});
  table.AddRow({kCat, "1"});
  table.AddRow({"dog photos", "2"});
  table.AddRow({"caf\xC3\xA9", "3"});
  CHECK(Printed(table) == "NAME        SIZE\n" + kCat +
                              "    1\n"
                              "dog photos  2\n"
                              "caf\xC3\xA9        3\n");
}

}  // namespace
}  // namespace trashctl
