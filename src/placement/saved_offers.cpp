#include "berth/placement/saved_offers.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <thread>
#include <type_traits>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <nlohmann/json.hpp>

#include "berth/input/json_scan.h"
#include "berth/input/user_file.h"
#include "input/source_text.h"

namespace berth {

namespace {

const FileKind& offers_file() {
  static const FileKind kind{"offers file", "offers file", kMaxOffersFileBytes, false, "",
                             "save offers with: berth offers TEMPLATE -o json > FILE", "JSON"};
  return kind;
}

const char* kHint = "save offers with: berth offers TEMPLATE -o json > FILE";

// (line0, byte column0) of a byte offset.
std::pair<int, int> position(const std::string& text, std::size_t offset) {
  offset = std::min(offset, text.size());
  int line = 0;
  std::size_t start = 0;
  for (std::size_t i = 0; i < offset; ++i)
    if (text[i] == '\n') ++line, start = i + 1;
  return {line, static_cast<int>(offset - start)};
}

// Where each element of the top-level "offers" array starts: nlohmann keeps
// no positions, so the text is walked again (only when an offer is bad).
std::vector<std::size_t> offer_offsets(const std::string& text) {
  std::vector<std::size_t> out;
  json_scan::Scanner s(text);
  if (!s.consume('{') || s.peek() == '}') return out;
  do {
    std::string key;
    if (!s.string(&key) || !s.consume(':')) return out;
    if (key != "offers") {
      if (!s.skip_value()) return out;
      continue;
    }
    if (!s.consume('[') || s.peek() == ']') return out;
    do {
      s.peek();
      out.push_back(s.offset(text.data()));
      if (!s.skip_value()) return out;
    } while (s.more(']'));
    return out;
  } while (s.more('}'));
  return out;
}

std::string string_member(const nlohmann::json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

// The reader before the streaming one, kept for what it words best: every
// problem of a file up to kFullReaderBytes, at its position, as it always
// was. A file the streaming reader takes never comes here.
static Expected<SavedOffers, Diagnostics> parse_full(const std::string& text,
                                                     const std::string& name,
                                                     const ScreenWith* with) {
  SourceText source(name, text);
  DiagnosticSink sink(source);
  auto fail = [&](std::size_t offset, std::string message) {
    auto [line, column] = position(text, offset);
    sink.error(line, column, std::move(message), kHint);
    return unexpected(sink.take());
  };
  if (!check_text_encoding(source, sink, offers_file())) return unexpected(sink.take());
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    // "[json.exception.parse_error.101] parse error at line 1, column 5: syntax error ..."
    std::string what = e.what();
    if (auto colon = what.find(": "); colon != std::string::npos) what = what.substr(colon + 2);
    return fail(e.byte > 0 ? e.byte - 1 : 0, "not JSON: " + what);
  } catch (const nlohmann::json::out_of_range& e) {
    // "[json.exception.out_of_range.406] number overflow parsing '1e999'":
    // a number past a double, named at its text (the first such).
    std::string what = e.what();
    if (auto close = what.find("] "); close != std::string::npos) what = what.substr(close + 2);
    std::size_t at = std::string::npos;
    const auto open = what.find('\''), close = what.rfind('\'');
    if (open != std::string::npos && close > open)
      at = text.find(what.substr(open + 1, close - open - 1));
    if (at == std::string::npos) at = std::min(text.size(), text.find_first_not_of(" \t\r\n"));
    return fail(at, "not JSON: " + what);
  }
  const std::size_t start = std::min(text.size(), text.find_first_not_of(" \t\r\n"));
  if (!doc.is_object() || !doc.contains("offers") || !doc["offers"].is_array())
    return fail(start, "expected an object with an \"offers\" array");
  SavedOffers saved;
  const auto& list = doc["offers"];
  auto& offers = saved.runs.emplace_back();
  std::vector<std::size_t> offsets;
  for (std::size_t i = 0; i < list.size(); ++i) {
    auto offer = offer_from_json(list[i]);
    if (!offer) {
      if (offsets.empty()) offsets = offer_offsets(text);
      auto [line, column] = position(text, i < offsets.size() ? offsets[i] : start);
      sink.error(line, column, "offers[" + std::to_string(i) + "]: " + offer.error(), kHint);
      continue;
    }
    offers.push_back(std::move(*offer));
  }
  if (!sink.empty()) return unexpected(sink.take());
  if (auto it = doc.find("errors"); it != doc.end() && it->is_array())
    for (const auto& e : *it)
      if (e.is_object() && !string_member(e, "provider").empty())
        saved.errors.push_back(
            {string_member(e, "provider"), string_member(e, "kind"), string_member(e, "message")});
  if (with) {
    saved.screen.emplace(with->workload, with->options);
    for (const auto& o : offers) saved.screen->take(o);
  }
  return saved;
}

namespace {

// Files up to this size that the streaming reader does not take are read
// again by parse_full, which words every problem as it always has; larger
// ones are worded from the streaming reader's own position and message.
constexpr std::size_t kFullReaderBytes = 32u << 20;

// Pages of a mapped listing already read are given back while reading goes
// on, so a million offers never hold the whole file in memory as well.
constexpr std::size_t kReleaseStep = 16u << 20;

bool all_ascii_without_nul(const unsigned char* p, std::size_t n) {
  std::size_t i = 0;
#if defined(__SSE2__)
  const __m128i zero = _mm_setzero_si128();
  for (; i + 16 <= n; i += 16) {
    const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
    // A high bit set, or a zero byte.
    if (_mm_movemask_epi8(x) | _mm_movemask_epi8(_mm_cmpeq_epi8(x, zero))) return false;
  }
#endif
  for (; i + 8 <= n; i += 8) {
    std::uint64_t w;
    std::memcpy(&w, p + i, 8);
    // A high bit set, or a zero byte (the classic has-zero-byte test).
    if ((w & 0x8080808080808080ull) ||
        ((w - 0x0101010101010101ull) & ~w & 0x8080808080808080ull))
      return false;
  }
  for (; i < n; ++i)
    if (p[i] == 0 || p[i] >= 0x80) return false;
  return true;
}

// Where [p, p+n) stops being UTF-8 without NUL bytes (n when it does not),
// by the rule check_text_encoding applies (src/input/source_text.cpp): no overlong
// forms, surrogates or code points past U+10FFFF.
std::size_t invalid_text_at(const unsigned char* p, std::size_t n) {
  std::size_t i = 0;
  while (i < n) {
    // Long ASCII runs first, eight bytes at a time.
    std::size_t run = std::min<std::size_t>(n - i, 4096);
    if (all_ascii_without_nul(p + i, run)) {
      i += run;
      continue;
    }
    const std::size_t stop = i + run;
    while (i < stop) {
      const unsigned char c = p[i];
      if (c == 0) return i;
      if (c < 0x80) {
        ++i;
        continue;
      }
      std::size_t len;
      unsigned cp;
      if (c >= 0xC2 && c <= 0xDF) {
        len = 2, cp = c & 0x1Fu;
      } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3, cp = c & 0x0Fu;
      } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4, cp = c & 0x07u;
      } else {
        return i;
      }
      if (i + len > n) return i;
      for (std::size_t k = 1; k < len; ++k) {
        if ((p[i + k] & 0xC0) != 0x80) return i;
        cp = (cp << 6) | (p[i + k] & 0x3Fu);
      }
      if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF))) return i;
      if (cp >= 0xD800 && cp <= 0xDFFF) return i;
      i += len;
    }
  }
  return n;
}

