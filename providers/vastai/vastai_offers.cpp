#include "providers/vastai/vastai_offers.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <optional>
#include <unordered_map>

#include "berth/input/json_scan.h"
#include "berth/template/gpu_catalog.h"
#include "providers/common/catalog_gpu.h"

namespace berth::vastai {

namespace {

using nlohmann::json;

// How Vast spells the models it rents (its `gpu_name` values). The catalog
// maps each spelling to a canonical model, so a template's `models: [H100]`
// becomes {"in": ["H100 SXM", "H100 PCIE"]} without a second table of names.
const std::vector<std::string>& vast_gpu_names() {
  static const std::vector<std::string> names = {
      "H100 SXM",      "H100 PCIE",    "H100 NVL",    "H200",         "H200 NVL",
      "GH200 SXM",     "B200",         "A100 SXM4",   "A100 PCIE",    "A100X",
      "A800 PCIE",     "A40",          "A30",         "A10",          "A10g",
      "A16",           "A2",           "L40S",        "L40",          "L4",
      "RTX 6000Ada",   "RTX 5000Ada",  "RTX 4000Ada", "RTX 2000Ada",  "RTX A6000",
      "RTX A5000",     "RTX A4500",    "RTX A4000",   "RTX A2000",    "RTX PRO 6000 WS",
      "RTX 5090",      "RTX 5080",     "RTX 5070 Ti", "RTX 5070",     "RTX 5060 Ti",
      "RTX 4090",      "RTX 4080S",    "RTX 4080",    "RTX 4070S Ti", "RTX 4070 Ti",
      "RTX 4070S",     "RTX 4070",     "RTX 4060 Ti", "RTX 4060",     "RTX 3090 Ti",
      "RTX 3090",      "RTX 3080 Ti",  "RTX 3080",    "RTX 3070 Ti",  "RTX 3070",
      "RTX 3060 Ti",   "RTX 3060",     "RTX 2080 Ti", "RTX 2080S",    "RTX 2080",
      "RTX 2070S",     "Q RTX 6000",   "Q RTX 8000",  "Tesla V100",   "Tesla T4",
      "Tesla P100",    "Tesla P40",    "Tesla P4",    "MI300X",       "InstinctMI250X",
      "InstinctMI210", "InstinctMI100"};
  return names;
}

json op(const char* name, json value) { return json{{name, std::move(value)}}; }

}  // namespace

json offer_query(const OfferQuery& query, const SearchOptions& options) {
  json q = json::object();
  q["rentable"] = op("eq", true);
  q["rented"] = op("eq", false);
  if (options.verified_only) q["verified"] = op("eq", true);
  // berth reaches the container over a direct SSH port.
  q["direct_port_count"] = op("gte", 1);
  json gpus = json::object();
  gpus["gte"] = std::max(1, query.gpu_count.min.value_or(1));
  if (query.gpu_count.max) gpus["lte"] = *query.gpu_count.max;
  q["num_gpus"] = gpus;
  if (query.min_vram_gb) {
    // gpu_ram is in MB as the card reports it (81559 for an 80GB H100); the
    // catalog snaps reported sizes within ~7% of nominal, so the server-side
    // filter allows the same slack and the core filters exactly afterwards.
    q["gpu_ram"] = op("gte", std::floor(*query.min_vram_gb * 1000 * 0.93));
  }
  if (!query.models.empty()) {
    json names = json::array();
    bool every_model_spelled = true;
    for (const std::string& model : query.models) {
      bool found = false;
      for (const std::string& raw : vast_gpu_names()) {
        const GpuModel* m = normalize_gpu_name(raw);
        if (m && m->name == model) {
          names.push_back(raw);
          found = true;
        }
      }
      every_model_spelled = every_model_spelled && found;
    }
    // A model we cannot spell the Vast way must not be filtered out on the
    // server: leave the name filter off and let the core filter.
    if (every_model_spelled && !names.empty()) q["gpu_name"] = op("in", names);
  }
  if (query.max_price) q["dph_total"] = op("lte", *query.max_price);
  if (query.min_reliability) q["reliability"] = op("gte", *query.min_reliability);
  if (query.min_inet_mbps) q["inet_down"] = op("gte", *query.min_inet_mbps);
  if (query.min_cuda) q["cuda_max_good"] = op("gte", *query.min_cuda);
  q["type"] = query.spot == SpotPolicy::kOnly ? "bid" : "on-demand";
  q["order"] = json::array({json::array({"dph_total", "asc"})});
  q["limit"] = options.limit;
  return q;
}

std::string region_from_geolocation(std::string_view geo) {
  auto slug = [](std::string_view s) {
    std::string out;
    bool dash = false;
    for (char c : s) {
      unsigned char u = static_cast<unsigned char>(c);
      if (std::isalnum(u)) {
        if (dash && !out.empty()) out += '-';
        out += static_cast<char>(std::tolower(u));
        dash = false;
      } else {
        dash = true;
      }
    }
    return out;
  };
  auto comma = geo.rfind(',');
  if (comma != std::string_view::npos) {
    std::string_view place = geo.substr(0, comma);
    std::string cc = slug(geo.substr(comma + 1));
    std::string rest = slug(place);
    if (cc.size() == 2) return rest.empty() ? cc : cc + "-" + rest;
  }
  std::string s = slug(geo);
  return s.empty() ? "unknown" : s;
}

Location location_from_geolocation(std::string_view geo) { return parse_place(geo); }

namespace {

// The fields berth reads from one offer; everything else is skipped.
enum Field {
  kNone,
  kId,
  kGpuName,
  kNumGpus,
  kGpuRam,
  kCpuCores,
  kCpuCoresEffective,
  kCpuRam,
  kDiskSpace,
  kDphTotal,
  kComputeCap,
  kCudaMaxGood,
  kGeolocation,
  kMinBid,
  kReliability,
  kReliability2,
  kInetDown,
  kFieldCount
};

// Called for every key of every offer (~70 per offer): a switch on the length
// first keeps it to one or two short comparisons.
Field field_for(std::string_view k) {
  switch (k.size()) {
    case 2:
      return k == "id" ? kId : kNone;
    case 7:
      return k == "gpu_ram" ? kGpuRam : k == "cpu_ram" ? kCpuRam : k == "min_bid" ? kMinBid : kNone;
    case 8:
      return k == "gpu_name" ? kGpuName : k == "num_gpus" ? kNumGpus : kNone;
    case 9:
      return k == "cpu_cores"   ? kCpuCores
             : k == "dph_total" ? kDphTotal
             : k == "inet_down" ? kInetDown
                                : kNone;
    case 10:
      return k == "disk_space" ? kDiskSpace : kNone;
    case 11:
      return k == "compute_cap"   ? kComputeCap
             : k == "geolocation" ? kGeolocation
             : k == "reliability" ? kReliability
                                  : kNone;
    case 12:
      return k == "reliability2" ? kReliability2 : kNone;
    case 13:
      return k == "cuda_max_good" ? kCudaMaxGood : kNone;
    case 19:
      return k == "cpu_cores_effective" ? kCpuCoresEffective : kNone;
    default:
      return kNone;
  }
}

const char* field_name(Field f) {
  static const char* names[] = {"",
                                "id",
                                "gpu_name",
                                "num_gpus",
                                "gpu_ram",
                                "cpu_cores",
                                "cpu_cores_effective",
                                "cpu_ram",
                                "disk_space",
                                "dph_total",
                                "compute_cap",
                                "cuda_max_good",
                                "geolocation",
                                "min_bid",
                                "reliability",
                                "reliability2",
                                "inet_down"};
  return names[f];
}

struct RawOffer {
  std::optional<double> num[kFieldCount];
  std::string id;
  std::string gpu_name;
  std::string geolocation;
  bool has_id = false;
  bool has_gpu_name = false;
};

std::optional<double> numeric_text(const std::string& s) {
  std::size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  double v = 0;
  auto [p, ec] = std::from_chars(s.data() + b, s.data() + e, v);
  if (b == e || ec != std::errc() || p != s.data() + e || !std::isfinite(v)) return std::nullopt;
  return v;
}

// The largest magnitude of a number field: no count, size or price comes
// near it, and counts and cores are converted to int (a larger value would
// make that undefined).
constexpr double kMaxFieldValue = 1e9;

class OfferReader {
 public:
  OfferReader(std::string_view body, const std::string& provider, int max_offers, bool bids)
      : scan_(body),
        provider_(provider),
        bids_(bids),
        max_offers_(static_cast<std::size_t>(std::max(0, max_offers))) {
    // One reallocation-free pass: count the offers roughly first (each has
    // exactly one gpu_name), which is cheap next to parsing them.
    std::size_t hint = 0;
    const std::string_view needle = "\"gpu_name\"";
    for (auto at = body.find(needle); at != std::string_view::npos && hint <= max_offers_;
         at = body.find(needle, at + needle.size()))
      ++hint;
    offers_.reserve(std::min(hint, max_offers_));
  }

