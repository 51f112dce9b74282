// Workspaces, members, roles, API keys and the A1 authorization decision.
#include <algorithm>

#include "engine/engine_impl.h"
#include "util/crypto.h"

namespace trashd {
namespace {

constexpr const char* kKeyPrefix = "tk_";
constexpr size_t kKeyIdChars = 12;

Status CheckRetention(int days) {
  if (days < kMinRetentionDays || days > kMaxRetentionDays) {
    return InvalidArgument("retention must be between 1 and 365 days, not " +
                           std::to_string(days));
  }
  return Status::Ok();
}

bool ValidMemberId(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' ||
           c == '.' || c == '@';
  });
}

bool LoadMember(ReadTxn& txn, std::string_view ws, std::string_view id, Member* out) {
  std::string_view v;
  return txn.Get(Table::kMembers, schema::MemberKey{ws, id}.Encode(), &v) &&
         DecodeMember(v, out);
}

bool RoleExists(ReadTxn& txn, std::string_view ws, std::string_view role) {
  return role == kOwnerRole || txn.Has(Table::kRoles, schema::RoleKey{ws, role}.Encode());
}

bool RoleHas(ReadTxn& txn, std::string_view ws, std::string_view role,
             std::string_view permission) {
  if (role == kOwnerRole) return true;
  std::string_view v;
  Role r;
  if (!txn.Get(Table::kRoles, schema::RoleKey{ws, role}.Encode(), &v) ||
      !DecodeRole(v, &r))
    return false;
  return std::find(r.permissions.begin(), r.permissions.end(), permission) !=
         r.permissions.end();
}

}  // namespace

// ---- workspaces -------------------------------------------------------------------

Result<Workspace> Engine::CreateWorkspace(const Actor& actor, const Workspace& spec) {
  Workspace w = spec;
  if (!ValidWorkspaceSlug(w.slug)) {
    return impl_->Refuse(
        actor, w.slug, "workspace.create", "workspace", w.slug,
        InvalidArgument("workspace url \"" + w.slug +
                        "\" must be 1-64 characters of a-z, 0-9 and '-', "
                        "starting with a letter or digit"));
  }
  for (const std::string& reserved : ReservedWorkspaceSlugs()) {
    if (w.slug != reserved) continue;
    return impl_->Refuse(actor, w.slug, "workspace.create", "workspace", w.slug,
                         InvalidArgument("workspace url \"" + w.slug +
                                         "\" is reserved: the API's own paths begin "
                                         "with /" +
                                         w.slug + "/; choose another"));
  }
  if (w.name.empty()) w.name = w.slug;
  Status s = CheckRetention(w.retention_days);
  if (!s.ok())
    return impl_->Refuse(actor, w.slug, "workspace.create", "workspace", w.slug, s);
  w.created = impl_->clock->Now();
  s = impl_->RunAudited(actor, w.slug, "workspace.create", "workspace", w.slug,
                        [&](WriteTxn& txn) -> Status {
                          if (txn.Has(Table::kWorkspaces, schema::WorkspaceKey(w.slug))) {
                            return Conflict("workspace " + w.slug + " already exists");
                          }
                          txn.Put(Table::kWorkspaces, schema::WorkspaceKey(w.slug),
                                  EncodeWorkspace(w));
                          impl_->Audit(txn, actor, w.slug, "workspace.create",
                                       "workspace", w.slug, w.name, 0, true, "");
                          return Status::Ok();
                        });
  if (!s.ok()) return s;
  return w;
}

Result<Workspace> Engine::GetWorkspace(std::string_view ws) {
  auto txn = impl_->store->BeginRead();
  Workspace w;
  if (!Impl::LoadWorkspace(*txn, ws, &w))
    return Impl::Missing(*txn, NotFound("no workspace " + std::string(ws)));
  return w;
}

std::vector<Workspace> Engine::ListWorkspaces() {
  std::vector<Workspace> out;
  auto txn = impl_->store->BeginRead();
  txn->ScanPrefix(Table::kWorkspaces, "", [&](auto, std::string_view v) {
    Workspace w;
    if (DecodeWorkspace(v, &w)) out.push_back(std::move(w));
    return true;
  });
  return out;
}