// Where a streaming read stopped: `offer` is the index of the offer it was
// in (its start at `offset`), or -1 outside any offer (then `offset` is the
// problem's own position).
struct StreamError {
  std::size_t offset = 0;
  long long offer = -1;
  std::string message;
};

// `k` is the literal: a comparison of a known length, which the compiler
// does inline (keys are compared some 25 times per offer).
template <std::size_t N>
inline bool is(std::string_view k, const char (&lit)[N]) {
  return k.size() == N - 1 && std::memcmp(k.data(), lit, N - 1) == 0;
}

// The offer keys berth reads; anything else is checked JSON and skipped.
// kUnread: a key the shortcut of known_offer_key() did not take.
enum OfferKey : unsigned {
  kProvider, kId, kRegion, kLocation, kArch, kGpu, kVcpus, kMemory, kDisk, kPrice, kSpot,
  kAvailable, kStock, kCuda, kReliability, kInetDown, kLaunchData, kCannot, kSettable, kOther,
  kUnread
};

OfferKey offer_key(std::string_view k) {
  switch (k.size()) {
    case 2: return is(k, "id") ? kId : kOther;
    case 3: return is(k, "gpu") ? kGpu : kOther;
    case 4: return is(k, "arch") ? kArch : is(k, "cuda") ? kCuda : is(k, "spot") ? kSpot : kOther;
    case 5: return is(k, "vcpus") ? kVcpus : is(k, "stock") ? kStock : kOther;
    case 6: return is(k, "region") ? kRegion : is(k, "cannot") ? kCannot : kOther;
    case 7: return is(k, "disk_gb") ? kDisk : kOther;
    case 8:
      return is(k, "provider") ? kProvider : is(k, "location") ? kLocation : is(k, "settable") ? kSettable
                                                                                      : kOther;
    case 9: return is(k, "memory_gb") ? kMemory : is(k, "available") ? kAvailable : kOther;
    case 11:
      return is(k, "reliability") ? kReliability : is(k, "launch_data") ? kLaunchData : kOther;
    case 14:
      return is(k, "price_per_hour") ? kPrice : is(k, "inet_down_mbps") ? kInetDown : kOther;
    default: return kOther;
  }
}

// Reads the listing as `berth offers -o json` writes it, with the scanner
// the live adapters use (include/berth/input/json_scan.h), straight into
// offers: no document of the whole file. It takes only what offer_from_json
// takes with the same meaning (src/provider/offer.cpp); anything it does not take
// plainly (a duplicate key, a count written 2.0, a wrong type) stops it, and
// the caller lets parse_full decide, so both readers agree on every file.
// A listing's offers array at least this large is read in parts of some
// kPartBytes each (at most kMaxParts of them) on up to kMaxReaders threads
// (ListingReader::read_offers).
constexpr std::size_t kPartsFromBytes = 16u << 20;
constexpr std::size_t kPartBytes = 2u << 20;
constexpr std::size_t kMaxParts = 64;
constexpr unsigned kMaxReaders = 8;
// Offers in a run (ListingReader::new_run).
constexpr std::size_t kRunOffers = 8192;

