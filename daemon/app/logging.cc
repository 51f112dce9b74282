#include "app/logging.h"

#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <mutex>
#include <string>

namespace trashd {
namespace {

namespace json = boost::json;
using Level = LogSection::Level;

spdlog::level::level_enum SpdLevel(Level level) {
  switch (level) {
    case Level::kTrace:
      return spdlog::level::trace;
    case Level::kDebug:
      return spdlog::level::debug;
    case Level::kInfo:
      return spdlog::level::info;
    case Level::kWarn:
      return spdlog::level::warn;
    case Level::kError:
      return spdlog::level::err;
  }
  return spdlog::level::info;
}

Level LevelOf(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace:
      return Level::kTrace;
    case spdlog::level::debug:
      return Level::kDebug;
    case spdlog::level::info:
      return Level::kInfo;
    case spdlog::level::warn:
      return Level::kWarn;
    default:
      return Level::kError;
  }
}

// syslog(3) priorities, as the journal and `journalctl -p` know them.
int Priority(Level level) {
  switch (level) {
    case Level::kTrace:
    case Level::kDebug:
      return 7;
    case Level::kInfo:
      return 6;
    case Level::kWarn:
      return 4;
    case Level::kError:
      return 3;
  }
  return 6;
}

// Whether systemd connected stderr to the journal: JOURNAL_STREAM is "<dev>:<inode>"
// of that stream (systemd.exec(5)); a child that inherited the variable but not the
// stream must not write to the journal.
bool StderrIsTheJournal() {
  const char* stream = std::getenv("JOURNAL_STREAM");
  if (!stream) return false;
  unsigned long long dev = 0, ino = 0;
  if (std::sscanf(stream, "%llu:%llu", &dev, &ino) != 2) return false;
  struct stat st {};
  if (fstat(STDERR_FILENO, &st) != 0) return false;
  return static_cast<unsigned long long>(st.st_dev) == dev &&
         static_cast<unsigned long long>(st.st_ino) == ino;
}

// Where journald receives native entries (sd_journal_sendv sends there).
constexpr char kJournalSocket[] = "/run/systemd/journal/socket";

std::string Timestamp(std::chrono::system_clock::time_point when) {
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(when.time_since_epoch())
          .count();
  const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char text[80];
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                tm.tm_sec, static_cast<int>(ms % 1000));
  return text;
}

// A text field's value as written: bare when it is one plain word, else quoted.
std::string TextValue(const LogField& field) {
  const bool plain =
      field.number || field.value.find_first_of(" \"=\\\t\r\n") == std::string::npos;
  return plain ? field.value : json::serialize(json::string(field.value));
}

std::string JournalName(const std::string& name) {
  std::string upper = name;
  for (char& c : upper)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return upper;
}

// Where every line goes, formatted as the settings say.
class LogWriter {
 public:
  void Configure(LogSection::Format format) {
    std::lock_guard<std::mutex> lock(mu_);
    format_ = format;
  }

  void Write(Level level, std::chrono::system_clock::time_point when,
             std::string_view message, const LogFields& fields) {
    if (native_ && SendToJournal(level, message, fields)) return;
    std::string line;
    if (journal_) {  // stderr is the journal's stream, which reads the `<N>` prefix
      line =
          "<" + std::to_string(Priority(level)) + ">" + TextLine(level, message, fields);
    } else {
      std::lock_guard<std::mutex> lock(mu_);
      line = format_ == LogSection::Format::kJson
                 ? JsonLine(level, when, message, fields)
                 : Timestamp(when) + " " + TextLine(level, message, fields);
    }
    line += '\n';
    std::lock_guard<std::mutex> lock(write_mu_);
    std::fwrite(line.data(), 1, line.size(), stderr);
    std::fflush(stderr);
  }

 private:
  static std::string TextLine(Level level, std::string_view message,
                              const LogFields& fields) {
    std::string line = LogLevelName(level);
    line += ' ';
    line += message;
    for (const LogField& field : fields) {
      if (field.value.empty()) continue;
      line += ' ' + field.name + '=' + TextValue(field);
    }
    return line;
  }

  static std::string JsonLine(Level level, std::chrono::system_clock::time_point when,
                              std::string_view message, const LogFields& fields) {
    json::object line{
        {"time", Timestamp(when)}, {"level", LogLevelName(level)}, {"msg", message}};
    for (const LogField& field : fields) {
      if (field.value.empty()) continue;
      if (field.number) {
        line[field.name] = std::stoll(field.value);
      } else {
        line[field.name] = field.value;
      }
    }
    return json::serialize(line);
  }

  static bool SendToJournal(Level level, std::string_view message,
                            const LogFields& fields) {
    std::vector<std::string> items{
        "MESSAGE=" + std::string(message), "PRIORITY=" + std::to_string(Priority(level)),
        "SYSLOG_IDENTIFIER=trashd", std::string("TRASHD_LEVEL=") + LogLevelName(level)};
    for (const LogField& field : fields) {
      if (!field.value.empty())
        items.push_back(JournalName(field.name) + "=" + field.value);
    }
    std::vector<iovec> iov;
    for (std::string& item : items) iov.push_back({item.data(), item.size()});
    return sd_journal_sendv(iov.data(), static_cast<int>(iov.size())) >= 0;
  }

  const bool journal_ = StderrIsTheJournal();
  // sd_journal_sendv drops a line silently when there is no journal socket.
  const bool native_ = journal_ && access(kJournalSocket, W_OK) == 0;
  std::mutex mu_;  // guards format_
  LogSection::Format format_ = LogSection::Format::kText;
  std::mutex write_mu_;  // one line at a time on stderr
};

LogWriter& Writer() {
  static LogWriter writer;
  return writer;
}

// spdlog's lines, through the same writer.
class WriterSink final : public spdlog::sinks::base_sink<spdlog::details::null_mutex> {
 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    Writer().Write(LevelOf(msg.level), msg.time,
                   std::string_view(msg.payload.data(), msg.payload.size()), {});
  }
  void flush_() override {}
};

}  // namespace

LogField::LogField(std::string name, std::string text)
    : name(std::move(name)), value(std::move(text)) {}

LogField::LogField(std::string name, int64_t number)
    : name(std::move(name)), value(std::to_string(number)), number(true) {}

void ConfigureLogging(const LogSection& log) {
  static std::once_flag once;
  std::call_once(once, [] {
    spdlog::set_default_logger(
        std::make_shared<spdlog::logger>("trashd", std::make_shared<WriterSink>()));
  });
  Writer().Configure(log.format);
  spdlog::set_level(SpdLevel(log.level));
}

bool LogEnabled(Level level) {
  return spdlog::default_logger_raw()->should_log(SpdLevel(level));
}

void LogLine(Level level, std::string_view message, const LogFields& fields) {
  if (!LogEnabled(level)) return;
  Writer().Write(level, std::chrono::system_clock::now(), message, fields);
}

std::function<void(LogLevel, std::string_view)> EngineLog() {
  return [](LogLevel level, std::string_view line) {
    switch (level) {
      case LogLevel::kDebug:
        return LogLine(Level::kDebug, line, {});
      case LogLevel::kInfo:
        return LogLine(Level::kInfo, line, {});
      case LogLevel::kWarn:
        return LogLine(Level::kWarn, line, {});
      case LogLevel::kError:
        return LogLine(Level::kError, line, {});
    }
  };
}

}  // namespace trashd
