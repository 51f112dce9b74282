// The key layout of every store table (store/schema.h): each kind of key reads back
// what it was built from, keeps the exact bytes existing stores hold, and refuses a key
// that is not of its shape.
#include "store/schema.h"

#include <catch2/catch.hpp>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "util/crypto.h"

namespace trashd::schema {
namespace {

constexpr TimeMs kT0 = 1776704733000;  // 2026-04-20T17:05:33Z
constexpr TimeMs kDay = 24LL * 60 * 60 * 1000;
constexpr TimeMs kMaxTime = std::numeric_limits<TimeMs>::max();
constexpr uint64_t kMaxSeq = std::numeric_limits<uint64_t>::max();

// Names as the engine lets them through: never NUL, but the bytes on either side of
// it in byte order, and the punctuation ids and slugs hold.
const std::string kOdd = std::string("a\x01z\xff", 4);
const std::string kLib = "~lib/acme";

std::string Hex(std::string_view bytes) { return crypto::HexOf(bytes); }

// A key of kind K cut short anywhere before its last name part (all of it, when it
// ends in a number), or followed by one more part, is refused.
template <typename K>
void CheckRefusesBroken(const std::string& key, size_t last_name_size) {
  K out;
  for (size_t n = 0; n < key.size() - last_name_size; ++n) {
    INFO("cut to " << n << " of " << key.size() << " bytes: " << Hex(key.substr(0, n)));
    CHECK_FALSE(K::Decode(key.substr(0, n), &out));
  }
  CHECK_FALSE(K::Decode(key + std::string(1, '\0') + "x", &out));
}

TEST_CASE("Schema: numbers stored as values are 8 bytes big-endian", "[schema]") {
  CHECK(Hex(EncodeNumber(0x0102030405060708)) == "0102030405060708");
  for (uint64_t v : {uint64_t{0}, uint64_t{1}, uint64_t{256}, kMaxSeq})
    CHECK(DecodeNumber(EncodeNumber(v)) == v);
  CHECK(DecodeNumber("") == 0);
  CHECK(DecodeNumber(std::string(7, '\x01')) == 0);
  CHECK(DecodeNumber(std::string(9, '\x01')) == 0);
}

TEST_CASE("Schema: keys of one name are the name itself", "[schema]") {
  CHECK(WorkspaceKey("acme") == "acme");
  CHECK(ApiKeyKey("k_1") == "k_1");
  CHECK(ResourceKey("p_1") == "p_1");
  CHECK(JobKey("job_1") == "job_1");
  CHECK(kSchemaVersionKey == "schema_version");
  CHECK(kAuditSeqKey == "audit_seq");
  CHECK(kOutboxSeqKey == "outbox_seq");
  CHECK(kSweepSeqKey == "sweep_seq");
  CHECK(kLastSweepKey == "last_sweep");
  CHECK(kExpiringWatermarkKey == "expiring_watermark");
}

TEST_CASE("Schema: an expiring-held key round-trips", "[schema]") {
  std::string key = ExpiringHeldKey{kOdd, "m.3"}.Encode();
  ExpiringHeldKey back;
  REQUIRE(ExpiringHeldKey::Decode(key, &back));
  CHECK(back.ws == kOdd);
  CHECK(back.id == "m.3");
  CheckRefusesBroken<ExpiringHeldKey>(key, 3);
  CHECK_FALSE(ExpiringHeldKey::Decode(std::string("expiring_gone\0a\0b", 17), &back));
}

TEST_CASE("Schema: an expiring-held key's bytes are pinned", "[schema]") {
  CHECK(Hex(ExpiringHeldKey{"acme", "p_1"}.Encode()) ==
        "6578706972696e675f68656c640061636d6500705f31");
}

TEST_CASE("Schema: a blob claim key round-trips, its prefixes select it", "[schema]") {
  std::string key = BlobClaimKey{kOdd, "abcd", "f00d"}.Encode();
  BlobClaimKey back;
  REQUIRE(BlobClaimKey::Decode(key, &back));
  CHECK(back.ws == kOdd);
  CHECK(back.hash == "abcd");
  CHECK(back.token == "f00d");
  CheckRefusesBroken<BlobClaimKey>(key, 4);
  ExpiringHeldKey other_kind;  // another kind of kMeta key
  CHECK_FALSE(ExpiringHeldKey::Decode(key, &other_kind));
  CHECK(key.starts_with(BlobClaimsPrefix(kOdd, "abcd")));
  CHECK(key.starts_with(BlobClaimsPrefix()));
  CHECK_FALSE(BlobClaimKey{kOdd, "abcde", "f"}.Encode().starts_with(
      BlobClaimsPrefix(kOdd, "abcd")));
}

TEST_CASE("Schema: a blob claim key's and a change counter's bytes are pinned",
          "[schema]") {
  CHECK(Hex(BlobClaimKey{"acme", "abababab", "t1"}.Encode()) ==
        "626c6f625f636c61696d0061636d65006162616261626162007431");
  CHECK(Hex(WorkspaceChangesKey("acme")) == "77735f6368616e6765730061636d65");
}

TEST_CASE("Schema: a lease key round-trips and its bytes are pinned", "[schema]") {
  const std::string key = LeaseKey{"sweep"}.Encode();  // back's views point into it
  LeaseKey back;
  REQUIRE(LeaseKey::Decode(key, &back));
  CHECK(back.name == "sweep");
  CHECK(Hex(LeaseKey{"sweep"}.Encode()) == "6c65617365007377656570");
  CHECK_FALSE(LeaseKey::Decode(std::string("least\0sweep", 11), &back));
  CHECK_FALSE(LeaseKey::Decode(ExpiringHeldKey{"acme", "p_1"}.Encode(), &back));
}

TEST_CASE("Schema: a member key round-trips", "[schema]") {
  std::string key = MemberKey{kOdd, "ann.b-c_d@example.com"}.Encode();
  MemberKey back;
  REQUIRE(MemberKey::Decode(key, &back));
  CHECK(back.ws == kOdd);
  CHECK(back.member_id == "ann.b-c_d@example.com");
  CheckRefusesBroken<MemberKey>(key, back.member_id.size());
}

TEST_CASE("Schema: a member key's bytes are pinned", "[schema]") {
  CHECK(Hex(MemberKey{"acme", "ann@example.com"}.Encode()) ==
        "61636d6500616e6e406578616d706c652e636f6d");
  CHECK(Hex(MembersPrefix("acme")) == "61636d6500");
}

TEST_CASE("Schema: a password key round-trips", "[schema]") {
  std::string key = PasswordKey{kOdd, "ann.b-c_d@example.com"}.Encode();
  PasswordKey back;
  REQUIRE(PasswordKey::Decode(key, &back));
  CHECK(back.ws == kOdd);
  CHECK(back.member_id == "ann.b-c_d@example.com");
  CheckRefusesBroken<PasswordKey>(key, back.member_id.size());
}

TEST_CASE("Schema: a password key's bytes are pinned", "[schema]") {
  CHECK(Hex(PasswordKey{"acme", "ann@example.com"}.Encode()) ==
        "61636d6500616e6e406578616d706c652e636f6d");
}

TEST_CASE("Schema: a session key is the token's hash itself", "[schema]") {
  const std::string hash = crypto::Sha256Hex("token");
  CHECK(SessionKey(hash) == hash);
  CHECK(SessionKey("3c469e9d") == "3c469e9d");
}

TEST_CASE("Schema: a role key round-trips", "[schema]") {
  std::string key = RoleKey{"acme", kOdd}.Encode();
  RoleKey back;
  REQUIRE(RoleKey::Decode(key, &back));
  CHECK(back.ws == "acme");
  CHECK(back.role == kOdd);
  CheckRefusesBroken<RoleKey>(key, kOdd.size());
}

TEST_CASE("Schema: a role key's bytes are pinned", "[schema]") {
  CHECK(Hex(RoleKey{"acme", "editor"}.Encode()) == "61636d6500656469746f72");
  CHECK(Hex(RolesPrefix("acme")) == "61636d6500");
}

TEST_CASE(
    "Schema: a children key's id is read alone, and nothing from a key without parts",
    "[schema]") {
  CHECK(ChildKey::IdOf(ChildKey{"acme", "", "project", "p_1"}.Encode()) == "p_1");
  CHECK(ChildKey::IdOf("no-separator").empty());
}

TEST_CASE("Schema: a children key round-trips, top level too", "[schema]") {
  for (std::string_view parent : {std::string_view(""), std::string_view(kOdd)}) {
    std::string key = ChildKey{"acme", parent, "model-v.2", "p_1.3"}.Encode();
    ChildKey back;
    REQUIRE(ChildKey::Decode(key, &back));
    CHECK(back.ws == "acme");
    CHECK(back.parent_id == parent);
    CHECK(back.type == "model-v.2");
    CHECK(back.id == "p_1.3");
    CHECK(ChildKey::IdOf(key) == "p_1.3");
    CheckRefusesBroken<ChildKey>(key, back.id.size());
    CHECK(key.rfind(ChildrenPrefix("acme", parent), 0) == 0);
    CHECK(key.rfind(ChildrenPrefix("acme", parent, "model-v.2"), 0) == 0);
  }
}

TEST_CASE("Schema: a children key's bytes are pinned", "[schema]") {
  CHECK(Hex(ChildKey{"acme", "", "project", "p_1"}.Encode()) ==
        "61636d65000070726f6a65637400705f31");
  CHECK(Hex(ChildrenPrefix("acme", "p_1")) == "61636d6500705f3100");
  CHECK(Hex(ChildrenPrefix("acme", "p_1", "model")) == "61636d6500705f31006d6f64656c00");
}

TEST_CASE("Schema: a slug key round-trips", "[schema]") {
  std::string key = SlugKey{"acme", "", "project", kOdd}.Encode();
  SlugKey back;
  REQUIRE(SlugKey::Decode(key, &back));
  CHECK(back.ws == "acme");
  CHECK(back.scope_id.empty());
  CHECK(back.type == "project");
  CHECK(back.slug == kOdd);
  CheckRefusesBroken<SlugKey>(key, kOdd.size());
}

TEST_CASE("Schema: a slug key's bytes are pinned", "[schema]") {
  CHECK(Hex(SlugKey{"acme", "p_1", "model", "big-model"}.Encode()) ==
        "61636d6500705f31006d6f64656c006269672d6d6f64656c");
}

TEST_CASE("Schema: a trash-by-time key round-trips", "[schema]") {
  for (TimeMs t : {TimeMs{0}, kT0, kMaxTime, TimeMs{-1}}) {
    std::string key = TrashByTimeKey{kOdd, t, "wf_9"}.Encode();
    TrashByTimeKey back;
    REQUIRE(TrashByTimeKey::Decode(key, &back));
    CHECK(back.ws == kOdd);
    CHECK(back.deleted_at == t);
    CHECK(back.id == "wf_9");
    CheckRefusesBroken<TrashByTimeKey>(key, 4);
    REQUIRE(key.rfind(TrashByTimePrefix(kOdd), 0) == 0);
    TrashPosition at;
    REQUIRE(TrashPosition::Decode(
        std::string_view(key).substr(TrashByTimePrefix(kOdd).size()), &at));
    CHECK(at.deleted_at == t);
    CHECK(at.id == "wf_9");
  }
}

TEST_CASE("Schema: a trash-by-time key's bytes are pinned", "[schema]") {
  CHECK(Hex(TrashByTimeKey{"acme", kT0, "p_1"}.Encode()) ==
        "61636d6500fffffe62542540b700705f31");
  CHECK(Hex(TrashByTimePrefix("acme")) == "61636d6500");
}

TEST_CASE("Schema: a trash-by-type key round-trips", "[schema]") {
  for (TimeMs t : {TimeMs{0}, kT0, kMaxTime}) {
    std::string key = TrashByTypeKey{"acme", "model", t, kOdd}.Encode();
    TrashByTypeKey back;
    REQUIRE(TrashByTypeKey::Decode(key, &back));
    CHECK(back.ws == "acme");
    CHECK(back.type == "model");
    CHECK(back.deleted_at == t);
    CHECK(back.id == kOdd);
    CheckRefusesBroken<TrashByTypeKey>(key, kOdd.size());
    CHECK(key.rfind(TrashByTypePrefix("acme", "model"), 0) == 0);
  }
}

TEST_CASE("Schema: a trash-by-type key's bytes are pinned", "[schema]") {
  CHECK(Hex(TrashByTypeKey{"acme", "project", kT0, "p_1"}.Encode()) ==
        "61636d650070726f6a65637400fffffe62542540b700705f31");
  CHECK(Hex(TrashByTypePrefix("acme", "project")) == "61636d650070726f6a65637400");
}

TEST_CASE("Schema: a trash listing position round-trips", "[schema]") {
  std::string position = TrashPosition{kT0, kOdd}.Encode();
  TrashPosition back;
  REQUIRE(TrashPosition::Decode(position, &back));
  CHECK(back.deleted_at == kT0);
  CHECK(back.id == kOdd);
  CheckRefusesBroken<TrashPosition>(position, kOdd.size());
}

TEST_CASE("Schema: a trash listing position's bytes are pinned", "[schema]") {
  CHECK(Hex(TrashPosition{kT0, "p_1"}.Encode()) == "fffffe62542540b700705f31");
}

TEST_CASE("Schema: an expiry key round-trips", "[schema]") {
  for (TimeMs t : {TimeMs{0}, kT0, kMaxTime}) {
    std::string key = ExpiryKey{t, kOdd, kLib}.Encode();
    ExpiryKey back;
    REQUIRE(ExpiryKey::Decode(key, &back));
    CHECK(back.cleanup_at == t);
    CHECK(back.ws == kOdd);
    CHECK(back.id == kLib);
    CheckRefusesBroken<ExpiryKey>(key, kLib.size());
  }
}

TEST_CASE("Schema: an expiry key's bytes are pinned", "[schema]") {
  CHECK(Hex(ExpiryKey{kT0 + 30 * kDay, "acme", "p_1"}.Encode()) ==
        "0000019e465987480061636d6500705f31");
  CHECK(Hex(ExpiryBoundAfter(kT0)) == "0000019dabdabf4801");
}

TEST_CASE("Schema: an asset key round-trips, and an unlink key is one", "[schema]") {
  std::string key = AssetKey{kOdd, "ab12"}.Encode();
  AssetKey back;
  REQUIRE(AssetKey::Decode(key, &back));
  CHECK(back.ws == kOdd);
  CHECK(back.hash == "ab12");
  CheckRefusesBroken<AssetKey>(key, 4);
  CHECK(UnlinkKey{kOdd, "ab12"}.Encode() == key);
}

TEST_CASE("Schema: an asset key's bytes are pinned", "[schema]") {
  CHECK(Hex(AssetKey{"acme", "ab12"}.Encode()) == "61636d650061623132");
}

TEST_CASE("Schema: an asset reference key round-trips", "[schema]") {
  std::string key = AssetRefKey{"acme", "ab12", kLib, kOdd}.Encode();
  AssetRefKey back;
  REQUIRE(AssetRefKey::Decode(key, &back));
  CHECK(back.ws == "acme");
  CHECK(back.hash == "ab12");
  CHECK(back.resource_id == kLib);
  CHECK(back.kind == kOdd);
  CheckRefusesBroken<AssetRefKey>(key, kOdd.size());
  CHECK(key.rfind(AssetRefsPrefix("acme", "ab12"), 0) == 0);
}

TEST_CASE("Schema: an asset reference key's bytes are pinned", "[schema]") {
  CHECK(Hex(AssetRefKey{"acme", "ab12", "m_1", "weights"}.Encode()) ==
        "61636d650061623132006d5f310077656967687473");
  CHECK(Hex(AssetRefsPrefix("acme", "ab12")) == "61636d65006162313200");
}

TEST_CASE("Schema: a resource asset key round-trips", "[schema]") {
  std::string key = ResourceAssetKey{kLib, "weights", kOdd}.Encode();
  ResourceAssetKey back;
  REQUIRE(ResourceAssetKey::Decode(key, &back));
  CHECK(back.resource_id == kLib);
  CHECK(back.kind == "weights");
  CHECK(back.hash == kOdd);
  CheckRefusesBroken<ResourceAssetKey>(key, kOdd.size());
  CHECK(key.rfind(ResourceAssetsPrefix(kLib), 0) == 0);
}

TEST_CASE("Schema: a resource asset key's bytes are pinned", "[schema]") {
  CHECK(Hex(ResourceAssetKey{"~lib/acme", "weights", "ab12"}.Encode()) ==
        "7e6c69622f61636d6500776569676874730061623132");
  CHECK(Hex(ResourceAssetsPrefix("m_1")) == "6d5f3100");
}

TEST_CASE("Schema: a job-by-resource key round-trips", "[schema]") {
  std::string key = JobByResourceKey{"m_1.2", kOdd}.Encode();
  JobByResourceKey back;
  REQUIRE(JobByResourceKey::Decode(key, &back));
  CHECK(back.resource_id == "m_1.2");
  CHECK(back.job_id == kOdd);
  CheckRefusesBroken<JobByResourceKey>(key, kOdd.size());
  CHECK(key.rfind(JobsByResourcePrefix("m_1.2"), 0) == 0);
}

TEST_CASE("Schema: a job-by-resource key's bytes are pinned", "[schema]") {
  CHECK(Hex(JobByResourceKey{"m_1", "job_1"}.Encode()) == "6d5f31006a6f625f31");
  CHECK(Hex(JobsByResourcePrefix("m_1")) == "6d5f3100");
}

TEST_CASE("Schema: a counter key round-trips", "[schema]") {
  std::string key = CounterKey{kOdd, "type_active/model"}.Encode();
  CounterKey back;
  REQUIRE(CounterKey::Decode(key, &back));
  CHECK(back.ws == kOdd);
  CHECK(back.name == "type_active/model");
  CheckRefusesBroken<CounterKey>(key, back.name.size());
}

TEST_CASE("Schema: a counter key's bytes are pinned", "[schema]") {
  CHECK(Hex(CounterKey{"acme", "type_active/model"}.Encode()) ==
        "61636d6500747970655f6163746976652f6d6f64656c");
}

TEST_CASE("Schema: an audit key round-trips", "[schema]") {
  for (uint64_t seq : {uint64_t{0}, uint64_t{258}, kMaxSeq}) {
    std::string key = AuditKey{kOdd, seq}.Encode();
    AuditKey back;
    REQUIRE(AuditKey::Decode(key, &back));
    CHECK(back.ws == kOdd);
    CHECK(back.seq == seq);
    CheckRefusesBroken<AuditKey>(key, 0);
    CHECK(key.rfind(AuditPrefix(kOdd), 0) == 0);
  }
}

TEST_CASE("Schema: an audit key's bytes are pinned", "[schema]") {
  CHECK(Hex(AuditKey{"acme", 258}.Encode()) == "61636d65000000000000000102");
  CHECK(Hex(AuditPrefix("acme")) == "61636d6500");
}

TEST_CASE("Schema: an outbox key round-trips", "[schema]") {
  for (uint64_t seq : {uint64_t{0}, uint64_t{1}, kMaxSeq}) {
    std::string key = OutboxKey{seq}.Encode();
    OutboxKey back;
    REQUIRE(OutboxKey::Decode(key, &back));
    CHECK(back.seq == seq);
    CheckRefusesBroken<OutboxKey>(key, 0);
  }
}

TEST_CASE("Schema: an outbox key's bytes are pinned", "[schema]") {
  CHECK(Hex(OutboxKey{1}.Encode()) == "0000000000000001");
}

TEST_CASE("Schema: a sweep run key round-trips", "[schema]") {
  for (TimeMs t : {TimeMs{0}, kT0, kMaxTime}) {
    std::string key = SweepRunKey{t, kMaxSeq}.Encode();
    SweepRunKey back;
    REQUIRE(SweepRunKey::Decode(key, &back));
    CHECK(back.started == t);
    CHECK(back.seq == kMaxSeq);
    CheckRefusesBroken<SweepRunKey>(key, 0);
  }
}

TEST_CASE("Schema: a sweep run key's bytes are pinned", "[schema]") {
  CHECK(Hex(SweepRunKey{kT0, 7}.Encode()) == "0000019dabdabf48000000000000000007");
}

TEST_CASE("Schema: keys sort the way the scans read them", "[schema]") {
  // The Trash lists newest first; the sweep and the outbox read oldest first.
  CHECK(TrashByTimeKey{"acme", kT0 + 1, "z"}.Encode() <
        TrashByTimeKey{"acme", kT0, "a"}.Encode());
  CHECK(TrashByTypeKey{"acme", "model", kT0 + 1, "z"}.Encode() <
        TrashByTypeKey{"acme", "model", kT0, "a"}.Encode());
  CHECK(ExpiryKey{2, "z", "z"}.Encode() < ExpiryKey{256, "a", "a"}.Encode());
  CHECK(OutboxKey{255}.Encode() < OutboxKey{256}.Encode());
  CHECK(AuditKey{"acme", 255}.Encode() < AuditKey{"acme", 256}.Encode());
  // A parent's children do not mix with those of a parent whose id extends its id.
  std::string p1 = ChildrenPrefix("acme", "p_1");
  CHECK(ChildKey{"acme", "p_10", "model", "m"}.Encode().rfind(p1, 0) != 0);
  // The bound after a time sits above every key of that time, below the next time's.
  std::string bound = ExpiryBoundAfter(kT0);
  CHECK(ExpiryKey{kT0, kOdd, kOdd}.Encode() < bound);
  CHECK(bound < ExpiryKey{kT0 + 1, "", ""}.Encode());
}

}  // namespace
}  // namespace trashd::schema