class ListingReader {
 public:
  ListingReader(std::string_view text, bool release, const ScreenWith* with)
      : text_(text), s_(text), release_(release), with_(with) {}
  /// A reader of the offers array's elements from `from` on, the start of
  /// one of them (read_part).
  ListingReader(std::string_view text, bool release, const ScreenWith* with, std::size_t from)
      : text_(text),
        s_(text.substr(from)),
        release_(release),
        with_(with),
        checked_(from),
        released_(page_floor(from)) {}

  // The listing into `out`; false, with error(), for anything it does not
  // take plainly. A listing it takes is UTF-8 without NUL bytes throughout
  // (strings are checked as they are read, and nothing else may be outside
  // ASCII), so the text is checked as such only when reading stops: the
  // first bad byte of what had been mapped by then (check_text) is the
  // error, as when that was checked ahead of the reader.
  bool read(SavedOffers& out) {
    if (read_listing(out)) {
      out.screen = std::move(screen_);
      return true;
    }
    find_bad_text();
    return false;
  }

  const StreamError& error() const { return error_; }

 private:
  bool read_listing(SavedOffers& out) {
    if (!s_.consume('{')) return outside();
    bool saw_offers = false, saw_errors = false;
    if (s_.peek() != '}') {
      do {
        std::string_view key;
        if (!s_.string_view(&key, &scratch_) || !s_.consume(':')) return outside();
        if (is(key, "offers")) {
          if (saw_offers) return outside_at("\"offers\" twice");
          saw_offers = true;
          if (s_.peek() != '[') return outside_at("expected an object with an \"offers\" array");
          if (!read_offers(out.runs)) return false;
        } else if (is(key, "errors")) {
          if (saw_errors) return outside_at("\"errors\" twice");
          saw_errors = true;
          if (!read_errors(out.errors)) return outside();
        } else if (!s_.skip_value()) {
          return outside();
        }
      } while (s_.more('}'));
      if (s_.failed()) return outside();
    } else {
      s_.consume('}');
    }
    if (!s_.at_end()) return outside();
    if (!saw_offers) {
      error_.offset = std::min(text_.size(), text_.find_first_not_of(" \t\r\n"));
      error_.message = "expected an object with an \"offers\" array";
      return false;
    }
    check_text(text_.size());
    return true;
  }

  std::size_t here() { return s_.offset(text_.data()); }
  bool outside() {
    error_.offset = here();
    error_.offer = -1;
    error_.message = "not JSON: " + s_.error();
    return false;
  }
  bool outside_at(const char* what) {
    error_.offset = here();
    error_.offer = -1;
    error_.message = what;
    return false;
  }

  // Text up to `upto` is mapped before it is taken, a few MiB ahead (a
  // part's reader no further than its part, limit_: past it, the pages of
  // the offer it is in come as they are touched); pages already read are
  // given back behind the reader. How far it went is how far find_bad_text
  // looks.
  void check_text(std::size_t upto) {
    if (upto <= checked_ || checked_ >= limit_) return;
    std::size_t end = std::min(limit_, std::max(upto, checked_ + (4u << 20)));
    // Not in the middle of a sequence: back to its lead byte.
    while (end < text_.size() && end > checked_ &&
           (static_cast<unsigned char>(text_[end]) & 0xC0) == 0x80)
      --end;
    if (end <= checked_) end = limit_;
    if (release_) populate(checked_, end);
    checked_ = end;
  }

  // After reading stopped: the first byte before checked_ that is not
  // UTF-8, or a NUL byte, is the error, worded as check_text_encoding words
  // it (src/input/source_text.cpp). Pages are mapped and given back as it goes.
  void find_bad_text() {
    const auto* bytes = reinterpret_cast<const unsigned char*>(text_.data());
    constexpr std::size_t kStep = 16u << 20;
    for (std::size_t from = 0; from < checked_;) {
      std::size_t to = std::min(checked_, from + kStep);
      while (to < checked_ && (bytes[to] & 0xC0) == 0x80) ++to;  // whole sequences
      if (release_) populate(from, to);
      const std::size_t at = invalid_text_at(bytes + from, to - from);
      if (release_ && to - from >= kReleaseStep) {
        const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
        const std::size_t a = (from + page - 1) / page * page, b = to / page * page;
        if (b > a) ::madvise(const_cast<char*>(text_.data()) + a, b - a, MADV_DONTNEED);
      }
      if (at != to - from) {
        error_.offset = from + at;
        error_.offer = -1;
        if (bytes[error_.offset] == 0) {
          error_.message = "file contains a NUL byte; this is a binary file, not a JSON offers file";
        } else {
          char byte[8];
          std::snprintf(byte, sizeof byte, "0x%02X", bytes[error_.offset]);
          error_.message = std::string("invalid UTF-8 (byte ") + byte + ")";
        }
        return;
      }
      from = to;
    }
  }

  // Maps the file's pages of [from, to) at once, instead of a page fault
  // every few pages (MADV_POPULATE_READ, Linux 5.14; without it, faults).
  void populate(std::size_t from, std::size_t to) {
#if defined(MADV_POPULATE_READ)
    const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    from = from / page * page;
    if (to > from)
      ::madvise(const_cast<char*>(text_.data()) + from, to - from, MADV_POPULATE_READ);
#else
    (void)from, (void)to;
#endif
  }

