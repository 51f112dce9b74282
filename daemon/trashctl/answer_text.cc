#include "trashctl/answer_text.h"

#include <boost/json/serialize.hpp>
#include <cctype>
#include <cstdio>

#include "trashctl/commands.h"
#include "trashctl/text_table.h"

namespace trashctl {

namespace json = boost::json;

const json::value* FieldOf(const json::object& object, std::string_view key) {
  auto it = object.find(key);
  return it == object.end() ? nullptr : &it->value();
}

std::string Text(const json::object& object, std::string_view key) {
  const json::value* v = FieldOf(object, key);
  if (!v || v->is_null()) return "";
  if (v->is_string()) return std::string(v->get_string());
  return json::serialize(*v);
}

uint64_t Count(const json::object& object, std::string_view key) {
  const json::value* v = FieldOf(object, key);
  if (!v) return 0;
  if (v->is_uint64()) return v->get_uint64();
  if (v->is_int64() && v->get_int64() >= 0) return static_cast<uint64_t>(v->get_int64());
  return 0;
}

bool Flag(const json::object& object, std::string_view key) {
  const json::value* v = FieldOf(object, key);
  return v && v->is_bool() && v->get_bool();
}

const json::array& ListOf(const json::object& object, std::string_view key) {
  static const json::array kEmpty;
  const json::value* v = FieldOf(object, key);
  return v && v->is_array() ? v->get_array() : kEmpty;
}

const json::object& ObjectOf(const json::value& value) {
  static const json::object kEmpty;
  return value.is_object() ? value.get_object() : kEmpty;
}

const json::object& ObjectOf(const json::object& object, std::string_view key) {
  static const json::value kNone;
  const json::value* v = FieldOf(object, key);
  return ObjectOf(v ? *v : kNone);
}

std::string ShortTime(const std::string& iso, bool seconds) {
  const size_t length = seconds ? 19 : 16;
  if (iso.size() < length) return iso.empty() ? "-" : iso;
  std::string out = iso.substr(0, length);
  out[10] = ' ';
  return out;
}

std::string DurationText(uint64_t ms) {
  if (ms < 1000) return std::to_string(ms) + " ms";
  if (ms < 60'000) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.1f s", static_cast<double>(ms) / 1000);
    return buf;
  }
  const uint64_t s = ms / 1000;
  auto two = [](uint64_t big, const char* big_unit, uint64_t small,
                const char* small_unit) {
    std::string out = std::to_string(big) + " " + big_unit;
    if (small > 0) out += " " + std::to_string(small) + " " + small_unit;
    return out;
  };
  if (s < 3600) return two(s / 60, "min", s % 60, "s");
  if (s < 86400) return two(s / 3600, "h", s / 60 % 60, "min");
  return two(s / 86400, "d", s / 3600 % 24, "h");
}

std::string Joined(const json::array& strings, const char* separator) {
  std::string out;
  for (const json::value& v : strings) {
    if (!out.empty()) out += separator;
    out += v.is_string() ? std::string(v.get_string()) : json::serialize(v);
  }
  return out;
}

std::string Plural(uint64_t n, const std::string& one, const std::string& many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

std::string QuotaText(uint64_t bytes) { return bytes == 0 ? "none" : FormatBytes(bytes); }

namespace {

// "staleReadersCleared" -> "stale readers cleared".
std::string Words(std::string_view key) {
  std::string out;
  for (char c : key) {
    if (std::isupper(static_cast<unsigned char>(c))) {
      out += ' ';
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else {
      out += c;
    }
  }
  return out;
}

// "2026-04-20T17:05:33.000Z", the only way the daemon writes a time.
bool IsIsoTime(std::string_view s) {
  return s.size() == 24 && s[4] == '-' && s[7] == '-' && s[10] == 'T' && s[13] == ':' &&
         s[16] == ':' && s.back() == 'Z';
}

// A fact of any shape as one cell, in units a person reads: a number named size or
// *Bytes as a size, *Ms or *Seconds as a span, a time as ShortTime().
std::string FactText(std::string_view key, const json::value& v) {
  if (v.is_string()) {
    std::string_view text = v.get_string();
    return IsIsoTime(text) ? ShortTime(std::string(text), true) : std::string(text);
  }
  if (v.is_bool()) return v.get_bool() ? "yes" : "no";
  if (v.is_null()) return "-";
  if (v.is_array()) return Joined(v.get_array());
  if (!(v.is_uint64() || (v.is_int64() && v.get_int64() >= 0))) {
    return json::serialize(v);
  }
  const uint64_t n =
      v.is_uint64() ? v.get_uint64() : static_cast<uint64_t>(v.get_int64());
  if (key == "size" || key.ends_with("Bytes")) return FormatBytes(n);
  if (key.ends_with("Ms")) return DurationText(n);
  if (key.ends_with("Seconds")) return DurationText(n * 1000);
  return std::to_string(n);
}

// Every field of `object` as a "name  value" line, nested objects with a prefix.
void AddFacts(TextTable& table, const json::object& object, const std::string& prefix) {
  for (const auto& field : object) {
    std::string name = prefix + Words(field.key());
    if (field.value().is_object()) {
      AddFacts(table, field.value().get_object(), name + ": ");
    } else {
      table.AddRow({name, FactText(field.key(), field.value())});
    }
  }
}

}  // namespace

int PrintFacts(const json::object& object, std::ostream& out) {
  TextTable table;
  AddFacts(table, object, "");
  table.Print(out);
  return kExitOk;
}

// A printer for answers that only need a sentence built from them.
Show Say(std::function<std::string(const json::object&)> sentence) {
  return [sentence = std::move(sentence)](const json::object& answer, std::ostream& out) {
    out << Printable(sentence(answer)) << '\n';
    return kExitOk;
  };
}

namespace {

void AddTrashRow(TextTable& table, const json::object& item) {
  std::string id = Text(item, "id");
  if (FieldOf(item, "parentId")) id += " (in " + Text(item, "parentId") + ")";
  uint64_t cascaded = Count(item, "cascaded");
  std::string flags;
  if (Flag(item, "hold")) flags += "hold ";
  if (Flag(item, "parentInTrash")) flags += "parent-in-trash ";
  if (Flag(item, "cleanupDeleteImages")) flags += "deletes-images ";
  if (!flags.empty()) flags.pop_back();
  table.AddRow({Text(item, "type"), id, Text(item, "name"),
                cascaded ? "+" + std::to_string(cascaded) : "",
                FormatBytes(Count(item, "size")), Text(item, "deletedByName"),
                ShortTime(Text(item, "deletedAt")),
                ShortTime(Text(item, "scheduledCleanupAt")), flags});
}

}  // namespace

void PrintTrashItems(const json::array& items, std::ostream& out) {
  TextTable table({"TYPE", "ID", "NAME", "WITH", "SIZE", "DELETED BY", "DELETED",
                   "PURGED AFTER", "NOTES"});
  for (const json::value& item : items) AddTrashRow(table, ObjectOf(item));
  table.Print(out);
}

int ShowWouldPurge(const json::object& answer, std::ostream& out) {
  const json::array& items = ListOf(answer, "wouldPurge");
  uint64_t bytes = 0;
  for (const json::value& v : items) bytes += Count(ObjectOf(v), "size");
  if (!items.empty()) PrintTrashItems(items, out);
  out << "Dry run: " << Plural(items.size(), "item", "items") << " ("
      << FormatBytes(bytes) << ") would be purged; nothing was changed.\n";
  return kExitOk;
}

}  // namespace trashctl
