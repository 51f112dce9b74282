// Reading trashd's admin answers and writing them for a person: the pieces every
// group of trashctl commands shares. The daemon is ours, but trashctl may meet an
// older or newer one: a missing field reads as empty, never as a crash.
//
// Plain functions on JSON values; the references they return point into the object
// passed in (or at a static empty value), so they live as long as it does. Safe to
// call from any thread.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <functional>
#include <ostream>
#include <string>
#include <string_view>

namespace trashctl {

// Prints a successful answer for a person and returns the exit code.
using Show = std::function<int(const boost::json::object&, std::ostream&)>;

// ---- reading answers

const boost::json::value* FieldOf(const boost::json::object& object,
                                  std::string_view key);
// A string field as is, another value as its JSON, absent or null as "".
std::string Text(const boost::json::object& object, std::string_view key);
// A non-negative integer field; anything else reads as 0.
uint64_t Count(const boost::json::object& object, std::string_view key);
bool Flag(const boost::json::object& object, std::string_view key);
const boost::json::array& ListOf(const boost::json::object& object, std::string_view key);
const boost::json::object& ObjectOf(const boost::json::value& value);
const boost::json::object& ObjectOf(const boost::json::object& object,
                                    std::string_view key);

// ---- text for a person

// "2026-04-20T17:05:33.000Z" -> "2026-04-20 17:05" (with `seconds`,
// "2026-04-20 17:05:33"); absent -> "-". Times are UTC, as the daemon writes them.
std::string ShortTime(const std::string& iso, bool seconds = false);
// A span as people read it: "850 ms", "12.3 s", "4 min 5 s", "3 h 12 min", "2 d 3 h".
std::string DurationText(uint64_t ms);
std::string Joined(const boost::json::array& strings, const char* separator = ", ");
// "1 item", "2 items".
std::string Plural(uint64_t n, const std::string& one, const std::string& many);
std::string QuotaText(uint64_t bytes);

// Every field of `object` as a "name  value" line, nested objects with a prefix.
int PrintFacts(const boost::json::object& object, std::ostream& out);
// A printer for answers that only need a sentence built from them.
Show Say(std::function<std::string(const boost::json::object&)> sentence);

// The Trash as a table (trash list, and what a dry run would purge).
void PrintTrashItems(const boost::json::array& items, std::ostream& out);
// A dry run's answer (`wouldPurge`): the items and what they add up to.
int ShowWouldPurge(const boost::json::object& answer, std::ostream& out);

}  // namespace trashctl