  // Gives back what is read before `upto`, in steps of kReleaseStep, or
  // all of it (a part read to its end).
  void give_back(std::size_t upto, bool all = false) {
    if (!release_ || (!all && upto < released_ + kReleaseStep)) return;
    const std::size_t from = released_, to = page_floor(upto);
    if (to <= from) return;
    ::madvise(const_cast<char*>(text_.data()) + from, to - from, MADV_DONTNEED);
    released_ = to;
  }

  // One part of a large listing's offers array: the elements from `from`
  // (an element's start) up to `to`, where the next part starts, read by a
  // reader of its own on whichever thread takes it (read_offers).
  enum class PartEnd { kAtNext, kPast, kArrayEnd, kFailed };
  struct Part {
    std::size_t from = 0, to = 0;
    std::vector<std::vector<Offer>> runs;  // what was kept of them
    std::size_t read = 0;                  // offers read
    std::optional<Screen> screen;
    PartEnd end = PartEnd::kFailed;  // until read whole
    std::size_t stop = 0;  // where its reader stopped: an element's start, or after ']'
    std::size_t checked = 0;
  };

  // Reads `part` from its start: elements until the next one starts at or
  // past part.to (kAtNext when exactly there), or to the end of the array.
  void read_part(Part& part, const std::atomic<bool>& stop) {
    ListingReader r(text_, release_, with_, part.from);
    r.limit_ = part.to;
    r.start_screen();
    for (;;) {
      if (stop.load(std::memory_order_relaxed) || !r.read_one(part.runs, part.to - part.from))
        break;
      if (!r.s_.more(']')) {
        if (!r.s_.failed()) part.end = PartEnd::kArrayEnd;
        break;
      }
      r.s_.peek();
      if (r.here() >= part.to) {
        part.end = r.here() == part.to ? PartEnd::kAtNext : PartEnd::kPast;
        break;
      }
    }
    part.stop = r.here();
    part.checked = r.checked_;
    part.read = r.read_;
    part.screen = std::move(r.screen_);
    r.give_back(part.stop, true);
  }

  void start_screen() {
    if (with_) screen_.emplace(with_->workload, with_->options);
  }

  // Where the parts of a large listing start: in a listing written as
  // berth writes it (each offer on its own lines, at one indentation), the
  // first offer at or after each step that follows `,` + that line break
  // and indentation + `{`. A line break is never inside a JSON string, and
  // a deeper object is deeper indented; whatever the file, a part's offers
  // are taken only when the part before it stopped exactly at its start.
  // None (one reader) for a small listing or a single core.
  std::vector<Part> split(std::size_t after_bracket, std::size_t first) const {
    std::vector<Part> parts;
    const std::size_t bytes = text_.size() - first;
    if (bytes < kPartsFromBytes || std::thread::hardware_concurrency() < 2 || text_[first] != '{')
      return parts;
    const std::string_view indent = text_.substr(after_bracket, first - after_bracket);
    if (indent.find('\n') == std::string_view::npos) return parts;
    std::string needle = ",";
    needle.append(indent).push_back('{');
    const std::size_t count = std::clamp<std::size_t>(bytes / kPartBytes, 2, kMaxParts);
    parts.push_back({first, text_.size()});
    for (std::size_t k = 1; k < count; ++k) {
      const std::size_t at =
          text_.find(needle, std::max(first + bytes / count * k, parts.back().from + 1));
      if (at == std::string_view::npos) break;
      parts.back().to = at + needle.size() - 1;
      parts.push_back({parts.back().to, text_.size()});
    }
    if (parts.size() < 2) parts.clear();
    return parts;
  }

  // A run for the offers of `bytes` of listing, or the next kRunOffers of
  // them: some 900 bytes per offer as berth writes them, and room reserved
  // is only address space until it is used. A run never grows past its
  // room (read_one starts another), so an offer stays where it was read:
  // a screen holds on to offers by their address. Where every offer is
  // kept, in huge pages if the system allows them on request: 2 MiB pages
  // instead of a page fault per 4 KiB. Not with a screen: it keeps few,
  // and a huge page is cleared whole however little of it is used.
  void new_run(std::vector<std::vector<Offer>>& runs, std::size_t bytes) const {
    auto& offers = runs.emplace_back();
    offers.reserve(std::min(bytes / 300 + 1, kRunOffers));
    const std::size_t size = offers.capacity() * sizeof(Offer);
    if (!with_ && size >= (2u << 20)) {
      const auto at = reinterpret_cast<std::uintptr_t>(offers.data());
      const std::uintptr_t huge = 2u << 20, from = (at + huge - 1) / huge * huge;
      if (from < at + size)
        ::madvise(reinterpret_cast<void*>(from), (at + size - from) / huge * huge, MADV_HUGEPAGE);
    }
  }