  Expected<std::vector<Offer>, std::string> read() {
    bool saw_offers = false;
    if (scan_.peek() != '{') return error("expected an object with \"offers\"");
    scan_.consume('{');
    if (scan_.peek() == '}') {
      scan_.consume('}');
    } else {
      do {
        if (!scan_.string(&key_) || !scan_.consume(':')) return error();
        if (key_ == "offers") {
          saw_offers = true;
          if (!read_offers()) return error();
        } else if (!scan_.skip_value()) {
          return error();
        }
      } while (scan_.more('}'));
      if (scan_.failed()) return error();
    }
    if (!scan_.at_end()) return error();
    if (!saw_offers) return unexpected(std::string("no \"offers\" list in the answer"));
    return std::move(offers_);
  }

 private:
  Expected<std::vector<Offer>, std::string> error(const std::string& what = "") {
    if (!what.empty()) scan_.fail(what);
    return unexpected(scan_.error());
  }

  bool read_offers() {
    if (scan_.peek() != '[') return scan_.fail("\"offers\" should be a list");
    scan_.consume('[');
    if (scan_.peek() == ']') return scan_.consume(']');
    do {
      if (scan_.peek() != '{') return scan_.fail("offers should be a list of objects");
      if (offers_.size() == max_offers_)
        return scan_.fail("more than the " + std::to_string(max_offers_) + " offers asked for");
      if (!read_offer()) return false;
    } while (scan_.more(']'));
    return !scan_.failed();
  }

