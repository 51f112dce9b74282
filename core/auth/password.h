// Password hashes for the web page's log-in (SPEC §8): Argon2id from libsodium, salted,
// slow by design, in libsodium's self-describing string form (algorithm, parameters,
// salt and hash in one text), so the parameters can grow without a schema change.
//
// Pure functions of their arguments (and the OS's randomness): safe from any thread.
// A hash takes about 64 MiB and a noticeable fraction of a second: call these where a
// thread may wait (the HTTP pool), never on an event loop.
#pragma once

#include <string>
#include <string_view>

#include "trashd/status.h"

namespace trashd::auth {

// What a password must be: 8-1024 bytes. InvalidArgument says why not.
Status CheckPasswordRules(std::string_view password);

// The Argon2id hash of `password` with a fresh random salt; Internal when libsodium
// cannot start or runs out of memory.
Result<std::string> HashPassword(std::string_view password);

// Whether `password` is the one `hash` (from HashPassword) was made of. A malformed
// hash matches nothing.
bool VerifyPassword(std::string_view hash, std::string_view password);

}  // namespace trashd::auth