namespace {
// Loads, changes and stores a workspace in one audited transaction.
Status UpdateWorkspace(Engine::Impl& impl, const Actor& actor, std::string_view ws,
                       std::string_view action, std::string detail,
                       const std::function<Status(Workspace&)>& change) {
  return impl.RunAudited(
      actor, ws, action, "workspace", ws, [&](WriteTxn& txn) -> Status {
        Workspace w;
        if (!Engine::Impl::LoadWorkspace(txn, ws, &w)) {
          return NotFound("no workspace " + std::string(ws));
        }
        TRASHD_RETURN_IF_ERROR(change(w));
        txn.Put(Table::kWorkspaces, schema::WorkspaceKey(ws), EncodeWorkspace(w));
        impl.Audit(txn, actor, ws, action, "workspace", ws, w.name, 0, true, detail);
        return Status::Ok();
      });
}
}  // namespace

Status Engine::SetRetention(const Actor& actor, std::string_view ws, int days) {
  return UpdateWorkspace(*impl_, actor, ws, "workspace.set-retention",
                         std::to_string(days) + " days", [&](Workspace& w) {
                           TRASHD_RETURN_IF_ERROR(CheckRetention(days));
                           w.retention_days = days;
                           return Status::Ok();
                         });
}

Status Engine::SetQuota(const Actor& actor, std::string_view ws, uint64_t bytes) {
  return UpdateWorkspace(*impl_, actor, ws, "workspace.set-quota",
                         std::to_string(bytes) + " bytes", [&](Workspace& w) {
                           w.quota_bytes = bytes;
                           return Status::Ok();
                         });
}

Status Engine::SetWorkspaceHold(const Actor& actor, std::string_view ws, bool hold) {
  return UpdateWorkspace(*impl_, actor, ws, hold ? "workspace.hold" : "workspace.release",
                         "", [&](Workspace& w) {
                           w.hold = hold;
                           return Status::Ok();
                         });
}

// ---- members and roles ------------------------------------------------------------

Status Engine::AddMember(const Actor& actor, std::string_view ws, const Member& member) {
  return impl_->RunAudited(
      actor, ws, "member.add", "member", member.id, [&](WriteTxn& txn) -> Status {
        Workspace w;
        if (!Impl::LoadWorkspace(txn, ws, &w))
          return NotFound("no workspace " + std::string(ws));
        if (!ValidMemberId(member.id)) {
          return InvalidArgument(
              "member id \"" + member.id +
              "\" must be 1-128 characters of letters, digits, - _ . @");
        }
        if (!RoleExists(txn, ws, member.role)) {
          return InvalidArgument("no role \"" + member.role + "\" in workspace " +
                                 std::string(ws));
        }
        std::string k = schema::MemberKey{ws, member.id}.Encode();
        if (txn.Has(Table::kMembers, k))
          return Conflict("member " + member.id + " already exists");
        Member m = member;
        if (m.name.empty()) m.name = m.id;
        txn.Put(Table::kMembers, k, EncodeMember(m));
        impl_->Audit(txn, actor, ws, "member.add", "member", m.id, m.name, 0, true,
                     m.role);
        return Status::Ok();
      });
}

Status Engine::SetMemberRole(const Actor& actor, std::string_view ws,
                             std::string_view member_id, std::string_view role) {
  return impl_->RunAudited(
      actor, ws, "member.set-role", "member", member_id, [&](WriteTxn& txn) -> Status {
        Member m;
        if (!LoadMember(txn, ws, member_id, &m)) {
          return NotFound("no member " + std::string(member_id) + " in workspace " +
                          std::string(ws));
        }
        if (!RoleExists(txn, ws, role)) {
          return InvalidArgument("no role \"" + std::string(role) + "\" in workspace " +
                                 std::string(ws));
        }
        m.role = role;
        txn.Put(Table::kMembers, schema::MemberKey{ws, member_id}.Encode(),
                EncodeMember(m));
        impl_->Audit(txn, actor, ws, "member.set-role", "member", m.id, m.name, 0, true,
                     m.role);
        return Status::Ok();
      });
}

