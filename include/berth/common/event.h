// What watch mode (and `up`) tells its reader (docs/watch-events.md): one line per
// event on stderr, text for people or JSON lines for log pipelines. The field names are
// a stable interface, documented in docs/watch-events.md.
#pragma once

#include <chrono>
#include <cstdio>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace berth {

enum class EventType {
  kDeployed,             // a replica runs (newly deployed or adopted)
  kHealthy,              // a replica passed its health check (first time, or again)
  kFailure,              // a replica failed; reason = failure class
  kTerminated,           // a failed replica's instance is confirmed gone
  kAttempt,              // one offer tried while (re)deploying a replica
  kRedeployed,           // a failed replica runs again, on a new instance
  kProviderUnavailable,  // a provider's API stopped answering; polling backs off
  kProviderAvailable,    // it answers again
  kGivingUp,             // a replica exhausted restart.max_restarts within restart.window
  kStopped,              // watch ended; detail says whether the deployment still runs
  // What `up` and `watch` tell the reader besides: with -o json every line
  // on their stderr is one of these events, so a log pipeline reads it all.
  kProgress,  // a deploy phase (only on a terminal or with -v)
  kNote,      // something worth knowing that is not a problem
  kWarning,   // a problem that did not stop the command
  kError,     // the command failed; reason = what failed, detail = message and hint
  kTrace,     // -vv: one HTTP request, credentials redacted
};

std::string to_string(EventType type);  // "deployed", "provider-unavailable", ...

struct Event {
  std::chrono::system_clock::time_point time;
  EventType type = EventType::kStopped;
  std::optional<int> replica;  // absent for provider and whole-deployment events
  std::string provider;
  std::string instance_id;
  std::string reason;  // machine-readable: failure class, attempt result, error kind
  std::string detail;  // for people; may hold several lines (container logs)
};

/// "2026-11-30T01:23:45.123Z": RFC 3339, UTC, milliseconds.
std::string format_rfc3339(std::chrono::system_clock::time_point t);

/// {"time", "event", "replica", "provider", "instance_id", "reason", "detail"};
/// absent values are null, never missing keys.
nlohmann::json to_json(const Event& event);

/// One line without a trailing newline:
/// "TIME EVENT replica=N provider=P instance=ID reason=R: detail". Control
/// characters from remote output (container logs) are neutralized and
/// newlines become " | ", so one event is always one line.
std::string format_event_line(const Event& event);

using EventSink = std::function<void(const Event&)>;

/// Writes every event as one line to `stream`, flushed at once so a pipe
/// reader sees it immediately; JSON lines when `json`.
EventSink stream_event_sink(std::FILE* stream, bool json);

}  // namespace berth
