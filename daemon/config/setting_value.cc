#include "config/setting_value.h"

#include <algorithm>
#include <map>

namespace trashd {

std::string Quote(std::string_view text) { return "\"" + std::string(text) + "\""; }

std::string Join(const std::vector<std::string>& items, const char* sep) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += sep;
    out += item;
  }
  return out;
}

std::string ListText(const std::vector<std::string>& items) {
  return "[" + Join(items) + "]";
}

Status SettingsFileRead::ErrorAt(const YAML::Mark& mark,
                                 const std::string& message) const {
  std::string where = file_;
  if (!mark.is_null()) where += ":" + std::to_string(mark.line + 1);
  return InvalidArgument(where + ": " + message);
}

SettingValue::SettingValue(SettingsFileRead& file, const YAML::Node& root)
    : SettingValue(file, "", "", root, root.Mark()) {}

std::string SettingValue::Describe(const YAML::Node& value) {
  if (value.IsSequence()) return "a list";
  if (value.IsMap()) return "a mapping";
  if (value.IsNull()) return "nothing";
  return Quote(value.Scalar());
}

std::string SettingValue::Child(std::string_view child) const {
  if (child.empty()) return key_;
  return key_.empty() ? std::string(child) : key_ + "." + std::string(child);
}

Status SettingValue::Error(const std::string& problem) const {
  return file_->ErrorAt(Where(), key_ + ": " + problem);
}

Status SettingValue::ChildError(std::string_view child,
                                const std::string& problem) const {
  const std::string key = Child(child);
  YAML::Mark where = Where();
  for (const auto& given : file_->given()) {
    if (given.key == key) where = given.where;
  }
  return file_->ErrorAt(where, key + ": " + problem);
}

bool SettingValue::Given(std::string_view child) const {
  const std::string key = Child(child);
  const auto& given = file_->given();
  return std::any_of(given.begin(), given.end(),
                     [&](const auto& g) { return g.key == key; });
}

std::vector<std::string> SettingValue::NamesGiven(std::string_view child) const {
  const std::string parent = Child(child);
  std::vector<std::string> names;
  for (const auto& given : file_->given()) {
    if (given.parent != parent) continue;
    names.push_back(parent.empty() ? given.key : given.key.substr(parent.size() + 1));
  }
  return names;
}

Result<std::string> SettingValue::Text(bool allow_empty) const {
  if (!node_.IsScalar()) return Error("expected text, got " + Describe(node_));
  if (node_.Scalar().empty() && !allow_empty) return Error("must not be empty");
  return node_.Scalar();
}

Result<int64_t> SettingValue::Integer(int64_t min, int64_t max,
                                      std::string_view unit) const {
  long long number = 0;
  if (!node_.IsScalar() || !YAML::convert<long long>::decode(node_, number)) {
    return Error(node_.IsScalar() ? Describe(node_) + " is not a whole number"
                                  : "expected a whole number, got " + Describe(node_));
  }
  if (number < min || number > max) {
    return Error(Describe(node_) + " is out of range (" + std::to_string(min) + " to " +
                 std::to_string(max) + std::string(unit) + ")");
  }
  return static_cast<int64_t>(number);
}

Result<size_t> SettingValue::Choice(const std::vector<std::string>& choices) const {
  TRASHD_ASSIGN_OR_RETURN(std::string text, Text());
  for (size_t i = 0; i < choices.size(); ++i) {
    if (choices[i] == text) return i;
  }
  return Error(Quote(text) + " is not one of " + Join(choices));
}

Result<std::vector<std::string>> SettingValue::TextList(const std::string& what,
                                                        bool null_is_empty) const {
  std::vector<std::string> out;
  if (node_.IsNull() && null_is_empty) return out;
  if (!node_.IsSequence()) {
    return Error("expected a list of " + what + ", got " + Describe(node_) +
                 (node_.IsNull() ? " (write [] for none)" : ""));
  }
  TRASHD_RETURN_IF_ERROR(ForEachItem(what, [&](const SettingValue& item) -> Status {
    if (!item.node().IsScalar() || item.node().Scalar().empty()) {
      return item.Error("expected " + what + ", got " +
                        (item.node().IsScalar() ? std::string("an empty text")
                                                : Describe(item.node())));
    }
    if (std::find(out.begin(), out.end(), item.node().Scalar()) != out.end()) {
      return item.Error(Quote(item.node().Scalar()) + " is listed twice");
    }
    out.push_back(item.node().Scalar());
    return Status::Ok();
  }));
  return out;
}

Status SettingValue::ForEachKey(
    const std::vector<std::string>* known,
    const std::function<Status(const SettingValue&)>& fn) const {
  if (node_.IsNull()) return Status::Ok();
  if (!node_.IsMap()) {
    return file_->ErrorAt(
        Where(), Named() + ": expected a mapping of keys, got " + Describe(node_));
  }
  std::map<std::string, int> seen;  // key -> line
  for (auto it = node_.begin(); it != node_.end(); ++it) {
    // yaml-cpp's iterator hands out its pair by value: copy the nodes (cheap
    // handles), since a reference would dangle after this statement.
    const YAML::Node key_node = it->first;
    const YAML::Node value_node = it->second;
    if (!key_node.IsScalar()) {
      return file_->ErrorAt(key_node.Mark(),
                            Named() + ": a key must be text, got " + Describe(key_node));
    }
    const std::string& name = key_node.Scalar();
    if (name.empty()) {  // no setting is named so, and "" would name the mapping itself
      return file_->ErrorAt(key_node.Mark(), Named() + ": a key must not be empty");
    }
    const std::string key = Child(name);
    if (known && std::find(known->begin(), known->end(), name) == known->end()) {
      return file_->ErrorAt(key_node.Mark(), "unknown key " + Quote(key) + " (" +
                                                 (key_.empty() ? std::string("known keys")
                                                               : key_ + " takes") +
                                                 ": " + Join(*known) + ")");
    }
    auto [first, inserted] = seen.emplace(name, key_node.Mark().line + 1);
    if (!inserted) {
      return file_->ErrorAt(key_node.Mark(), "duplicate key " + Quote(key) +
                                                 " (first given on line " +
                                                 std::to_string(first->second) + ")");
    }
    SettingValue value(*file_, key, name, value_node, key_node.Mark());
    file_->Record({key_, key, value.Where()});
    TRASHD_RETURN_IF_ERROR(fn(value));
  }
  return Status::Ok();
}

Status SettingValue::ForEachItem(
    const std::string& what, const std::function<Status(const SettingValue&)>& fn) const {
  if (node_.IsNull()) return Status::Ok();
  if (!node_.IsSequence()) {
    return Error("expected a list of " + what + ", got " + Describe(node_));
  }
  for (size_t i = 0; i < node_.size(); ++i) {
    const YAML::Node item = node_[i];
    // An empty item has no line of its own: it is reported at the list's key.
    const YAML::Mark mark = item.IsNull() ? key_mark_ : item.Mark();
    const std::string index = "[" + std::to_string(i) + "]";
    TRASHD_RETURN_IF_ERROR(
        fn(SettingValue(*file_, key_ + index, name_ + index, item, mark)));
  }
  return Status::Ok();
}

}  // namespace trashd
