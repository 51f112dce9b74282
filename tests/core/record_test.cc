// The record encoding (util/record.h) is the on-disk format of every engine record:
// a record keeps its exact bytes, whether written afresh or into a reused buffer, and
// reads back as it was written.
#include "util/record.h"

#include <catch2/catch.hpp>
#include <string>
#include <string_view>

#include "engine/records.h"
#include "util/crypto.h"

namespace trashd {
namespace {

std::string Hex(std::string_view bytes) { return crypto::HexOf(bytes); }

ResourceRec Active() {
  ResourceRec r;
  r.id = "r1";
  r.type = "t";
  r.ws = "w";
  r.slug = "s";
  r.name = "n";
  r.owner = "o";
  r.attributes = "{}";
  r.created = 300;
  r.updated = 5;
  r.serving = true;
  r.own_bytes = 7;
  r.asset_refs = 1;
  return r;
}

ResourceRec Item() {
  ResourceRec r = Active();
  r.state = ResourceState::kTrashed;
  r.trash_item = r.id;
  r.deleted_at = 9;
  r.scheduled_cleanup_at = 200;
  r.deleted_by = "m";
  r.hold = true;
  r.cascaded = 2;
  r.size = 70000;
  return r;
}

constexpr std::string_view kCommon =
    "01027231017401770000"  // version, id, type, ws, parent, scope
    "0173016e016f027b7d"    // slug, name, owner, attributes
    "ac0205";               // created, updated
constexpr std::string_view kActiveTail =
    "00010000"  // state, serving, paused, slug released
    "07010001"  // own bytes, asset refs, open jobs, next child seq
    "00";       // trash item
constexpr std::string_view kItemTail =
    "01010000"
    "07010001"
    "027231"         // trash item: itself
    "09c801016d00"   // deleted at, cleanup at, deleted by, container
    "000102f0a204";  // delete images, hold, cascaded, size
const std::string kActiveBytes = std::string(kCommon) + std::string(kActiveTail);
const std::string kItemBytes = std::string(kCommon) + std::string(kItemTail);

TEST_CASE("a resource record keeps its exact bytes", "[records]") {
  CHECK(Hex(Active().Encode()) == kActiveBytes);
  CHECK(Hex(Item().Encode()) == kItemBytes);
}

TEST_CASE("a reused buffer encodes each record as a fresh one does", "[records]") {
  RecordBuffer buf;
  ResourceRec big = Item();
  big.attributes.assign(5000, 'x');
  CHECK(big.EncodeTo(&buf) == big.Encode());
  CHECK(Hex(Active().EncodeTo(&buf)) == kActiveBytes);
  CHECK(Hex(Item().EncodeTo(&buf)) == kItemBytes);

  ResourceRec back;
  REQUIRE(ResourceRec::Decode(big.EncodeTo(&buf), &back));
  CHECK(back.attributes == big.attributes);
  CHECK(back.size == 70000);
  CHECK(back.hold);
}

TEST_CASE("a record reads back as written, and a short one is refused", "[records]") {
  std::string text(300, 'y');
  std::string rec =
      RecordWriter(2).U(1ULL << 63).I(-1).B(true).S(text).List({"a", "", "bc"}).str();
  RecordReader in(rec);
  CHECK(in.version() == 2);
  CHECK(in.U() == 1ULL << 63);
  CHECK(in.I() == -1);
  CHECK(in.B());
  CHECK(in.S() == text);
  CHECK(in.List() == std::vector<std::string>{"a", "", "bc"});
  CHECK(in.ok());

  RecordReader cut(std::string_view(rec).substr(0, 20));
  cut.U();
  cut.I();
  cut.B();
  CHECK(cut.S().empty());
  CHECK_FALSE(cut.ok());
}

}  // namespace
}  // namespace trashd
