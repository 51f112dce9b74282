// LoadSettings: the file to YAML, then the YAML walked with the setting tables.
#include <yaml-cpp/eventhandler.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <vector>

#include "config/setting_table.h"
#include "config/setting_value.h"
#include "config/settings.h"

namespace trashd {

template <typename Owner>
Status ReadSection(const SettingValue& value, std::string_view section,
                   const SettingTable<Owner>& table, Owner& owner) {
  const std::vector<std::string> known = table.NamesUnder(section);
  TRASHD_RETURN_IF_ERROR(value.ForEachKey(&known, [&](const SettingValue& child) {
    const std::string key =
        section.empty() ? child.name() : std::string(section) + "." + child.name();
    if (const SettingDescription<Owner>* setting = table.Find(key)) {
      return setting->read(child, owner);
    }
    return ReadSection(child, key, table, owner);  // a section: sweep, limits, ...
  }));
  for (const SectionCheck<Owner>& check : table.checks) {
    if (check.section == section) TRASHD_RETURN_IF_ERROR(check.check(value, owner));
  }
  return Status::Ok();
}

template Status ReadSection(const SettingValue&, std::string_view,
                            const SettingTable<Settings>&, Settings&);
template Status ReadSection(const SettingValue&, std::string_view,
                            const SettingTable<Webhook>&, Webhook&);

namespace {

Result<std::string> ReadFile(const std::string& path) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (status.type() == std::filesystem::file_type::not_found) {
    return NotFound(path + ": no such settings file");
  }
  if (status.type() == std::filesystem::file_type::directory) {
    return InvalidArgument(path + ": is a directory, not a settings file");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return InvalidArgument(path + ": cannot read: " + std::strerror(errno));
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return InvalidArgument(path + ": cannot read: " + std::strerror(errno));
  return text.str();
}

// Records where each document starts; ignores the rest.
class DocumentStarts final : public YAML::EventHandler {
 public:
  std::vector<YAML::Mark> marks;
  void OnDocumentStart(const YAML::Mark& mark) override { marks.push_back(mark); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

// Where yaml-cpp (0.7, Debian bookworm's) would read forever: it never gets past a ','
// that starts a document, answering one more empty document there at each step, so
// YAML::LoadAll never returns and its memory grows without bound (found by
// tests/fuzz/settings_fuzz.cc). The place where a document starts twice, if any.
std::optional<YAML::Mark> EndlessDocumentAt(const std::string& text) {
  std::istringstream in(text);
  DocumentStarts starts;
  try {
    YAML::Parser parser(in);
    while (parser.HandleNextDocument(starts)) {
      const std::vector<YAML::Mark>& m = starts.marks;
      if (m.size() >= 2 && m[m.size() - 1].pos == m[m.size() - 2].pos) return m.back();
    }
  } catch (const YAML::Exception&) {  // YAML::LoadAll says what is wrong
  }
  return std::nullopt;
}

}  // namespace

Result<Settings> LoadSettings(const std::string& path, const Settings& defaults) {
  TRASHD_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  if (std::optional<YAML::Mark> at = EndlessDocumentAt(text)) {
    return InvalidArgument(path + ":" + std::to_string(at->line + 1) +
                           ": not valid YAML: a document cannot start with ','");
  }
  std::vector<YAML::Node> documents;
  try {
    documents = YAML::LoadAll(text);
  } catch (const YAML::Exception& e) {
    std::string where = path;
    if (!e.mark.is_null()) where += ":" + std::to_string(e.mark.line + 1);
    return InvalidArgument(where + ": not valid YAML: " + e.msg);
  }
  if (documents.size() > 1) {
    return InvalidArgument(path + ":" + std::to_string(documents[1].Mark().line + 1) +
                           ": a settings file holds one YAML document, not " +
                           std::to_string(documents.size()));
  }
  try {
    SettingsFileRead file(path);
    Settings settings = defaults;
    TRASHD_RETURN_IF_ERROR(ReadSection(
        SettingValue(file, documents.empty() ? YAML::Node() : documents.front()), "",
        SettingsTable(), settings));
    return settings;
  } catch (const YAML::Exception& e) {
    // The reader only asks nodes about themselves; this is a yaml-cpp surprise.
    return InvalidArgument(path + ": cannot read settings: " + e.what());
  }
}

}  // namespace trashd