  bool read_offer() {
    scan_.consume('{');
    cur_ = RawOffer{};
    if (scan_.peek() == '}') {
      scan_.consume('}');
      return finish_offer();
    }
    do {
      std::string_view key;
      if (!scan_.string_view(&key, &key_) || !scan_.consume(':')) return false;
      Field f = field_for(key);
      if (f == kNone) {
        if (!scan_.skip_value()) return false;
        continue;
      }
      char c = scan_.peek();
      if (c == '"') {
        if (!scan_.string(&text_)) return false;
        if (f == kId) {
          cur_.id = text_;
          cur_.has_id = true;
        } else if (f == kGpuName) {
          cur_.gpu_name = text_;
          cur_.has_gpu_name = true;
        } else if (f == kGeolocation) {
          cur_.geolocation = text_;
        } else if (auto n = numeric_text(text_); n && std::fabs(*n) > kMaxFieldValue) {
          return scan_.fail(std::string("field '") + field_name(f) + "' is out of range");
        } else if (n) {
          cur_.num[f] = n;  // numbers sent as strings
        } else if (!text_.empty()) {
          return scan_.fail(std::string("field '") + field_name(f) + "' should be a number");
        }
      } else if (c == '-' || (c >= '0' && c <= '9')) {
        double v = 0;
        if (!scan_.number(&v)) return false;
        if (f == kId) {
          // Exactly representable, so it converts: beyond 2^53 a double
          // holds no one integer, beyond 2^63 the conversion is undefined.
          if (v != std::floor(v) || std::fabs(v) > 9007199254740992.0)
            return scan_.fail("field 'id' should be an integer");
          cur_.id = std::to_string(static_cast<long long>(v));
          cur_.has_id = true;
        } else if (f == kGpuName || f == kGeolocation) {
          return scan_.fail(std::string("field '") + field_name(f) + "' should be a string");
        } else if (std::fabs(v) > kMaxFieldValue) {
          return scan_.fail(std::string("field '") + field_name(f) + "' is out of range");
        } else {
          cur_.num[f] = v;
        }
      } else if (c == '{' || c == '[') {
        if (f == kId || f == kGpuName)
          return scan_.fail(std::string("field '") + field_name(f) + "' has the wrong type");
        if (!scan_.skip_value()) return false;
      } else {
        if (!scan_.literal()) return false;  // null, true, false: nothing to keep
      }
    } while (scan_.more('}'));
    if (scan_.failed()) return false;
    return finish_offer();
  }

