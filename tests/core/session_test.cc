// The web page's log-in (SPEC §8): passwords as Argon2id hashes, sessions kept in the
// store, A1 for a session (CSRF token, role), and the page's reads of the Trash.
#include <catch2/catch.hpp>
#include <cctype>
#include <string>
#include <thread>
#include <vector>

#include "engine/engine.h"
#include "support/assertions.h"
#include "support/test_env.h"

namespace trashd::testing {
namespace {

constexpr TimeMs kHour = 3600 * 1000;

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

NewWebSession LoggedIn(TestEnv& env, const std::string& member = "alice",
                       const std::string& password = "correct horse") {
  auto s = env->LogIn("acme", member, password, 12 * kHour);
  REQUIRE_OK(s);
  return s.value();
}

bool HasEntry(TestEnv& env, const std::string& action, bool ok, const std::string& via) {
  for (const AuditEntry& e : env->Audit("acme", 0, 10000)) {
    if (e.action == action && e.ok == ok && e.via == via) return true;
  }
  return false;
}

TEST_CASE("Web log-in: the right password opens a session, a wrong one is refused",
          "[session]") {
  TestEnv env;
  env.MakeWorkspace("acme");
  REQUIRE_OK(env->SetPassword(Actor::Admin(), "acme", "alice", "correct horse"));

  REQUIRE_CODE(env->LogIn("acme", "alice", "wrong horse", kHour), Code::kUnauthenticated);
  REQUIRE_CODE(env->LogIn("acme", "nobody", "correct horse", kHour),
               Code::kUnauthenticated);
  // bob has no password: no log-in at all.
  REQUIRE_CODE(env->LogIn("acme", "bob", "", kHour), Code::kUnauthenticated);
  CHECK(HasEntry(env, "login", false, "web"));

  NewWebSession s = LoggedIn(env);
  CHECK(s.token.size() == 64);
  CHECK(s.session.member_id == "alice");
  CHECK(s.session.member_name == "Alice");
  CHECK(s.session.csrf_token.size() == 48);
  CHECK(s.session.expires == kStart + 12 * kHour);
  CHECK(HasEntry(env, "login", true, "web"));
  auto checked = env->CheckSession(s.token);
  REQUIRE_OK(checked);
  CHECK(checked->csrf_token == s.session.csrf_token);
  REQUIRE_CODE(env->CheckSession("not a token"), Code::kUnauthenticated);
  REQUIRE_CODE(env->CheckSession(""), Code::kUnauthenticated);
}

TEST_CASE("Web log-in: a password is 8 characters or more and is stored hashed",
          "[session]") {
  TestEnv env;
  env.MakeWorkspace("acme");
  REQUIRE_CODE(env->SetPassword(Actor::Admin(), "acme", "alice", "short"),
               Code::kInvalidArgument);
  REQUIRE_CODE(env->SetPassword(Actor::Admin(), "acme", "carol", "long enough"),
               Code::kNotFound);
  REQUIRE_OK(env->SetPassword(Actor::Admin(), "acme", "alice", "correct horse"));
  bool found = false;
  auto txn = env->store().BeginRead();
  txn->ScanPrefix(Table::kPasswords, "", [&](std::string_view, std::string_view v) {
    found = true;
    CHECK(v.find("correct horse") == std::string_view::npos);
    CHECK(v.find("$argon2id$") != std::string_view::npos);
    return true;
  });
  CHECK(found);
}

TEST_CASE("Web sessions survive a restart and end at expiry, log-out or a new password",
          "[session]") {
  TestEnv env;
  env.MakeWorkspace("acme");
  REQUIRE_OK(env->SetPassword(Actor::Admin(), "acme", "alice", "correct horse"));
  NewWebSession s = LoggedIn(env);
  env.Reopen();
  REQUIRE_OK(env->CheckSession(s.token));

  SECTION("expiry") {
    env.clock().Advance(12 * kHour);
    REQUIRE_CODE(env->CheckSession(s.token), Code::kUnauthenticated);
  }
  SECTION("log-out") {
    REQUIRE_OK(env->LogOut(s.token));
    REQUIRE_CODE(env->CheckSession(s.token), Code::kUnauthenticated);
    REQUIRE_CODE(env->LogOut(s.token), Code::kUnauthenticated);
    CHECK(HasEntry(env, "logout", true, "web"));
  }
  SECTION("a new password") {
    NewWebSession other = LoggedIn(env);
    REQUIRE_OK(env->SetPassword(Actor::Admin(), "acme", "alice", "battery staple"));
    REQUIRE_CODE(env->CheckSession(s.token), Code::kUnauthenticated);
    REQUIRE_CODE(env->CheckSession(other.token), Code::kUnauthenticated);
    REQUIRE_CODE(env->LogIn("acme", "alice", "correct horse", kHour),
                 Code::kUnauthenticated);
    LoggedIn(env, "alice", "battery staple");
  }
  SECTION("the member removed") {
    auto key = env->CreateKey(Actor::Admin(), "acme", "alice", {"project:read"});
    REQUIRE_OK(key);
    REQUIRE_OK(env->Authorize(key->secret, "acme", "project:read", ""));
    auto removed = env->RemoveMember(Actor::Admin(), "acme", "alice");
    REQUIRE_OK(removed);
    CHECK(removed.value() == 1);
    REQUIRE_CODE(env->CheckSession(s.token), Code::kUnauthenticated);
    REQUIRE_CODE(env->AuthorizeSession(s.token, "acme", "view_trash", nullptr),
                 Code::kUnauthenticated);
    REQUIRE_CODE(env->LogIn("acme", "alice", "correct horse", kHour),
                 Code::kUnauthenticated);
    REQUIRE_CODE(env->Authorize(key->secret, "acme", "project:read", ""),
                 Code::kUnauthenticated);
    REQUIRE_CODE(env->GetMember("acme", "alice"), Code::kNotFound);
    for (const ApiKeyInfo& k : env->ListKeys("acme")) CHECK(k.revoked);
    CHECK(HasEntry(env, "member.remove", true, "admin"));
    // Added again, the member starts with no password and no session.
    REQUIRE_OK(env->AddMember(Actor::Admin(), "acme", Member{"alice", "Alice", "owner"}));
    REQUIRE_CODE(env->CheckSession(s.token), Code::kUnauthenticated);
    REQUIRE_CODE(env->LogIn("acme", "alice", "correct horse", kHour),
                 Code::kUnauthenticated);
  }
}

TEST_CASE("Two log-outs of one session at once: one ends it, one audit entry",
          "[session]") {
  TestEnv env;
  env.MakeWorkspace("acme");
  REQUIRE_OK(env->SetPassword(Actor::Admin(), "acme", "alice", "correct horse"));
  NewWebSession s = LoggedIn(env);
  Status first, second;
  std::thread other([&] { second = env->LogOut(s.token); });
  first = env->LogOut(s.token);
  other.join();
  INFO(first.ToString() << " / " << second.ToString());
  CHECK(first.ok() != second.ok());
  const Status& refused = first.ok() ? second : first;
  CHECK((refused.code() == Code::kUnauthenticated || refused.code() == Code::kNotFound));
  REQUIRE_CODE(env->CheckSession(s.token), Code::kUnauthenticated);
  int logouts = 0;
  for (const AuditEntry& e : env->Audit("acme", 0, 10000)) {
    if (e.action == "logout" && e.ok) ++logouts;
  }
  CHECK(logouts == 1);
}

TEST_CASE("Removing members: never the workspace's last owner", "[session]") {
  TestEnv env;
  env.MakeWorkspace("acme");
  REQUIRE_CODE(env->RemoveMember(Actor::Admin(), "acme", "carol"), Code::kNotFound);
  REQUIRE_CODE(env->RemoveMember(Actor::Admin(), "nowhere", "alice"), Code::kNotFound);
  REQUIRE_OK(env->RemoveMember(Actor::Admin(), "acme", "bob"));
  auto last = env->RemoveMember(Actor::Admin(), "acme", "alice");
  REQUIRE_CODE(last, Code::kConflict);
  CHECK_THAT(last.status().message(), Catch::Contains("last owner"));
  REQUIRE_OK(env->GetMember("acme", "alice"));
  CHECK(HasEntry(env, "member.remove", false, "admin"));
}

TEST_CASE("A1 for a session: workspace, CSRF token and the role's permissions",
          "[session][A1]") {
  TestEnv env;
  env.MakeWorkspace("acme");
  env.MakeWorkspace("other");
  REQUIRE_OK(env->CreateRole(Actor::Admin(), "acme", Role{"viewer", {"view_trash"}}));
  REQUIRE_OK(env->AddMember(Actor::Admin(), "acme", Member{"vic", "Vic", "viewer"}));
  REQUIRE_OK(env->SetPassword(Actor::Admin(), "acme", "vic", "viewer password"));
  REQUIRE_OK(env->SetPassword(Actor::Admin(), "acme", "alice", "correct horse"));
  NewWebSession owner = LoggedIn(env);
  NewWebSession viewer = LoggedIn(env, "vic", "viewer password");
  const std::string csrf = owner.session.csrf_token;
  std::string wrong = csrf;
  wrong[0] = wrong[0] == '0' ? '1' : '0';

  auto p = env->AuthorizeSession(owner.token, "acme", "purge_trash", &csrf);
  REQUIRE_OK(p);
  CHECK(p->member_id == "alice");
  REQUIRE_OK(env->AuthorizeSession(owner.token, "acme", "view_trash", nullptr));
  REQUIRE_CODE(env->AuthorizeSession(owner.token, "acme", "", &wrong),
               Code::kPermissionDenied);
  const std::string empty;
  REQUIRE_CODE(env->AuthorizeSession(owner.token, "acme", "", &empty),
               Code::kPermissionDenied);
  REQUIRE_CODE(env->AuthorizeSession(owner.token, "other", "", nullptr),
               Code::kUnauthenticated);
  REQUIRE_OK(env->AuthorizeSession(viewer.token, "acme", "view_trash", nullptr));
  REQUIRE_CODE(env->AuthorizeSession(viewer.token, "acme", "purge_trash",
                                     &viewer.session.csrf_token),
               Code::kPermissionDenied);
  CHECK(env->MemberPermissions("acme", "vic") == std::vector<std::string>{"view_trash"});
  CHECK(HasEntry(env, "authorize", false, "web"));
}

TEST_CASE("The page's search: by name, sorted and paged by the engine", "[session]") {
  TestEnv env;
  env.MakeWorkspace("acme");
  TrashOptions images;  // so that a purge frees its image: its size (Q3)
  images.cleanup_delete_images = true;
  for (int i = 0; i < 30; ++i) {
    Resource r = env.Create("acme", "project", "", "cars-" + std::to_string(i));
    REQUIRE_OK(env->PutAsset(Alice(), "acme", r.id, "image", std::string(100 + i, 'x')));
    env.clock().Advance(1000);
    REQUIRE_OK(env->Trash(Alice(), "acme", r.id, images));
  }
  Resource w = env.Create("acme", "workflow", "", "flow");
  REQUIRE_OK(env->Trash(Alice(), "acme", w.id));

  TrashSearch search;
  search.text = "CARS-2";
  search.sort = TrashSort::kSize;
  search.descending = false;
  search.limit = 5;
  auto page = env->SearchTrash("acme", search);
  REQUIRE_OK(page);
  CHECK(page->total == 11);  // cars-2, cars-20 ... cars-29
  REQUIRE(page->items.size() == 5);
  CHECK(page->items[0].name == "cars-2");
  CHECK(page->items[1].name == "cars-20");
  CHECK(page->by_type.at("project") == 30);
  CHECK(page->by_type.at("workflow") == 1);
  search.offset = 10;
  page = env->SearchTrash("acme", search);
  REQUIRE_OK(page);
  REQUIRE(page->items.size() == 1);
  CHECK(page->items[0].name == "cars-29");

  TrashSearch typed;
  typed.type = "workflow";
  page = env->SearchTrash("acme", typed);
  REQUIRE_OK(page);
  REQUIRE(page->total == 1);
  CHECK(page->items[0].name == "flow");
  typed.type = "nonsense";
  REQUIRE_CODE(env->SearchTrash("acme", typed), Code::kInvalidArgument);
}

TEST_CASE("The page's search sees every change made before it, however often it runs",
          "[session]") {
  TestEnv env;
  env.MakeWorkspace("acme");
  env.MakeWorkspace("other");
  std::vector<Resource> made;
  for (const char* name : {"Boats", "apples", "Cars"}) {
    NewResource spec;
    spec.type = "project";
    spec.slug = Lower(name);
    spec.name = name;
    spec.owner_id = "alice";
    auto r = env->CreateResource(Alice(), "acme", spec);
    REQUIRE_OK(r);
    made.push_back(r.value());
    env.clock().Advance(1000);
    REQUIRE_OK(env->Trash(Alice(), "acme", made.back().id));
  }
  TrashSearch by_name;
  by_name.sort = TrashSort::kName;
  by_name.descending = false;
  auto names = [&](const TrashSearch& search) {
    auto page = env->SearchTrash("acme", search);
    REQUIRE_OK(page);
    std::vector<std::string> out;
    for (const TrashItem& item : page->items) out.push_back(item.name);
    CHECK(page->total == out.size());
    return out;
  };
  // Twice: the second answer comes from what the first read, and is the same.
  CHECK(names(by_name) == std::vector<std::string>{"apples", "Boats", "Cars"});
  CHECK(names(by_name) == std::vector<std::string>{"apples", "Boats", "Cars"});
  // A write elsewhere changes nothing here, and a search in another workspace is its own.
  env.Create("other", "project", "", "elsewhere");
  CHECK(env->SearchTrash("other", by_name)->total == 0);
  CHECK(names(by_name) == std::vector<std::string>{"apples", "Boats", "Cars"});

  Resource dogs = env.Create("acme", "project", "", "dogs");
  REQUIRE_OK(env->Trash(Alice(), "acme", dogs.id));
  CHECK(names(by_name) == std::vector<std::string>{"apples", "Boats", "Cars", "dogs"});
  REQUIRE_OK(env->Restore(Alice(), "acme", made[0].id));
  CHECK(names(by_name) == std::vector<std::string>{"apples", "Cars", "dogs"});
  REQUIRE_OK(env->Purge(Actor::Member("alice", Interface::kWeb), "acme", made[1].id));
  TrashSearch text;
  text.text = "A";
  CHECK(names(text) == std::vector<std::string>{"Cars"});
  env.Reopen();
  CHECK(names(by_name) == std::vector<std::string>{"Cars", "dogs"});
}

TEST_CASE(
    "A purge preview names the exclusive images it removes and the shared ones "
    "it keeps",
    "[session][P2]") {
  TestEnv env;
  env.MakeWorkspace("acme");
  Resource cars = env.Create("acme", "project", "", "cars");
  Resource boats = env.Create("acme", "project", "", "boats");
  auto own = env->PutAsset(Alice(), "acme", cars.id, "image", std::string(1000, 'a'));
  auto shared = env->PutAsset(Alice(), "acme", cars.id, "image", std::string(500, 'b'));
  REQUIRE_OK(own);
  REQUIRE_OK(shared);
  REQUIRE_OK(env->LinkAsset(Alice(), "acme", boats.id, "image", shared->hash));
  TrashOptions images;
  images.cleanup_delete_images = true;
  auto trashed = env->Trash(Alice(), "acme", cars.id, images);
  REQUIRE_OK(trashed);
  auto preview = env->PreviewPurge("acme", cars.id);
  REQUIRE_OK(preview);
  CHECK(preview->exclusive_images == 1);
  CHECK(preview->kept_images == 1);
  CHECK(preview->files == 1);
  CHECK(preview->bytes == 1000);
  CHECK(preview->item.name == "cars");
}

}  // namespace
}  // namespace trashd::testing
