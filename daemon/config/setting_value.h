// SettingValue: one value of the settings file being read, with its dotted key and
// where it was written, and the checks every setting's reader shares (text, whole
// numbers, choices, lists, mappings). Every refusal names the file, the line (1-based)
// and the key: `trashd.yaml:12: sweep.time: "25:00" is not a time of day`.
//
// Internal to daemon/config: the only header that includes yaml-cpp. A SettingValue
// refers to the SettingsFileRead it came from, which must outlive it; one reading of
// one file happens on one thread.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "trashd/status.h"

namespace trashd {

// The file being read: its name, for messages, and every key it gave so far, so a
// check that spans keys (webhooks[0].url is required) can ask what was given where.
class SettingsFileRead {
 public:
  explicit SettingsFileRead(std::string file) : file_(std::move(file)) {}

  const std::string& file() const { return file_; }
  // "file:line: message"; the line is left out when yaml-cpp gives none.
  Status ErrorAt(const YAML::Mark& mark, const std::string& message) const;

  struct KeyGiven {
    std::string parent;  // dotted key of the mapping it is in: "plugins.settings"
    std::string key;     // its own dotted key: "plugins.settings.model"
    YAML::Mark where;    // its value's line (a block value's: its key's)
  };
  void Record(KeyGiven given) { given_.push_back(std::move(given)); }
  const std::vector<KeyGiven>& given() const { return given_; }

 private:
  std::string file_;
  std::vector<KeyGiven> given_;  // in file order
};

class SettingValue {
 public:
  // The whole document (an empty file is an empty mapping).
  SettingValue(SettingsFileRead& file, const YAML::Node& root);

  const std::string& key() const { return key_; }    // "sweep.time"; "" for the file
  const std::string& name() const { return name_; }  // "time"
  const YAML::Node& node() const { return node_; }

  // "file:line: key: problem", at the value (a scalar) or its key (anything else).
  Status Error(const std::string& problem) const;
  // The same for a key below this mapping (`child` dotted: "settings.model"), at
  // where it was given, or at this mapping when it was not.
  Status ChildError(std::string_view child, const std::string& problem) const;
  // Whether the file gave `child` (a key of this mapping).
  bool Given(std::string_view child) const;
  // The keys the file gave in the mapping at `child` ("" for this one), in file order.
  std::vector<std::string> NamesGiven(std::string_view child) const;

  // A scalar, as written. Empty text is refused unless `allow_empty`.
  Result<std::string> Text(bool allow_empty = false) const;
  // A whole number in [min, max]; `unit` follows the range in a refusal (" days").
  Result<int64_t> Integer(int64_t min, int64_t max, std::string_view unit) const;
  // One of `choices`, as its index.
  Result<size_t> Choice(const std::vector<std::string>& choices) const;
  // A list of distinct, non-empty texts (`what`: "plugin names"). An empty value is
  // refused unless `null_is_empty`.
  Result<std::vector<std::string>> TextList(const std::string& what,
                                            bool null_is_empty) const;

  // Calls `fn` for each key of this mapping, refusing a key given twice and, when
  // `known` is given, a key not in it. A missing (null) section has no keys.
  Status ForEachKey(const std::vector<std::string>* known,
                    const std::function<Status(const SettingValue&)>& fn) const;
  // Calls `fn` for each item of this list ("webhooks[0]"); `what` names what the list
  // holds in a refusal ("webhooks"). A missing (null) list has no items.
  Status ForEachItem(const std::string& what,
                     const std::function<Status(const SettingValue&)>& fn) const;

  // How a refusal names a value: "a list", "a mapping", "nothing" or the quoted text.
  static std::string Describe(const YAML::Node& value);

 private:
  SettingValue(SettingsFileRead& file, std::string key, std::string name, YAML::Node node,
               YAML::Mark key_mark)
      : file_(&file),
        key_(std::move(key)),
        name_(std::move(name)),
        node_(std::move(node)),
        key_mark_(key_mark) {}

  YAML::Mark Where() const { return node_.IsScalar() ? node_.Mark() : key_mark_; }
  std::string Named() const { return key_.empty() ? "the file" : key_; }
  std::string Child(std::string_view child) const;

  SettingsFileRead* file_;
  std::string key_;
  std::string name_;
  YAML::Node node_;
  YAML::Mark key_mark_;  // the key's line; for the file or a list item, its own
};

// "[a, b]": how lists appear in the reload log and --check-config.
std::string ListText(const std::vector<std::string>& items);
std::string Quote(std::string_view text);
std::string Join(const std::vector<std::string>& items, const char* sep = ", ");

}  // namespace trashd