Result<Member> Engine::GetMember(std::string_view ws, std::string_view member_id) {
  auto txn = impl_->store->BeginRead();
  Member m;
  if (!LoadMember(*txn, ws, member_id, &m)) {
    return Impl::Missing(*txn, NotFound("no member " + std::string(member_id) +
                                        " in workspace " + std::string(ws)));
  }
  return m;
}

std::vector<Member> Engine::ListMembers(std::string_view ws) {
  std::vector<Member> out;
  auto txn = impl_->store->BeginRead();
  txn->ScanPrefix(Table::kMembers, schema::MembersPrefix(ws),
                  [&](auto, std::string_view v) {
                    Member m;
                    if (DecodeMember(v, &m)) out.push_back(std::move(m));
                    return true;
                  });
  return out;
}

Status Engine::CreateRole(const Actor& actor, std::string_view ws, const Role& role) {
  return impl_->RunAudited(
      actor, ws, "role.create", "role", role.name, [&](WriteTxn& txn) -> Status {
        Workspace w;
        if (!Impl::LoadWorkspace(txn, ws, &w))
          return NotFound("no workspace " + std::string(ws));
        if (!ValidMemberId(role.name)) {
          return InvalidArgument("role name \"" + role.name + "\" is not valid");
        }
        if (role.name == kOwnerRole ||
            txn.Has(Table::kRoles, schema::RoleKey{ws, role.name}.Encode())) {
          return Conflict("role " + role.name + " already exists");
        }
        for (const auto& p : role.permissions) {
          if (!impl_->types->IsPermission(p))
            return InvalidArgument("unknown permission \"" + p + "\"");
        }
        txn.Put(Table::kRoles, schema::RoleKey{ws, role.name}.Encode(), EncodeRole(role));
        impl_->Audit(txn, actor, ws, "role.create", "role", role.name, role.name, 0, true,
                     "");
        return Status::Ok();
      });
}

std::vector<Role> Engine::ListRoles(std::string_view ws) {
  std::vector<Role> out;
  out.push_back(Role{kOwnerRole, impl_->types->Permissions()});
  auto txn = impl_->store->BeginRead();
  txn->ScanPrefix(Table::kRoles, schema::RolesPrefix(ws), [&](auto, std::string_view v) {
    Role r;
    if (DecodeRole(v, &r)) out.push_back(std::move(r));
    return true;
  });
  return out;
}

Status Engine::Impl::MemberMay(ReadTxn& txn, std::string_view ws,
                               std::string_view member_id, std::string_view permission,
                               Status gone, Member* out) {
  if (!LoadMember(txn, ws, member_id, out)) return Missing(txn, std::move(gone));
  if (!permission.empty() && !RoleHas(txn, ws, out->role, permission)) {
    return PermissionDenied("Your role (" + out->role + ") lacks the " +
                            std::string(permission) + " permission.");
  }
  return Status::Ok();
}

std::vector<std::string> Engine::MemberPermissions(std::string_view ws,
                                                   std::string_view member_id) {
  auto txn = impl_->store->BeginRead();
  Member m;
  if (!LoadMember(*txn, ws, member_id, &m)) return {};
  if (m.role == kOwnerRole) return impl_->types->Permissions();
  std::string_view v;
  Role r;
  if (!txn->Get(Table::kRoles, schema::RoleKey{ws, m.role}.Encode(), &v) ||
      !DecodeRole(v, &r))
    return {};
  return r.permissions;
}

bool Engine::MemberHas(std::string_view ws, std::string_view member_id,
                       std::string_view permission) {
  auto txn = impl_->store->BeginRead();
  Member m;
  return LoadMember(*txn, ws, member_id, &m) && RoleHas(*txn, ws, m.role, permission);
}

// ---- API keys ---------------------------------------------------------------------

