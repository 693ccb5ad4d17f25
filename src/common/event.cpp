#include "berth/common/event.h"

#include <fmt/format.h>

#include <ctime>

#include "berth/common/output.h"
#include "berth/common/redact.h"

namespace berth {

std::string to_string(EventType type) {
  switch (type) {
    case EventType::kDeployed:
      return "deployed";
    case EventType::kHealthy:
      return "healthy";
    case EventType::kFailure:
      return "failure";
    case EventType::kTerminated:
      return "terminated";
    case EventType::kAttempt:
      return "attempt";
    case EventType::kRedeployed:
      return "redeployed";
    case EventType::kProviderUnavailable:
      return "provider-unavailable";
    case EventType::kProviderAvailable:
      return "provider-available";
    case EventType::kGivingUp:
      return "giving-up";
    case EventType::kStopped:
      return "stopped";
    case EventType::kProgress:
      return "progress";
    case EventType::kNote:
      return "note";
    case EventType::kWarning:
      return "warning";
    case EventType::kError:
      return "error";
    case EventType::kTrace:
      return "trace";
  }
  return "unknown";
}

std::string format_rfc3339(std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  auto ms = duration_cast<milliseconds>(t.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  long frac = static_cast<long>(ms % 1000);
  if (frac < 0) {  // before 1970: keep the fraction positive
    frac += 1000;
    secs -= 1;
  }
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
}

nlohmann::json to_json(const Event& event) {
  auto text_or_null = [](const std::string& s) {
    return s.empty() ? nlohmann::json(nullptr) : nlohmann::json(s);
  };
  nlohmann::json j = nlohmann::json::object();
  j["time"] = format_rfc3339(event.time);
  j["event"] = to_string(event.type);
  j["replica"] = event.replica ? nlohmann::json(*event.replica) : nlohmann::json(nullptr);
  j["provider"] = text_or_null(event.provider);
  j["instance_id"] = text_or_null(event.instance_id);
  j["reason"] = text_or_null(event.reason);
  j["detail"] = text_or_null(event.detail);
  return j;
}

namespace {

// Container logs and provider messages are remote, untrusted text: an escape
// sequence in them must not drive the reader's terminal (terminal_text shows
// it escaped), and a newline must not split one event into two lines for a
// line-based consumer.
std::string one_line(const std::string& text) {
  std::string out;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t nl = text.find('\n', start);
    std::size_t end = nl == std::string::npos ? text.size() : nl;
    std::size_t content_end = end > start && text[end - 1] == '\r' ? end - 1 : end;  // CRLF
    std::string line = text.substr(start, content_end - start);
    for (auto& c : line)
      if (c == '\t') c = ' ';
    if (start > 0) out += " | ";
    out += terminal_text(line, /*multi_line=*/false);
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  return out;
}

}  // namespace

std::string format_event_line(const Event& event) {
  std::string line = format_rfc3339(event.time) + " " + to_string(event.type);
  if (event.replica) line += fmt::format(" replica={}", *event.replica);
  if (!event.provider.empty()) line += " provider=" + one_line(event.provider);
  if (!event.instance_id.empty()) line += " instance=" + one_line(event.instance_id);
  if (!event.reason.empty()) line += " reason=" + one_line(event.reason);
  if (!event.detail.empty()) line += ": " + one_line(event.detail);
  return line;
}

EventSink stream_event_sink(std::FILE* stream, bool json) {
  return [stream, json](const Event& original) {
    // What people read is redacted like every message (output.h).
    Event event = original;
    const auto secrets = output_secrets();
    event.detail = redact_values(event.detail, secrets);
    event.reason = redact_values(event.reason, secrets);
    std::string line =
        json ? to_json(event).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
             : format_event_line(event);
    line += '\n';
    std::fwrite(line.data(), 1, line.size(), stream);
    std::fflush(stream);
  };
}

}  // namespace berth
