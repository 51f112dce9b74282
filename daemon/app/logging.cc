#include "app/logging.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <boost/json.hpp>
#include <memory>
#include <mutex>
#include <string>

namespace trashd {
namespace {

namespace json = boost::json;

// `%*` in a pattern: the message as a JSON string, quotes included.
class JsonMessageFlag : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    std::string text = json::serialize(
        json::string(std::string_view(msg.payload.data(), msg.payload.size())));
    dest.append(text.data(), text.data() + text.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<JsonMessageFlag>();
  }
};

spdlog::level::level_enum SpdLevel(LogSection::Level level) {
  switch (level) {
    case LogSection::Level::kTrace:
      return spdlog::level::trace;
    case LogSection::Level::kDebug:
      return spdlog::level::debug;
    case LogSection::Level::kInfo:
      return spdlog::level::info;
    case LogSection::Level::kWarn:
      return spdlog::level::warn;
    case LogSection::Level::kError:
      return spdlog::level::err;
  }
  return spdlog::level::info;
}

}  // namespace

void ConfigureLogging(const LogSection& log) {
  static std::once_flag once;
  std::call_once(once, [] {
    auto logger = std::make_shared<spdlog::logger>(
        "trashd", std::make_shared<spdlog::sinks::stderr_sink_mt>());
    spdlog::set_default_logger(logger);
    spdlog::flush_on(spdlog::level::trace);  // stderr is the journal: never hold lines
  });
  auto formatter =
      std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
  if (log.format == LogSection::Format::kJson) {
    formatter->add_flag<JsonMessageFlag>('*').set_pattern(
        R"({"time":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l","msg":%*})");
  } else {
    formatter->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l %v");
  }
  spdlog::set_formatter(std::move(formatter));
  spdlog::set_level(SpdLevel(log.level));
}

std::function<void(LogLevel, std::string_view)> EngineLog() {
  return [](LogLevel level, std::string_view line) {
    switch (level) {
      case LogLevel::kDebug:
        spdlog::debug("{}", line);
        break;
      case LogLevel::kInfo:
        spdlog::info("{}", line);
        break;
      case LogLevel::kWarn:
        spdlog::warn("{}", line);
        break;
      case LogLevel::kError:
        spdlog::error("{}", line);
        break;
    }
  };
}

}  // namespace trashd