Result<NewApiKey> Engine::CreateKey(const Actor& actor, std::string_view ws,
                                    std::string_view member_id,
                                    const std::vector<std::string>& scopes) {
  NewApiKey key;
  key.info.key_id = crypto::RandomBase32(kKeyIdChars);
  key.secret = kKeyPrefix + key.info.key_id + "_" + crypto::RandomHex(24);
  key.info.workspace = ws;
  key.info.member_id = member_id;
  key.info.scopes = scopes;
  key.info.created = impl_->clock->Now();
  Status s = impl_->RunAudited(
      actor, ws, "key.create", "key", key.info.key_id, [&](WriteTxn& txn) -> Status {
        Member m;
        if (!LoadMember(txn, ws, member_id, &m)) {
          return NotFound("no member " + std::string(member_id) + " in workspace " +
                          std::string(ws));
        }
        for (const auto& sc : scopes) {
          if (!impl_->types->IsScope(sc))
            return InvalidArgument("unknown scope \"" + sc + "\"");
        }
        KeyRec rec{key.info, crypto::Sha256Hex(key.secret)};
        txn.Put(Table::kKeys, schema::ApiKeyKey(key.info.key_id), rec.Encode());
        impl_->Audit(txn, actor, ws, "key.create", "key", key.info.key_id, m.name, 0,
                     true, "");
        return Status::Ok();
      });
  if (!s.ok()) return s;
  return key;
}

Status Engine::RevokeKey(const Actor& actor, std::string_view ws,
                         std::string_view key_id) {
  return impl_->RunAudited(
      actor, ws, "key.revoke", "key", key_id, [&](WriteTxn& txn) -> Status {
        std::string_view v;
        KeyRec rec;
        if (!txn.Get(Table::kKeys, schema::ApiKeyKey(key_id), &v) ||
            !KeyRec::Decode(v, &rec) || rec.info.workspace != ws) {
          return NotFound("no key " + std::string(key_id) + " in workspace " +
                          std::string(ws));
        }
        rec.info.revoked = true;
        txn.Put(Table::kKeys, schema::ApiKeyKey(key_id), rec.Encode());
        impl_->Audit(txn, actor, ws, "key.revoke", "key", key_id, "", 0, true, "");
        return Status::Ok();
      });
}

std::vector<ApiKeyInfo> Engine::ListKeys(std::string_view ws) {
  std::vector<ApiKeyInfo> out;
  auto txn = impl_->store->BeginRead();
  txn->ScanPrefix(Table::kKeys, "", [&](auto, std::string_view v) {
    KeyRec rec;
    if (KeyRec::Decode(v, &rec) && rec.info.workspace == ws) out.push_back(rec.info);
    return true;
  });
  return out;
}

namespace {
// The key id a secret names, or "" for one of the wrong shape.
std::string_view KeyIdOf(std::string_view secret) {
  std::string_view prefix = kKeyPrefix;
  if (secret.size() < prefix.size() + kKeyIdChars + 2 ||
      secret.substr(0, prefix.size()) != prefix) {
    return "";
  }
  return secret.substr(prefix.size(), kKeyIdChars);
}

// Finds the key a secret names and checks it, in constant time over the secret.
Result<KeyRec> CheckSecret(ReadTxn& txn, std::string_view secret) {
  Status bad = Unauthenticated("Invalid or missing API key.");
  std::string_view key_id = KeyIdOf(secret);
  if (key_id.empty()) return bad;
  std::string_view v;
  KeyRec rec;
  if (!txn.Get(Table::kKeys, schema::ApiKeyKey(key_id), &v) || !KeyRec::Decode(v, &rec))
    return Engine::Impl::Missing(txn, bad);
  if (!crypto::ConstantTimeEquals(crypto::Sha256Hex(secret), rec.secret_hash)) return bad;
  if (rec.info.revoked) return Unauthenticated("This API key has been revoked.");
  return rec;
}
}  // namespace

Result<Principal> Engine::Identify(std::string_view secret) {
  auto txn = impl_->store->BeginRead();
  TRASHD_ASSIGN_OR_RETURN(KeyRec rec, CheckSecret(*txn, secret));
  Principal p{rec.info.workspace, rec.info.member_id,
              Impl::MemberName(*txn, rec.info.workspace, rec.info.member_id),
              rec.info.key_id};
  return p;
}

