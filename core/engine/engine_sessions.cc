// The web page's log-in (SPEC §8): passwords, sessions kept in the store, and A1 for
// a session (the same role decision as for an API key).
#include <utility>

#include "auth/password.h"
#include "engine/engine_impl.h"
#include "util/crypto.h"

namespace trashd {
namespace {

constexpr size_t kTokenBytes = 32;
constexpr size_t kCsrfBytes = 24;

bool LoadPassword(ReadTxn& txn, std::string_view ws, std::string_view member_id,
                  PasswordRec* out) {
  std::string_view v;
  return txn.Get(Table::kPasswords, schema::PasswordKey{ws, member_id}.Encode(), &v) &&
         PasswordRec::Decode(v, out);
}

// The member, or NotFound.
Status FindMember(ReadTxn& txn, std::string_view ws, std::string_view member_id,
                  Member* out) {
  return Engine::Impl::MemberMay(txn, ws, member_id, "",
                                 NotFound("no member " + std::string(member_id) +
                                          " in workspace " + std::string(ws)),
                                 out);
}

// Removes the sessions of one member (all of them when `member_id` is empty: none is
// kept) and every expired one, inside `txn`.
void DropSessions(WriteTxn& txn, std::string_view ws, std::string_view member_id,
                  TimeMs now) {
  std::vector<std::string> gone;
  txn.ScanPrefix(Table::kSessions, "", [&](std::string_view k, std::string_view v) {
    SessionRec s;
    if (!SessionRec::Decode(v, &s) || s.expires <= now ||
        (s.ws == ws && s.member_id == member_id)) {
      gone.emplace_back(k);
    }
    return true;
  });
  for (const std::string& k : gone) txn.Del(Table::kSessions, k);
}

// The session a token names, if it is still valid: not expired, its member present
// with the password it logged in with.
Status ValidSession(ReadTxn& txn, std::string_view token, TimeMs now, SessionRec* out,
                    Member* member) {
  Status ended = Unauthenticated("Your session has ended; log in again.");
  if (token.empty()) return Unauthenticated("Log in to use the Trash page.");
  std::string_view v;
  if (!txn.Get(Table::kSessions, schema::SessionKey(crypto::Sha256Hex(token)), &v) ||
      !SessionRec::Decode(v, out)) {
    return Engine::Impl::Missing(txn, ended);
  }
  PasswordRec pw;
  if (out->expires <= now || !LoadPassword(txn, out->ws, out->member_id, &pw) ||
      pw.version != out->password_version) {
    return Engine::Impl::Missing(txn, ended);
  }
  return Engine::Impl::MemberMay(txn, out->ws, out->member_id, "", ended, member);
}

WebSession SessionOf(const SessionRec& s, const Member& m) {
  return WebSession{s.ws,         s.member_id, m.name,   m.role,
                    s.csrf_token, s.created,   s.expires};
}

}  // namespace

Status Engine::SetPassword(const Actor& actor, std::string_view ws,
                           std::string_view member_id, std::string_view password) {
  Status rules = auth::CheckPasswordRules(password);
  if (!rules.ok()) {
    return impl_->Refuse(actor, ws, "member.set-password", "member", member_id, rules);
  }
  TRASHD_ASSIGN_OR_RETURN(std::string hash, auth::HashPassword(password));
  const TimeMs now = impl_->clock->Now();
  return impl_->RunAudited(
      actor, ws, "member.set-password", "member", member_id,
      [&](WriteTxn& txn) -> Status {
        Member m;
        TRASHD_RETURN_IF_ERROR(FindMember(txn, ws, member_id, &m));
        PasswordRec pw;
        uint64_t version = LoadPassword(txn, ws, member_id, &pw) ? pw.version + 1 : 1;
        txn.Put(Table::kPasswords, schema::PasswordKey{ws, member_id}.Encode(),
                PasswordRec{hash, version}.Encode());
        DropSessions(txn, ws, member_id, now);
        impl_->Audit(txn, actor, ws, "member.set-password", "member", m.id, m.name, 0,
                     true, "");
        return Status::Ok();
      });
}

// Removing a member ends everything they could act with: their password, every
// session, and their API keys (revoked, so the key list still shows them).
Result<size_t> Engine::RemoveMember(const Actor& actor, std::string_view ws,
                                    std::string_view member_id) {
  size_t revoked = 0;
  Status s = impl_->RunAudited(
      actor, ws, "member.remove", "member", member_id, [&](WriteTxn& txn) -> Status {
        Member m;
        TRASHD_RETURN_IF_ERROR(FindMember(txn, ws, member_id, &m));
        if (m.role == kOwnerRole) {
          int owners = 0;
          txn.ScanPrefix(Table::kMembers, schema::MembersPrefix(ws),
                         [&](auto, std::string_view v) {
                           Member other;
                           if (DecodeMember(v, &other) && other.role == kOwnerRole)
                             ++owners;
                           return true;
                         });
          if (owners <= 1) {
            return Conflict("member " + m.id + " is the last owner of workspace " +
                            std::string(ws) +
                            "; give another member the owner role first");
          }
        }
        std::vector<std::pair<std::string, KeyRec>> keys;
        txn.ScanPrefix(Table::kKeys, "", [&](std::string_view k, std::string_view v) {
          KeyRec rec;
          if (KeyRec::Decode(v, &rec) && rec.info.workspace == ws &&
              rec.info.member_id == member_id && !rec.info.revoked) {
            keys.emplace_back(std::string(k), std::move(rec));
          }
          return true;
        });
        revoked = keys.size();
        for (auto& [k, rec] : keys) {
          rec.info.revoked = true;
          txn.Put(Table::kKeys, k, rec.Encode());
        }
        txn.Del(Table::kMembers, schema::MemberKey{ws, member_id}.Encode());
        txn.Del(Table::kPasswords, schema::PasswordKey{ws, member_id}.Encode());
        DropSessions(txn, ws, member_id, impl_->clock->Now());
        impl_->Audit(txn, actor, ws, "member.remove", "member", m.id, m.name, 0, true,
                     std::to_string(keys.size()) + " keys revoked");
        return Status::Ok();
      });
  if (!s.ok()) return s;
  return revoked;
}

Result<NewWebSession> Engine::LogIn(std::string_view ws, std::string_view member_id,
                                    std::string_view password, TimeMs lifetime_ms) {
  const Actor actor = Actor::Member(std::string(member_id), Interface::kWeb);
  Status wrong = Unauthenticated("Wrong member or password.");
  Member m;
  PasswordRec pw;
  {
    auto txn = impl_->store->BeginRead();
    Status found = Impl::MemberMay(*txn, ws, member_id, "", wrong, &m);
    if (!found.ok() && found.code() != Code::kUnauthenticated) return found;
    if (!found.ok() || !LoadPassword(*txn, ws, member_id, &pw)) pw = PasswordRec{};
  }
  // A member without a password takes as long to refuse as a wrong password.
  static const std::string kDecoy = [] {
    auto h = auth::HashPassword("decoy password");
    return h.ok() ? *h : std::string();
  }();
  bool right = auth::VerifyPassword(pw.hash.empty() ? kDecoy : pw.hash, password) &&
               !pw.hash.empty();
  if (!right) return impl_->Refuse(actor, ws, "login", "member", member_id, wrong);
  NewWebSession out;
  out.token = crypto::RandomHex(kTokenBytes);
  SessionRec rec{std::string(ws),
                 std::string(member_id),
                 crypto::RandomHex(kCsrfBytes),
                 impl_->clock->Now(),
                 impl_->clock->Now() + lifetime_ms,
                 pw.version};
  Status s = impl_->RunAudited(
      actor, ws, "login", "member", member_id, [&](WriteTxn& txn) -> Status {
        DropSessions(txn, "", "", rec.created);  // only the expired ones
        txn.Put(Table::kSessions, schema::SessionKey(crypto::Sha256Hex(out.token)),
                rec.Encode());
        impl_->Audit(txn, actor, ws, "login", "member", m.id, m.name, 0, true, "");
        return Status::Ok();
      });
  if (!s.ok()) return s;
  out.session = SessionOf(rec, m);
  return out;
}

Result<WebSession> Engine::CheckSession(std::string_view token) {
  auto txn = impl_->store->BeginRead();
  SessionRec rec;
  Member m;
  TRASHD_RETURN_IF_ERROR(ValidSession(*txn, token, impl_->clock->Now(), &rec, &m));
  return SessionOf(rec, m);
}

Result<Principal> Engine::AuthorizeSession(std::string_view token, std::string_view ws,
                                           std::string_view permission,
                                           const std::string* csrf,
                                           const WriteOptions& options) {
  Principal p;
  Status refusal;
  {
    auto txn = impl_->store->BeginRead();
    SessionRec rec;
    Member m;
    refusal = ValidSession(*txn, token, impl_->clock->Now(), &rec, &m);
    if (refusal.ok()) {
      p = Principal{rec.ws, rec.member_id, m.name, ""};
      if (rec.ws != ws) {
        refusal = Unauthenticated("Your session is for workspace " + rec.ws + ", not " +
                                  std::string(ws) + ".");
      } else if (csrf && !crypto::ConstantTimeEquals(*csrf, rec.csrf_token)) {
        refusal = PermissionDenied(
            "The request's CSRF token is missing or wrong; reload the page.");
      } else {
        refusal = Impl::MemberMay(*txn, ws, rec.member_id, permission, refusal, &m);
      }
    }
  }
  if (!refusal.ok()) {
    Actor actor = Actor::Member(p.member_id, Interface::kWeb);
    return impl_->Refuse(actor, ws, "authorize", "session", "", refusal, options);
  }
  return p;
}

Status Engine::LogOut(std::string_view token) {
  SessionRec rec;
  {
    auto txn = impl_->store->BeginRead();
    Member m;
    TRASHD_RETURN_IF_ERROR(ValidSession(*txn, token, impl_->clock->Now(), &rec, &m));
  }
  const Actor actor = Actor::Member(rec.member_id, Interface::kWeb);
  return impl_->RunAudited(
      actor, rec.ws, "logout", "member", rec.member_id, [&](WriteTxn& txn) -> Status {
        const std::string key{schema::SessionKey(crypto::Sha256Hex(token))};
        if (!txn.Has(Table::kSessions, key)) return NotFound("no such session");
        txn.Del(Table::kSessions, key);
        impl_->Audit(txn, actor, rec.ws, "logout", "member", rec.member_id, "", 0, true,
                     "");
        return Status::Ok();
      });
}

}  // namespace trashd