  // The next offer into the last run (a new one when it is full: for
  // `bytes` more of listing); with a screen, kept only when the screen
  // holds on to it.
  bool read_one(std::vector<std::vector<Offer>>& runs, std::size_t bytes) {
    s_.peek();
    const std::size_t start = here();
    check_text(start + (1u << 20));
    if (runs.empty() || runs.back().size() == runs.back().capacity()) new_run(runs, bytes);
    auto& offers = runs.back();
    Offer& offer = offers.emplace_back();
    launch_pending_ = false;
    if (!read_offer(offer)) {
      error_.offset = start;
      error_.offer = static_cast<long long>(offers_before_ + read_);
      offers.pop_back();
      return false;
    }
    ++read_;
    give_back(start);
    if (!screen_) return true;
    if (!screen_->take(offer))
      offers.pop_back();
    else if (launch_pending_)
      offer.launch_data_text = std::string(launch_scratch_);
    return true;
  }

  // The offers array into runs: a large listing in parts on as many
  // threads as there are cores (up to kMaxReaders), each part taking any
  // free thread, so that a busy core slows one part and not half the
  // listing; each part's runs are taken as they are, nothing is moved. The
  // parts are then taken in order while each begins where the one before
  // it stopped; from the first that does not (or was not read whole), this
  // reader goes on alone and says any error as it would have without parts.
  bool read_offers(std::vector<std::vector<Offer>>& runs) {
    s_.consume('[');
    const std::size_t after_bracket = here();
    start_screen();
    if (s_.peek() == ']') {
      s_.consume(']');
      return true;
    }
    std::vector<Part> parts = split(after_bracket, here());
    if (!parts.empty()) {
      std::atomic<std::size_t> next{0};
      std::atomic<bool> stop{false};
      auto work = [&] {
        for (std::size_t k; (k = next.fetch_add(1)) < parts.size();) {
          read_part(parts[k], stop);
          if (parts[k].end == PartEnd::kFailed) stop = true;
        }
      };
      const unsigned threads = std::min<unsigned>(
          {std::thread::hardware_concurrency(), kMaxReaders, static_cast<unsigned>(parts.size())});
      std::vector<std::thread> others;
      for (unsigned t = 1; t < threads; ++t) others.emplace_back(work);
      work();
      for (auto& t : others) t.join();
      std::size_t resume = parts.front().from;
      for (auto& part : parts) {
        if (part.from != resume || part.end == PartEnd::kFailed) break;
        offers_before_ += part.read;
        for (auto& run : part.runs) runs.push_back(std::move(run));
        if (screen_) screen_->join(std::move(*part.screen));
        checked_ = std::max(checked_, part.checked);
        resume = part.stop;
        if (part.end == PartEnd::kArrayEnd) {
          s_ = json_scan::Scanner(text_.substr(resume));
          released_ = std::max(released_, page_floor(resume));
          return true;
        }
      }
      // Alone from `resume`, an element's start.
      s_ = json_scan::Scanner(text_.substr(resume));
      checked_ = std::max(checked_, resume);
      released_ = std::max(released_, page_floor(resume));
    }
    const std::size_t bytes = text_.size() - here();
    do {
      if (!read_one(runs, bytes)) return false;
    } while (s_.more(']'));
    if (s_.failed()) return outside();
    return true;
  }

  bool bad(std::string what) {
    error_.message = std::move(what);
    return false;
  }
  bool scan_failed() { return bad("malformed offer: " + s_.error()); }

  // A JSON string into `out`; false (the file goes to parse_full) for any
  // other value.
  bool text(std::string& out) {
    std::string_view v;
    if (s_.peek() != '"') return bad("malformed offer: a string was expected");
    if (!s_.string_view(&v, &scratch_)) return scan_failed();
    // Appended, not assigned: `out` is empty (a key twice stops before),
    // and an append is the shorter way into a string's own buffer.
    out.clear();
    out.append(v.data(), v.size());
    return true;
  }
  // null, or a string.
  bool text_or_null(std::string& out) {
    if (s_.peek() == 'n') return null();
    return text(out);
  }
  bool null() {
    const char* p = s_.position();
    if (!s_.literal()) return scan_failed();
    if (*p != 'n') return bad("malformed offer: a value of the wrong type");
    return true;
  }
  bool number(double& out, bool* whole = nullptr) {
    char c = s_.peek();
    if (c != '-' && (c < '0' || c > '9')) return bad("malformed offer: a number was expected");
    bool integral = false;
    if (!s_.number(&out, &integral)) return scan_failed();
    // nlohmann reads -0 as the integer 0.
    if (out == 0 && integral) out = 0;
    if (whole) *whole = integral;
    return true;
  }
  bool integer(int& out) {
    double v = 0;
    bool whole = false;
    if (!number(v, &whole)) return false;
    if (!whole || v < -2147483648.0 || v > 2147483647.0)
      return bad("malformed offer: a whole number was expected");
    out = static_cast<int>(v);
    return true;
  }
  template <class T>
  bool optional_number(std::optional<T>& out) {
    if (s_.peek() == 'n') return null();
    if constexpr (std::is_same_v<T, int>) {
      int v = 0;
      if (!integer(v)) return false;
      out = v;
    } else {
      double v = 0;
      if (!number(v)) return false;
      out = v;
    }
    return true;
  }
  bool boolean(bool& out) {
    const char c = s_.peek();
    if (c != 't' && c != 'f') return bad("malformed offer: true or false was expected");
    if (!s_.literal()) return scan_failed();
    out = c == 't';
    return true;
  }
  // An object's members: each key made a number by `known` (a shortcut
  // for a key as berth writes it, with the ": " after it; kUnread when it
  // does not take it) or else by `named` from the key's text, and handed to
  // `member(k)` at its value.
  template <class Known, class Named, class Member>
  bool members(Known known, Named named, Member member) {
    if (!s_.consume('{')) return scan_failed();
    if (s_.peek() == '}') return s_.consume('}');
    do {
      unsigned k = known();
      if (k == kUnread) {
        std::string_view key;
        if (!s_.string_view(&key, &key_) || !s_.consume(':')) return scan_failed();
        k = named(key);
      }
      if (!member(k)) return false;
    } while (s_.more('}'));
    return !s_.failed() || scan_failed();
  }

