// Engine: opening, shared record helpers, counters, audit log and outbox.
#include "engine/engine.h"

#include <cctype>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>

#include "engine/engine_impl.h"
#include "util/crypto.h"

namespace trashd {

// ---- names and forms --------------------------------------------------------------

std::string LibraryId(std::string_view ws) { return "~lib/" + std::string(ws); }
bool IsLibraryId(std::string_view id) { return id.substr(0, 5) == "~lib/"; }

bool ValidWorkspaceSlug(std::string_view s) {
  if (s.empty() || s.size() > 64 || !std::isalnum(static_cast<unsigned char>(s[0])))
    return false;
  for (char c : s) {
    if (!(std::islower(static_cast<unsigned char>(c)) ||
          std::isdigit(static_cast<unsigned char>(c)) || c == '-')) {
      return false;
    }
  }
  return true;
}

const std::vector<std::string>& ReservedWorkspaceSlugs() {
  static const std::vector<std::string> kReserved{"api", "healthz", "trash", "ui"};
  return kReserved;
}

bool ValidSlug(std::string_view s) {
  if (s.empty() || s.size() > 100 || !std::isalnum(static_cast<unsigned char>(s[0])))
    return false;
  for (char c : s) {
    bool ok = std::islower(static_cast<unsigned char>(c)) ||
              std::isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '_' ||
              c == '.';
    if (!ok) return false;
  }
  return true;
}

std::string SlugFromName(std::string_view name, std::string_view fallback) {
  std::string out;
  for (char c : name) {
    unsigned char u = static_cast<unsigned char>(c);
    if (std::isalnum(u)) {
      out.push_back(static_cast<char>(std::tolower(u)));
    } else if (!out.empty() && out.back() != '-') {
      out.push_back('-');
    }
    if (out.size() >= 100) break;
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out.empty() ? std::string(fallback) : out;
}

std::string PublicIdOf(const ResourceRec& r, const ResourceType* type) {
  if (type && type->Info().id_form == IdForm::kNumberedPerParent) {
    size_t dot = r.id.rfind('.');
    return dot == std::string::npos ? r.id : r.id.substr(dot + 1);
  }
  return r.id;
}

std::string IsoTime(TimeMs t) {
  // Listing a page of the Trash writes two of these per item: no snprintf, no tm.
  using namespace std::chrono;
  sys_time<milliseconds> tp{milliseconds(t)};
  sys_days day = floor<days>(tp);
  year_month_day ymd(day);
  hh_mm_ss<milliseconds> hms(tp - day);
  std::string out = "0000-00-00T00:00:00.000Z";
  auto put = [&out](size_t at, unsigned value, size_t width) {
    for (size_t i = width; i-- > 0; value /= 10)
      out[at + i] = static_cast<char>('0' + value % 10);
  };
  put(0, static_cast<unsigned>(static_cast<int>(ymd.year())), 4);
  put(5, static_cast<unsigned>(ymd.month()), 2);
  put(8, static_cast<unsigned>(ymd.day()), 2);
  put(11, static_cast<unsigned>(hms.hours().count()), 2);
  put(14, static_cast<unsigned>(hms.minutes().count()), 2);
  put(17, static_cast<unsigned>(hms.seconds().count()), 2);
  put(20, static_cast<unsigned>(hms.subseconds().count()), 3);
  return out;
}

// ---- opening ----------------------------------------------------------------------

Engine::Impl::Impl(const Clock* clock_in)
    : clock(clock_in),
      audit_log(clock_in),
      outbox(clock_in),
      expiry([this](WriteTxn& txn, const ResourceRec& item) {
        QueueNotice(txn, item, clock->Now());
      }) {}

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Engine::~Engine() = default;

Result<std::unique_ptr<Engine>> Engine::Open(const EngineOptions& options,
                                             const TypeRegistry* types,
                                             const Clock* clock) {
  if (!types || !types->frozen())
    return Internal("the type registry must be frozen first");
  if (!clock) return Internal("the engine needs a clock");
  if (options.default_retention_days < kMinRetentionDays ||
      options.default_retention_days > kMaxRetentionDays) {
    return InvalidArgument("default retention must be 1 to 365 days");
  }
  auto impl = std::make_unique<Impl>(clock);
  impl->options = options;
  impl->types = types;
  impl->outbox.SetQueuedTypes(options.queued_event_types);
  std::filesystem::path dir(options.data_dir);
  TRASHD_ASSIGN_OR_RETURN(impl->store,
                          Store::Open((dir / "store").string(), options.store));
  impl->blobs = std::make_unique<BlobStore>((dir / "blobs").string());
  TRASHD_RETURN_IF_ERROR(impl->blobs->Init(impl->SharedStore()
                                               ? BlobStore::Sharing::kShared
                                               : BlobStore::Sharing::kOneProcess));
  impl->ReclaimBlobFiles();
  return std::unique_ptr<Engine>(new Engine(std::move(impl)));
}

const TypeRegistry& Engine::types() const { return *impl_->types; }
const Clock& Engine::clock() const { return *impl_->clock; }
Store& Engine::store() { return *impl_->store; }
StoreStats Engine::StorageStats() { return impl_->store->Stats(); }
uint64_t Engine::Generation() const { return impl_->store->Generation(); }

// ---- records ----------------------------------------------------------------------

bool Engine::Impl::LoadResource(ReadTxn& txn, std::string_view id, ResourceRec* out) {
  std::string_view v;
  if (id.empty() || !txn.Get(Table::kResources, schema::ResourceKey(id), &v))
    return false;
  return ResourceRec::Decode(v, out);
}

void Engine::Impl::PutResource(WriteTxn& txn, const ResourceRec& r) {
  txn.Put(Table::kResources, schema::ResourceKey(r.id), r.Encode());
}

bool Engine::Impl::LoadWorkspace(ReadTxn& txn, std::string_view ws, Workspace* out) {
  std::string_view v;
  return !ws.empty() && txn.Get(Table::kWorkspaces, schema::WorkspaceKey(ws), &v) &&
         DecodeWorkspace(v, out);
}

bool Engine::Impl::LoadAsset(ReadTxn& txn, std::string_view ws, std::string_view hash,
                             AssetRec* out) {
  std::string_view v;
  return txn.Get(Table::kAssets, schema::AssetKey{ws, hash}.Encode(), &v) &&
         AssetRec::Decode(v, out);
}

std::string Engine::Impl::MemberName(ReadTxn& txn, std::string_view ws,
                                     std::string_view member_id) {
  if (member_id.empty()) return "";
  std::string_view v;
  Member m;
  if (txn.Get(Table::kMembers, schema::MemberKey{ws, member_id}.Encode(), &v) &&
      DecodeMember(v, &m)) {
    return m.name;
  }
  return std::string(member_id);
}

Status Engine::Impl::LoadOwned(ReadTxn& txn, std::string_view ws, std::string_view id,
                               ResourceRec* out) {
  if (!LoadResource(txn, id, out) || out->ws != ws) {
    return Missing(txn, NotFound("no resource " + std::string(id) + " in workspace " +
                                 std::string(ws)));
  }
  return Status::Ok();
}

ResourceView Engine::Impl::View(const ResourceRec& r) {
  ResourceView v;
  FillView(r, &v);
  return v;
}

void Engine::Impl::FillView(const ResourceRec& r, ResourceView* v) {
  v->id = r.id;
  v->type = r.type;
  v->workspace = r.ws;
  v->slug = r.slug;
  v->name = r.name;
  v->parent_id = r.parent_id;
  v->owner_id = r.owner;
  v->attributes = r.attributes;
  v->trashed = r.state == ResourceState::kTrashed;
  v->cleanup_delete_images = r.cleanup_delete_images;
  v->serving = r.serving;
  v->own_bytes = r.own_bytes;
}

bool Engine::Impl::Releases(const ResourceRec& r, std::string_view kind) const {
  const ResourceType* t = TypeOf(r.type);
  if (!t) return false;
  // cleanup_delete_images lives on the item; descendants see the item's choice.
  return t->ReleasesAtPurge(View(r), kind);
}

// ---- audit and events -------------------------------------------------------------

const char* InterfaceName(Interface via) {
  switch (via) {
    case Interface::kApi:
      return "api";
    case Interface::kAdmin:
      return "admin";
    case Interface::kWeb:
      return "web";
    case Interface::kSweep:
      return "sweep";
  }
  return "unknown";
}

void Engine::Impl::Audit(WriteTxn& txn, const Actor& actor, std::string_view ws,
                         std::string_view action, std::string_view type,
                         std::string_view target_id, std::string_view target_name,
                         uint64_t descendants, bool ok, std::string_view detail) {
  AuditEntry a;
  a.workspace = ws;
  a.actor = actor.member_id.empty() ? InterfaceName(actor.via) : actor.member_id;
  a.actor_name = actor.member_id.empty() ? a.actor : MemberName(txn, ws, actor.member_id);
  a.via = InterfaceName(actor.via);
  a.action = action;
  a.type = type;
  a.target_id = target_id;
  a.target_name = target_name;
  a.descendants = descendants;
  a.ok = ok;
  a.detail = detail;
  audit_log.Append(txn, std::move(a));
  if (ok) CountChange(txn, ws);
}

namespace {

// Storage failures (shutting down, a full disk) are not refusals of the caller; there
// is nothing to record, and a full disk could not record it anyway.
bool IsRefusal(const Status& status) {
  return status.code() != Code::kUnavailable && status.code() != Code::kDiskFull;
}

// The write that records a refusal in the audit log.
std::function<Status(WriteTxn&)> RefusalEntry(
    Engine::Impl* impl, const Actor& actor, std::string_view ws, std::string_view action,
    std::string_view type, std::string_view target_id, const Status& status) {
  return [impl, actor, ws = std::string(ws), action = std::string(action),
          type = std::string(type), target_id = std::string(target_id),
          detail = status.message()](WriteTxn& txn) {
    impl->Audit(txn, actor, ws, action, type, target_id, "", 0, false, detail);
    return Status::Ok();
  };
}

}  // namespace

Status Engine::Impl::Refuse(const Actor& actor, std::string_view ws,
                            std::string_view action, std::string_view type,
                            std::string_view target_id, Status status,
                            const WriteOptions& options) {
  if (!IsRefusal(status)) return status;
  auto record = RefusalEntry(this, actor, ws, action, type, target_id, status);
  if (!options.may_wait) {
    // A thread that must not wait for a commit: the entry joins the next batch and the
    // refusal is answered now.
    store->WriteAsync(std::move(record), [](Status) {});
  } else {
    (void)store->Write(record);  // The refusal stands even if the audit write fails.
  }
  return status;
}

void Engine::Impl::RefuseLater(const Actor& actor, std::string_view ws,
                               std::string_view action, std::string_view type,
                               std::string_view target_id, Status status,
                               std::function<void(Status)> then) {
  if (!IsRefusal(status)) return then(std::move(status));
  auto record = RefusalEntry(this, actor, ws, action, type, target_id, status);
  // The refusal stands even if the audit write fails.
  store->WriteAsync(
      std::move(record),
      [then = std::move(then), status = std::move(status)](Status) { then(status); });
}

Status Engine::Impl::RunAudited(const Actor& actor, std::string_view ws,
                                std::string_view action, std::string_view type,
                                std::string_view target_id,
                                const std::function<Status(WriteTxn&)>& fn) {
  Status s = store->Write(fn);
  if (!s.ok()) return Refuse(actor, ws, action, type, target_id, s);
  return s;
}

Status Engine::RecordRefusal(const Actor& actor, std::string_view ws,
                             std::string_view action, std::string_view type,
                             std::string_view target_id, Status status) {
  return impl_->Refuse(actor, ws, action, type, target_id, std::move(status));
}

std::vector<AuditEntry> Engine::Audit(std::string_view ws, TimeMs since, size_t limit) {
  auto txn = impl_->store->BeginRead();
  return AuditLog::Read(*txn, ws, since, limit);
}

void Engine::SetQueuedEventTypes(std::optional<std::set<std::string>> types) {
  impl_->outbox.SetQueuedTypes(types);
}

std::vector<Event> Engine::PendingEvents(uint64_t after_seq, size_t limit) {
  auto txn = impl_->store->BeginRead();
  return Outbox::Pending(*txn, after_seq, limit);
}

Status Engine::AckEvents(uint64_t up_to_seq) {
  return impl_->store->Write([&](WriteTxn& txn) {
    Outbox::Ack(txn, up_to_seq);
    return Status::Ok();
  });
}

}  // namespace trashd
