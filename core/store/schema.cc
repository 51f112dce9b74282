#include "store/schema.h"

namespace trashd::schema {
namespace {

constexpr char kSep = '\0';
constexpr size_t kNumberBytes = 8;
constexpr std::string_view kExpiringHeld = "expiring_held";
constexpr std::string_view kBlobClaim = "blob_claim";
constexpr std::string_view kWorkspaceChanges = "ws_changes";
constexpr std::string_view kLease = "lease";

size_t PartSize(std::string_view name) { return name.size(); }
size_t PartSize(uint64_t) { return kNumberBytes; }
void Append(std::string* out, std::string_view name) { out->append(name); }
void Append(std::string* out, uint64_t number) {
  for (int shift = 56; shift >= 0; shift -= 8)
    out->push_back(static_cast<char>(number >> shift));
}

// The parts of a key, each a name (std::string_view) or a number (uint64_t), joined;
// with `as_prefix`, ended with a separator: the prefix of every key below these parts.
template <typename... Parts>
std::string Build(bool as_prefix, const Parts&... parts) {
  std::string out;
  out.reserve((PartSize(parts) + ...) + sizeof...(parts) - (as_prefix ? 0 : 1));
  bool first = true;
  auto add = [&](const auto& part) {
    if (!first) out.push_back(kSep);
    first = false;
    Append(&out, part);
  };
  (add(parts), ...);
  if (as_prefix) out.push_back(kSep);
  return out;
}
template <typename... Parts>
std::string Join(const Parts&... parts) {
  return Build(false, parts...);
}
template <typename... Parts>
std::string PrefixOf(const Parts&... parts) {
  return Build(true, parts...);
}

// Reads a key's parts in order; every part but the first follows a separator.
class KeyReader {
 public:
  explicit KeyReader(std::string_view key) : key_(key) {}

  // A name runs to the next separator or to the end of the key.
  bool Take(std::string_view* name) {
    if (!Separator()) return false;
    size_t end = key_.find(kSep, pos_);
    if (end == std::string_view::npos) end = key_.size();
    *name = key_.substr(pos_, end - pos_);
    pos_ = end;
    return true;
  }
  // A number is exactly 8 bytes, which may hold any value (NUL too).
  bool Take(uint64_t* number) {
    if (!Separator() || key_.size() - pos_ < kNumberBytes) return false;
    uint64_t v = 0;
    for (size_t i = 0; i < kNumberBytes; ++i)
      v = (v << 8) | static_cast<uint8_t>(key_[pos_ + i]);
    *number = v;
    pos_ += kNumberBytes;
    return true;
  }
  bool AtEnd() const { return pos_ == key_.size(); }

 private:
  bool Separator() {
    if (first_) {
      first_ = false;
      return true;
    }
    if (pos_ >= key_.size() || key_[pos_] != kSep) return false;
    ++pos_;
    return true;
  }