  // The keys berth writes, matched in place with their quotes and the ": "
  // berth writes after them (no scan for the closing quote, no copy): a key
  // written any other way (an escape in it, no space after the colon) is
  // read as a string by members() and comes to the same.
  unsigned known_offer_key() {
    if (s_.peek() != '"' || text_end() - s_.position() < 2) return kUnread;
    switch (s_.position()[1]) {
      case 'a':
        return s_.match("\"arch\": ")        ? kArch
               : s_.match("\"available\": ") ? kAvailable
                                             : kUnread;
      case 'c':
        return s_.match("\"cuda\": ") ? kCuda : s_.match("\"cannot\": ") ? kCannot : kUnread;
      case 'd': return s_.match("\"disk_gb\": ") ? kDisk : kUnread;
      case 'g': return s_.match("\"gpu\": ") ? kGpu : kUnread;
      case 'i':
        return s_.match("\"id\": ")               ? kId
               : s_.match("\"inet_down_mbps\": ") ? kInetDown
                                                  : kUnread;
      case 'l':
        return s_.match("\"launch_data\": ") ? kLaunchData
               : s_.match("\"location\": ")  ? kLocation
                                             : kUnread;
      case 'm': return s_.match("\"memory_gb\": ") ? kMemory : kUnread;
      case 'p':
        return s_.match("\"price_per_hour\": ") ? kPrice
               : s_.match("\"provider\": ")     ? kProvider
                                                : kUnread;
      case 'r':
        return s_.match("\"region\": ")        ? kRegion
               : s_.match("\"reliability\": ") ? kReliability
                                               : kUnread;
      case 's':
        return s_.match("\"spot\": ")       ? kSpot
               : s_.match("\"stock\": ")    ? kStock
               : s_.match("\"settable\": ") ? kSettable
                                            : kUnread;
      case 'v': return s_.match("\"vcpus\": ") ? kVcpus : kUnread;
      default: return kUnread;
    }
  }
  const char* text_end() const { return text_.data() + text_.size(); }

  template <class Item>
  bool items(Item item) {
    if (s_.peek() != '[') return bad("malformed offer: a list was expected");
    s_.consume('[');
    if (s_.peek() == ']') return s_.consume(']');
    do {
      if (!item()) return false;
    } while (s_.more(']'));
    return !s_.failed() || scan_failed();
  }

  bool read_offer(Offer& o) {
    if (s_.peek() != '{') return bad("an offer must be a JSON object");
    std::uint32_t seen = 0;
    bool ok = members([&] { return known_offer_key(); }, offer_key, [&](unsigned k) {
      if (k != kOther) {
        if (seen & (1u << k)) return bad("malformed offer: a key twice");
        seen |= 1u << k;
      }
      switch (k) {
        case kProvider: return text(o.provider);
        case kId: return text(o.id);
        case kRegion: return text(o.region);
        case kLocation: return location(o.location);
        case kArch: {
          std::string name;
          if (!text_or_null(name)) return false;
          if (name.empty()) return true;
          auto a = cpu_arch_from_name(name);
          if (!a) return bad("unknown arch '" + name + "' (x86_64 or arm64)");
          o.arch = *a;
          return true;
        }
        case kGpu: return gpu(o.gpu);
        case kVcpus: return optional_number(o.vcpus);
        case kMemory: return optional_number(o.memory_gb);
        case kDisk: return optional_number(o.disk_gb);
        case kPrice: return number(o.price_per_hour);
        case kSpot: return boolean(o.spot);
        case kAvailable: return optional_number(o.available);
        case kStock: return text_or_null(o.stock);
        case kCuda: return optional_number(o.cuda);
        case kReliability: return optional_number(o.reliability);
        case kInetDown: return optional_number(o.inet_down_mbps);
        case kLaunchData: return launch_data(o.launch_data_text);
        case kCannot:
          return items([&] {
            std::string name;
            if (!text(name)) return false;
            auto f = feature_from_name(name);
            if (!f) return bad("unknown feature '" + name + "' in \"cannot\"");
            o.honours &= ~feature_bit(*f);
            return true;
          });
        case kSettable:
          return items([&] {
            std::string name;
            if (!text(name)) return false;
            for (auto f : kHostFacts)
              if (name == fact_key(f)) {
                o.settable |= fact_bit(f);
                return true;
              }
            return bad("unknown field '" + name + "' in \"settable\"");
          });
        case kOther:
          return s_.skip_value() || scan_failed();
      }
      return false;
    });
    if (!ok) return false;
    for (auto required : {kProvider, kId, kGpu, kPrice})
      if (!(seen & (1u << required))) {
        static const char* names[] = {"provider", "id", "", "", "", "gpu", "", "", "",
                                      "price_per_hour"};
        return bad(std::string("malformed offer: key '") + names[required] + "' not found");
      }
    return true;
  }