Result<Principal> Engine::Authorize(std::string_view secret, std::string_view ws,
                                    std::string_view scope, std::string_view permission,
                                    const WriteOptions& options) {
  return AuthorizeAndFind(secret, ws, scope, permission, "", nullptr, options);
}

Result<Principal> Engine::AuthorizeAndFind(std::string_view secret, std::string_view ws,
                                           std::string_view scope,
                                           std::string_view permission,
                                           std::string_view resource_id,
                                           std::optional<Resource>* found,
                                           const WriteOptions& options) {
  return impl_->AuthorizeAndFind(secret, ws, scope, permission, resource_id, found,
                                 options);
}

Result<Principal> Engine::Impl::AuthorizeAndFind(
    std::string_view secret, std::string_view ws, std::string_view scope,
    std::string_view permission, std::string_view resource_id,
    std::optional<Resource>* found, const WriteOptions& options) {
  Result<KeyVerdict> verdict = KeyVerdict{};
  {
    auto txn = store->BeginRead();
    verdict =
        CheckKey(*txn, secret, ws, scope, permission, found ? resource_id : "", found);
  }
  if (!verdict.ok()) return verdict.status();
  if (!verdict->refusal.ok()) {
    const Principal& p = verdict->principal;
    return Refuse(Actor::Member(p.member_id, Interface::kApi), ws, "authorize", "key",
                  p.key_id, std::move(verdict->refusal), options);
  }
  return std::move(verdict->principal);
}

Result<Engine::Impl::KeyVerdict> Engine::Impl::CheckKey(
    ReadTxn& txn, std::string_view secret, std::string_view ws, std::string_view scope,
    std::string_view permission, std::string_view resource_id,
    std::optional<Resource>* found) {
  if (found) found->reset();
  KeyVerdict v;
  Principal& p = v.principal;
  Status& refusal = v.refusal;
  // Every record this reads, together where the key's member is known.
  const std::string_view key_id = KeyIdOf(secret);
  const std::string hint = key_members.Find(key_id);
  ReadTxn::KeyList reads{{Table::kKeys, std::string(schema::ApiKeyKey(key_id))}};
  if (!hint.empty())
    reads.emplace_back(Table::kMembers, schema::MemberKey{ws, hint}.Encode());
  if (found && !resource_id.empty())
    reads.emplace_back(Table::kResources, std::string(schema::ResourceKey(resource_id)));
  if (!key_id.empty()) txn.Prefetch(reads);
  auto rec = CheckSecret(txn, secret);
  if (!rec.ok()) {
    refusal = rec.status();
  } else {
    const ApiKeyInfo& info = rec->info;
    if (hint != info.member_id) key_members.Remember(key_id, info.member_id);
    p = Principal{info.workspace, info.member_id,
                  MemberName(txn, info.workspace, info.member_id), info.key_id};
    if (info.workspace != ws) {
      refusal = Unauthenticated("This API key does not belong to workspace " +
                                std::string(ws) + ".");
    } else if (!scope.empty() && std::find(info.scopes.begin(), info.scopes.end(),
                                           scope) == info.scopes.end()) {
      refusal =
          Unauthenticated("This API key lacks the " + std::string(scope) + " scope.");
    } else {
      Member m;
      refusal =
          MemberMay(txn, ws, info.member_id, permission,
                    Unauthenticated("The member of this API key no longer exists."), &m);
    }
  }
  if (refusal.ok() && found && !resource_id.empty()) {
    ResourceRec r;
    if (LoadOwned(txn, ws, resource_id, &r).ok()) {
      *found = ToResource(r, TypeOf(r.type));
    } else if (!txn.status().ok()) {
      return txn.status();  // a failed read is not a missing resource
    }
  }
  return v;
}

bool Engine::Impl::KeyCheckedInBatch(std::string_view secret) const {
  if (!SharedStore()) return false;
  const std::string_view key_id = KeyIdOf(secret);
  return !key_id.empty() && !key_members.Find(key_id).empty();
}

void Engine::Impl::ForgetKey(std::string_view secret) {
  key_members.Forget(KeyIdOf(secret));
}

}  // namespace trashd