  std::string_view key_;
  size_t pos_ = 0;
  bool first_ = true;
};

// True if `key` is exactly these parts, in this order, and nothing more.
template <typename... Parts>
bool Parse(std::string_view key, Parts*... parts) {
  KeyReader reader(key);
  return (reader.Take(parts) && ...) && reader.AtEnd();
}

uint64_t TimePart(TimeMs t) { return static_cast<uint64_t>(t); }
// Newest first: a later time gets a smaller number.
uint64_t InvertedTimePart(TimeMs t) { return ~static_cast<uint64_t>(t); }

}  // namespace

std::string EncodeNumber(uint64_t v) {
  std::string out;
  Append(&out, v);
  return out;
}

uint64_t DecodeNumber(std::string_view value) {
  uint64_t v = 0;
  return Parse(value, &v) ? v : 0;
}

std::string ExpiringHeldKey::Encode() const { return Join(kExpiringHeld, ws, id); }
bool ExpiringHeldKey::Decode(std::string_view key, ExpiringHeldKey* out) {
  std::string_view tag;
  return Parse(key, &tag, &out->ws, &out->id) && tag == kExpiringHeld;
}

std::string BlobClaimKey::Encode() const { return Join(kBlobClaim, ws, hash, token); }
bool BlobClaimKey::Decode(std::string_view key, BlobClaimKey* out) {
  std::string_view tag;
  return Parse(key, &tag, &out->ws, &out->hash, &out->token) && tag == kBlobClaim;
}
std::string BlobClaimsPrefix(std::string_view ws, std::string_view hash) {
  return PrefixOf(kBlobClaim, ws, hash);
}
std::string BlobClaimsPrefix() { return PrefixOf(kBlobClaim); }

std::string WorkspaceChangesKey(std::string_view ws) {
  return Join(kWorkspaceChanges, ws);
}

std::string LeaseKey::Encode() const { return Join(kLease, name); }
bool LeaseKey::Decode(std::string_view key, LeaseKey* out) {
  std::string_view tag;
  return Parse(key, &tag, &out->name) && tag == kLease;
}

std::string MemberKey::Encode() const { return Join(ws, member_id); }
bool MemberKey::Decode(std::string_view key, MemberKey* out) {
  return Parse(key, &out->ws, &out->member_id);
}
std::string MembersPrefix(std::string_view ws) { return PrefixOf(ws); }

std::string PasswordKey::Encode() const { return Join(ws, member_id); }
bool PasswordKey::Decode(std::string_view key, PasswordKey* out) {
  return Parse(key, &out->ws, &out->member_id);
}

std::string RoleKey::Encode() const { return Join(ws, role); }
bool RoleKey::Decode(std::string_view key, RoleKey* out) {
  return Parse(key, &out->ws, &out->role);
}
std::string RolesPrefix(std::string_view ws) { return PrefixOf(ws); }

std::string ChildKey::Encode() const { return Join(ws, parent_id, type, id); }
bool ChildKey::Decode(std::string_view key, ChildKey* out) {
  return Parse(key, &out->ws, &out->parent_id, &out->type, &out->id);
}
std::string_view ChildKey::IdOf(std::string_view key) {
  size_t sep = key.rfind(kSep);
  return sep == std::string_view::npos ? std::string_view{} : key.substr(sep + 1);
}
std::string ChildrenPrefix(std::string_view ws, std::string_view parent_id,
                           std::string_view type) {
  return type.empty() ? PrefixOf(ws, parent_id) : PrefixOf(ws, parent_id, type);
}

std::string SlugKey::Encode() const { return Join(ws, scope_id, type, slug); }
bool SlugKey::Decode(std::string_view key, SlugKey* out) {
  return Parse(key, &out->ws, &out->scope_id, &out->type, &out->slug);
}

std::string TrashByTimeKey::Encode() const {
  return Join(ws, InvertedTimePart(deleted_at), id);
}
bool TrashByTimeKey::Decode(std::string_view key, TrashByTimeKey* out) {
  uint64_t inverted = 0;
  if (!Parse(key, &out->ws, &inverted, &out->id)) return false;
  out->deleted_at = static_cast<TimeMs>(~inverted);
  return true;
}
std::string TrashByTimePrefix(std::string_view ws) { return PrefixOf(ws); }

std::string TrashByTypeKey::Encode() const {
  return Join(ws, type, InvertedTimePart(deleted_at), id);
}
bool TrashByTypeKey::Decode(std::string_view key, TrashByTypeKey* out) {
  uint64_t inverted = 0;
  if (!Parse(key, &out->ws, &out->type, &inverted, &out->id)) return false;
  out->deleted_at = static_cast<TimeMs>(~inverted);
  return true;
}
std::string TrashByTypePrefix(std::string_view ws, std::string_view type) {
  return PrefixOf(ws, type);
}

std::string TrashPosition::Encode() const {
  return Join(InvertedTimePart(deleted_at), id);
}
bool TrashPosition::Decode(std::string_view position, TrashPosition* out) {
  uint64_t inverted = 0;
  if (!Parse(position, &inverted, &out->id)) return false;
  out->deleted_at = static_cast<TimeMs>(~inverted);
  return true;
}

std::string ExpiryKey::Encode() const { return Join(TimePart(cleanup_at), ws, id); }
bool ExpiryKey::Decode(std::string_view key, ExpiryKey* out) {
  uint64_t at = 0;
  if (!Parse(key, &at, &out->ws, &out->id)) return false;
  out->cleanup_at = static_cast<TimeMs>(at);
  return true;
}
std::string ExpiryBoundAfter(TimeMs t) {
  // The byte after the time is the separator (0) in every key of time t.
  std::string bound = EncodeNumber(TimePart(t));
  bound.push_back('\x01');
  return bound;
}

std::string AssetKey::Encode() const { return Join(ws, hash); }
bool AssetKey::Decode(std::string_view key, AssetKey* out) {
  return Parse(key, &out->ws, &out->hash);
}

std::string AssetRefKey::Encode() const { return Join(ws, hash, resource_id, kind); }
bool AssetRefKey::Decode(std::string_view key, AssetRefKey* out) {
  return Parse(key, &out->ws, &out->hash, &out->resource_id, &out->kind);
}
std::string AssetRefsPrefix(std::string_view ws, std::string_view hash) {
  return PrefixOf(ws, hash);
}

std::string ResourceAssetKey::Encode() const { return Join(resource_id, kind, hash); }
bool ResourceAssetKey::Decode(std::string_view key, ResourceAssetKey* out) {
  return Parse(key, &out->resource_id, &out->kind, &out->hash);
}
std::string ResourceAssetsPrefix(std::string_view resource_id) {
  return PrefixOf(resource_id);
}

std::string JobByResourceKey::Encode() const { return Join(resource_id, job_id); }
bool JobByResourceKey::Decode(std::string_view key, JobByResourceKey* out) {
  return Parse(key, &out->resource_id, &out->job_id);
}
std::string JobsByResourcePrefix(std::string_view resource_id) {
  return PrefixOf(resource_id);
}

std::string CounterKey::Encode() const { return Join(ws, name); }
bool CounterKey::Decode(std::string_view key, CounterKey* out) {
  return Parse(key, &out->ws, &out->name);
}

std::string AuditKey::Encode() const { return Join(ws, seq); }
bool AuditKey::Decode(std::string_view key, AuditKey* out) {
  return Parse(key, &out->ws, &out->seq);
}
std::string AuditPrefix(std::string_view ws) { return PrefixOf(ws); }

std::string OutboxKey::Encode() const { return Join(seq); }
bool OutboxKey::Decode(std::string_view key, OutboxKey* out) {
  return Parse(key, &out->seq);
}

std::string SweepRunKey::Encode() const { return Join(TimePart(started), seq); }
bool SweepRunKey::Decode(std::string_view key, SweepRunKey* out) {
  uint64_t at = 0;
  if (!Parse(key, &at, &out->seq)) return false;
  out->started = static_cast<TimeMs>(at);
  return true;
}

}  // namespace trashd::schema