  bool location(Location& l) {
    if (s_.peek() == 'n') return null();
    if (s_.peek() != '{') return bad("\"location\" must be an object");
    unsigned seen = 0;
    const auto known = [&]() -> unsigned {
      s_.peek();
      return s_.match("\"continent\": ") ? 2u
             : s_.match("\"country\": ") ? 1u
             : s_.match("\"subregion\": ") ? 4u
                                         : kUnread;
    };
    const auto named = [](std::string_view key) -> unsigned {
      return is(key, "country") ? 1u : is(key, "continent") ? 2u : is(key, "subregion") ? 4u : 0u;
    };
    return members(known, named, [&](unsigned bit) {
      if (!bit) return s_.skip_value() || scan_failed();
      if (seen & bit) return bad("malformed offer: a key twice");
      seen |= bit;
      return text_or_null(bit == 1 ? l.country : bit == 2 ? l.continent : l.subregion);
    });
  }

  bool gpu(OfferGpu& g) {
    if (s_.peek() != '{') return bad("malformed offer: \"gpu\" must be an object");
    unsigned seen = 0;
    const auto known = [&]() -> unsigned {
      s_.peek();
      return s_.match("\"compute_capability\": ") ? 16u
             : s_.match("\"count\": ")            ? 4u
             : s_.match("\"model\": ")            ? 1u
             : s_.match("\"vendor\": ")           ? 2u
             : s_.match("\"vram_gb\": ")          ? 8u
                                                : kUnread;
    };
    const auto named = [](std::string_view key) -> unsigned {
      return is(key, "model")                ? 1u
             : is(key, "vendor")             ? 2u
             : is(key, "count")              ? 4u
             : is(key, "vram_gb")            ? 8u
             : is(key, "compute_capability") ? 16u
                                           : 0u;
    };
    return members(known, named, [&](unsigned bit) {
      if (!bit) return s_.skip_value() || scan_failed();
      if (seen & bit) return bad("malformed offer: a key twice");
      seen |= bit;
      switch (bit) {
        case 1: return text(g.model);
        case 2: {
          std::string vendor;
          if (!text(vendor)) return false;
          if (vendor != "nvidia" && vendor != "amd")
            return bad("unknown GPU vendor '" + vendor + "'");
          g.vendor = vendor == "amd" ? GpuVendor::kAmd : GpuVendor::kNvidia;
          return true;
        }
        case 4: return integer(g.count);
        case 8: return optional_number(g.vram_gb);
        default: return optional_number(g.compute_capability);
      }
    });
  }

  // Checked and kept as compact text (whitespace outside strings dropped);
  // parsed only for the offers a plan shows (Offer::launch_data_text).
  // Written into a buffer kept for the next offer, then copied at its size;
  // with a screen, only once the screen keeps the offer (read_one).
  bool launch_data(std::string& out) {
    if (s_.peek() == 'n') return null();
    launch_scratch_.clear();
    if (!s_.copy_value(&launch_scratch_)) return scan_failed();
    if (screen_)
      launch_pending_ = true;
    else
      out = std::string(launch_scratch_);
    return true;
  }

  bool read_errors(std::vector<SavedProviderError>& errors) {
    if (s_.peek() != '[') return s_.skip_value();
    s_.consume('[');
    if (s_.peek() == ']') return s_.consume(']');
    do {
      if (s_.peek() != '{') {
        if (!s_.skip_value()) return false;
        continue;
      }
      SavedProviderError e;
      s_.consume('{');
      if (s_.peek() == '}') {
        s_.consume('}');
        continue;
      }
      do {
        std::string_view key;
        if (!s_.string_view(&key, &key_) || !s_.consume(':')) return false;
        std::string* field = is(key, "provider") ? &e.provider
                             : is(key, "kind")   ? &e.kind
                             : is(key, "message") ? &e.message
                                                : nullptr;
        if (field && s_.peek() == '"') {
          if (!s_.string(field)) return false;
        } else {
          // Not a string: the member counts as empty (string_member), the
          // last one of a key twice wins, as in a parsed document.
          if (field) field->clear();
          if (!s_.skip_value()) return false;
        }
      } while (s_.more('}'));
      if (s_.failed()) return false;
      if (!e.provider.empty()) errors.push_back(std::move(e));
    } while (s_.more(']'));
    return !s_.failed();
  }

  static std::size_t page_floor(std::size_t offset) {
    const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    return offset / page * page;
  }

  std::string_view text_;
  json_scan::Scanner s_;
  bool release_;
  const ScreenWith* with_;
  std::size_t checked_ = 0, released_ = 0;
  std::optional<Screen> screen_;      // with_'s, for the offers this reader reads
  std::size_t limit_ = text_.size();  // how far check_text maps
  std::size_t read_ = 0;              // offers this reader read
  std::size_t offers_before_ = 0;     // read before this reader's first, for error_.offer
  std::string key_, scratch_, launch_scratch_;
  bool launch_pending_ = false;  // launch_scratch_ is the offer's launch_data
  StreamError error_;
};