  bool finish_offer() {
    RawOffer& r = cur_;
    if (!r.has_id) return scan_.fail("an offer has no id");
    if (!r.has_gpu_name) return scan_.fail("offer " + r.id + " has no gpu_name");
    if (!r.num[kNumGpus]) return scan_.fail("offer " + r.id + " has no num_gpus");
    if (!r.num[kDphTotal]) return scan_.fail("offer " + r.id + " has no dph_total");

    Offer o;
    o.provider = provider_;
    o.id = r.id;
    o.gpu.count = static_cast<int>(*r.num[kNumGpus]);
    // gpu_ram is MB per GPU; the catalog picks the model and its nominal size.
    std::optional<double> reported_gb;
    if (r.num[kGpuRam]) reported_gb = *r.num[kGpuRam] / 1000.0;
    const GpuModel* model = normalized(r.gpu_name, reported_gb);
    if (model) {
      o.gpu = catalog_gpu(*model, o.gpu.count);
    } else {
      o.gpu.model = "unknown:" + r.gpu_name;
      if (reported_gb) o.gpu.vram_gb = std::round(*reported_gb * 10) / 10;
    }
    if (!o.gpu.compute_capability && r.num[kComputeCap])
      o.gpu.compute_capability = *r.num[kComputeCap] / 100.0;  // 890 = 8.9
    if (r.num[kCpuCoresEffective])
      o.vcpus = static_cast<int>(*r.num[kCpuCoresEffective]);
    else if (r.num[kCpuCores])
      o.vcpus = static_cast<int>(*r.num[kCpuCores]);
    if (r.num[kCpuRam]) {
      // cpu_ram is the whole machine's, in MB; a rental gets its share of
      // the cores and the same share of memory.
      double share = 1.0;
      if (r.num[kCpuCores] && r.num[kCpuCoresEffective] && *r.num[kCpuCores] > 0)
        share = std::min(1.0, *r.num[kCpuCoresEffective] / *r.num[kCpuCores]);
      o.memory_gb = *r.num[kCpuRam] * share / 1000.0;
    }
    if (r.num[kDiskSpace]) o.disk_gb = *r.num[kDiskSpace];
    o.price_per_hour = *r.num[kDphTotal];
    o.cuda = r.num[kCudaMaxGood];
    // reliability2 is the score the vendor's CLI shows; reliability the older one.
    o.reliability = r.num[kReliability2] ? r.num[kReliability2] : r.num[kReliability];
    if (o.reliability && (*o.reliability < 0 || *o.reliability > 1)) o.reliability.reset();
    if (r.num[kInetDown] && *r.num[kInetDown] >= 0) o.inet_down_mbps = *r.num[kInetDown];
    o.region = region(r.geolocation);
    o.location = location(r.geolocation);
    o.arch = arch_of_gpu(o.gpu);
    o.available = 1;  // one machine behind each ask
    o.launch_data = json{{"ask_id", r.id}};
    if (bids_) {
      // An interruptible rental at the ask's minimum bid: the bid is what
      // the launch sends as `price`; the offer costs at least that. An ask
      // with no minimum bid cannot be bid on at a known price.
      if (!r.num[kMinBid] || *r.num[kMinBid] < 0) return true;
      double bid = std::max(*r.num[kMinBid], kMinBidPrice);
      o.id = r.id + "-bid";
      o.spot = true;
      o.price_per_hour = std::max(o.price_per_hour, bid);
      o.launch_data["bid"] = bid;
    }
    offers_.push_back(std::move(o));
    return true;
  }

  // Marketplace answers repeat a handful of GPU names and places thousands of
  // times: normalize each distinct one once.
  const GpuModel* normalized(const std::string& name, std::optional<double> reported_gb) {
    std::string key = name;
    key += '|';
    key += reported_gb ? std::to_string(static_cast<long>(std::lround(*reported_gb))) : "-";
    auto it = models_.find(key);
    if (it != models_.end()) return it->second;
    const GpuModel* m = normalize_gpu_name(name, reported_gb);
    models_.emplace(std::move(key), m);
    return m;
  }
  const std::string& region(const std::string& geo) {
    auto it = regions_.find(geo);
    if (it != regions_.end()) return it->second;
    return regions_.emplace(geo, region_from_geolocation(geo)).first->second;
  }

  const Location& location(const std::string& geo) {
    auto it = locations_.find(geo);
    if (it != locations_.end()) return it->second;
    return locations_.emplace(geo, location_from_geolocation(geo)).first->second;
  }

  json_scan::Scanner scan_;
  const std::string& provider_;
  const bool bids_;
  const std::size_t max_offers_;
  std::string key_;
  std::string text_;
  RawOffer cur_;
  std::vector<Offer> offers_;
  std::unordered_map<std::string, const GpuModel*> models_;
  std::unordered_map<std::string, std::string> regions_;
  std::unordered_map<std::string, Location> locations_;
};

}  // namespace

Expected<std::vector<Offer>, std::string> parse_offers(std::string_view body,
                                                       const std::string& provider,
                                                       int max_offers, bool bids) {
  return OfferReader(body, provider, max_offers, bids).read();
}

}  // namespace berth::vastai