// The 0-based line and byte column of `offset`, and that line's text.
struct Place {
  int line0 = 0, column0 = 0;
  std::string line;
};
Place place_of(std::string_view text, std::size_t offset) {
  offset = std::min(offset, text.size());
  Place p;
  std::size_t start = 0;
  for (std::size_t i = 0; i < offset; ++i)
    if (text[i] == '\n') ++p.line0, start = i + 1;
  p.column0 = static_cast<int>(offset - start);
  std::size_t end = text.find('\n', start);
  p.line = std::string(text.substr(start, (end == std::string_view::npos ? text.size() : end) - start));
  return p;
}

Expected<SavedOffers, Diagnostics> read_listing(std::string_view text, const std::string& name,
                                                bool mapped, const ScreenWith* with) {
  SavedOffers saved;
  ListingReader reader(text, mapped, with);
  if (reader.read(saved)) return saved;
  if (text.size() <= kFullReaderBytes) return parse_full(std::string(text), name, with);
  // Too large to read again as a document: the streaming reader's own words,
  // at the bad offer's start (or where the text stopped being JSON).
  const StreamError& e = reader.error();
  Place p = place_of(text, e.offset);
  SourceText line(name, p.line);
  DiagnosticSink sink(line);
  std::string message = e.message;
  if (e.offer >= 0) message = "offers[" + std::to_string(e.offer) + "]: " + message;
  sink.error(0, p.column0, std::move(message),
             message.find("UTF-8") != std::string::npos ? "save the file as UTF-8" : kHint);
  auto ds = sink.take();
  for (auto& d : ds) d.line = p.line0 + 1;
  return unexpected(std::move(ds));
}

Diagnostics read_error(const std::filesystem::path& file, const FileReadError& e) {
  Diagnostic d;
  d.file = file.string();
  d.message = e.kind == FileReadError::Kind::kMissing || e.kind == FileReadError::Kind::kUnreadable
                  ? "cannot read the offers file: " + e.reason
                  : "offers file " + e.describe(kMaxOffersFileBytes);
  d.hint = kHint;
  return Diagnostics{d};
}

}  // namespace

Expected<SavedOffers, Diagnostics> parse_saved_offers(const std::string& text,
                                                      const std::string& name,
                                                      const ScreenWith* with) {
  return read_listing(text, name, false, with);
}

namespace {

// A mapped file cut short by another process (an `offers -o json > FILE`
// started again beside this read) faults where its pages are gone: SIGBUS.
// While a listing is read, that is said as an error with the invalid-input
// exit code instead of a crash; nothing has been rented at this point.
char g_cut_short[600];
std::size_t g_cut_short_len = 0;

extern "C" void on_cut_short(int) {
  ssize_t written = ::write(STDERR_FILENO, g_cut_short, g_cut_short_len);
  (void)written;
  ::_exit(3);
}

class CutShortGuard {
 public:
  explicit CutShortGuard(const std::filesystem::path& file) {
    // Printed from a signal handler, so made terminal-safe here: no
    // control character of the path reaches the terminal.
    std::string path = file.string().substr(0, 400);
    for (auto& c : path)
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
    std::string text = "berth: error: " + path +
                       ": the offers file was cut short while it was read (written again by "
                       "another process?)\n  hint: " + kHint + "\n";
    g_cut_short_len = std::min(text.size(), sizeof g_cut_short);
    std::memcpy(g_cut_short, text.data(), g_cut_short_len);
    struct sigaction sa {};
    sa.sa_handler = on_cut_short;
    sigemptyset(&sa.sa_mask);
    ::sigaction(SIGBUS, &sa, &old_);
  }
  ~CutShortGuard() { ::sigaction(SIGBUS, &old_, nullptr); }
  CutShortGuard(const CutShortGuard&) = delete;
  CutShortGuard& operator=(const CutShortGuard&) = delete;

 private:
  struct sigaction old_ {};
};

}  // namespace

Expected<SavedOffers, Diagnostics> read_saved_offers(const std::filesystem::path& file,
                                                     const ScreenWith* with) {
  // A regular file within the cap is mapped and read as a stream; anything
  // else is refused by the bounded reader, in its words (berth/input/user_file.h).
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  struct stat st {};
  const bool plain = fd >= 0 && ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
                     static_cast<std::uint64_t>(st.st_size) <= kMaxOffersFileBytes;
  void* map = plain ? ::mmap(nullptr, static_cast<std::size_t>(st.st_size), PROT_READ, MAP_PRIVATE,
                             fd, 0)
                    : MAP_FAILED;
  if (fd >= 0) ::close(fd);
  if (map == MAP_FAILED) {
    auto text = read_user_file(file, kMaxOffersFileBytes);
    if (!text) return unexpected(read_error(file, text.error()));
    return parse_saved_offers(*text, file.string(), with);
  }
  const auto size = static_cast<std::size_t>(st.st_size);
  ::madvise(map, size, MADV_SEQUENTIAL);
  CutShortGuard guard(file);
  auto result = read_listing(std::string_view(static_cast<const char*>(map), size), file.string(),
                             true, with);
  ::munmap(map, size);
  return result;
}

}  // namespace berth
