#include "providers/runpod/runpod_catalog.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <optional>
#include <unordered_map>
#include <variant>

#include "berth/input/json_scan.h"
#include "berth/template/gpu_catalog.h"
#include "providers/common/catalog_gpu.h"
#include "providers/common/json_util.h"
#include "providers/runpod/runpod_provider.h"

namespace berth::runpod {

std::string stock_word(std::string_view level) {
  if (level == "LOW") return "low";
  if (level == "MEDIUM") return "medium";
  if (level == "HIGH") return "high";
  return "";
}

namespace {

// A value read where a number belongs: absent or null, a number (or a string
// holding one, json_util's rule), or something else (`bad`, said only if
// the value is used: an entry the catalog lists without stock is skipped
// whatever its shape, as a document reader skips it).
struct Number {
  std::optional<double> value;
  std::string bad;
};

struct Text {
  std::optional<std::string> value;
  std::string bad;
};

// A data center with stock, or why one that would be read is not one.
using DataCenter = std::variant<std::pair<std::string, std::string>, std::string>;

// One entry of "gpus", as read; offers are made from it once it has ended,
// in the order a document reader would look at its members.
struct Gpu {
  Text id;
  std::optional<bool> offered;  // the tier's flag (`secure`, `community`)
  bool price_object = false;
  Number price;  // price[tier]: USD per hour for one GPU
  bool max_object = false;
  Number max_count;  // maxCount[tier]
  bool data_centers = false, data_centers_list = false;
  std::vector<DataCenter> stocked;  // up to the first problem
  bool problem = false;
  Text name, manufacturer;
  Number memory;
  std::optional<double> cuda;
  std::string cuda_bad;
};

class CatalogReader {
 public:
  CatalogReader(std::string_view body, const std::string& provider, const std::string& cloud,
                int count, std::size_t max)
      : s_(body), provider_(provider), cloud_(cloud), count_(count), max_(max) {}

  Expected<std::vector<Offer>, std::string> read() {
    if (s_.peek() != '{') return failure("expected a JSON object");
    s_.consume('{');
    bool saw_gpus = false;
    if (s_.peek() == '}') {
      s_.consume('}');
    } else {
      do {
        if (!s_.string(&key_) || !s_.consume(':')) return failure();
        if (key_ == "gpus") {
          saw_gpus = true;
          if (!read_gpus()) return failure();
        } else if (!s_.skip_value()) {
          return failure();
        }
      } while (s_.more('}'));
      if (s_.failed()) return failure();
    }
    if (!s_.at_end()) return failure();
    if (!saw_gpus) return unexpected(std::string("'gpus' is missing"));
    if (!error_.empty()) return unexpected(error_);
    return std::move(offers_);
  }

 private:
  Expected<std::vector<Offer>, std::string> failure(const std::string& what = "") {
    if (!what.empty()) s_.fail(what);
    return unexpected(s_.error());
  }

  bool read_gpus() {
    if (s_.peek() != '[') return s_.fail("'gpus' should be an array");
    s_.consume('[');
    if (s_.peek() == ']') return s_.consume(']');
    do {
      if (s_.peek() != '{') {
        // Not an object: a document reader fails on its id.
        if (!s_.skip_value()) return false;
        shape("'gpus' should hold objects");
        continue;
      }
      Gpu g;
      if (!read_gpu(g)) return false;
      make_offers(g);
    } while (s_.more(']'));
    return !s_.failed();
  }

  // The first shape problem of an answer that is otherwise JSON: reading
  // goes on to the end (the grammar is still checked), the answer fails.
  void shape(std::string what) {
    if (error_.empty() && offers_.size() < max_) error_ = std::move(what);
  }

  template <class Member>
  bool members(Member member) {
    s_.consume('{');
    if (s_.peek() == '}') return s_.consume('}');
    do {
      std::string_view key;
      if (!s_.string_view(&key, &scratch_) || !s_.consume(':')) return false;
      if (!member(key)) return false;
    } while (s_.more('}'));
    return !s_.failed();
  }

  bool text(Text& out, const char* what) {
    out = Text{};
    const char c = s_.peek();
    if (c == '"') {
      out.value.emplace();
      return s_.string(&*out.value);
    }
    if (c == 'n') return s_.literal();  // null: absent
    out.bad = std::string("'") + what + "' should be a string";
    return s_.skip_value();
  }

  bool number(Number& out, const char* what) {
    out = Number{};
    const char c = s_.peek();
    if (c == 'n') return s_.literal();
    if (c == '"' || c == '-' || (c >= '0' && c <= '9')) {
      nlohmann::json v;
      if (c == '"') {
        std::string t;
        if (!s_.string(&t)) return false;
        v = std::move(t);
      } else {
        double d = 0;
        if (!s_.number(&d)) return false;
        v = d;
      }
      out.value = json_util::as_number(v);
      // Written back with invalid UTF-8 replaced: a hostile answer's bytes
      // never make the reader throw.
      if (!out.value)
        out.bad = std::string("'") + what + "' should be a number, got " +
                  v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      return true;
    }
    out.bad = std::string("'") + what + "' should be a number";
    return s_.skip_value();
  }

  bool read_gpu(Gpu& g) {
    return members([&](std::string_view key) {
      if (key == "id") return text(g.id, "id");
      if (key == "name") return text(g.name, "name");
      if (key == "manufacturer") return text(g.manufacturer, "manufacturer");
      if (key == "memory") return number(g.memory, "memory");
      if (key == cloud_) {
        const char c = s_.peek();
        g.offered.reset();
        if (c == 't' || c == 'f') g.offered = c == 't';
        return s_.skip_value();  // true/false checked; any other type is no flag
      }
      if (key == "price" || key == "maxCount") {
        const bool price = key == "price";
        bool& is_object = price ? g.price_object : g.max_object;
        Number& value = price ? g.price : g.max_count;
        value = Number{};
        is_object = s_.peek() == '{';
        if (!is_object) return s_.skip_value();
        return members([&](std::string_view k) {
          if (k == cloud_) return number(value, price ? "price" : "maxCount");
          return s_.skip_value();
        });
      }
      if (key == "dataCenters") return data_centers(g);
      if (key == "cudaVersions") return cuda_versions(g);
      return s_.skip_value();
    });
  }

  bool data_centers(Gpu& g) {
    g.data_centers = true;
    g.stocked.clear();
    g.problem = false;
    auto keep_problem = [&](std::string why) {
      if (!g.problem) g.stocked.emplace_back(std::move(why));
      g.problem = true;
    };
    g.data_centers_list = s_.peek() == '[';
    if (!g.data_centers_list) return s_.skip_value();
    s_.consume('[');
    if (s_.peek() == ']') return s_.consume(']');
    do {
      if (s_.peek() != '{') {
        if (!s_.skip_value()) return false;
        keep_problem("'dataCenters' should hold objects");
        continue;
      }
      Text id, level;
      if (!members([&](std::string_view k) {
            if (k == "id") return text(id, "dataCenters[].id");
            if (k == "availability") return text(level, "availability");
            return s_.skip_value();
          }))
        return false;
      // Only what can become an offer is kept: a hostile catalog of
      // thousands of data centers costs no more than the offers allowed.
      if (!id.value) {
        keep_problem(id.bad.empty() ? "'dataCenters[].id' is missing" : id.bad);
        continue;
      }
      if (!level.bad.empty()) {
        keep_problem(level.bad);
        continue;
      }
      std::string stock = level.value ? stock_word(*level.value) : "";
      if (stock.empty()) continue;  // NONE, or a word the document does not have
      if (!g.problem && g.stocked.size() <= max_) g.stocked.emplace_back(std::pair{*id.value, stock});
    } while (s_.more(']'));
    return !s_.failed();
  }

  bool cuda_versions(Gpu& g) {
    g.cuda.reset();
    g.cuda_bad.clear();
    if (s_.peek() != '[') return s_.skip_value();  // not a list: no CUDA facts
    s_.consume('[');
    if (s_.peek() == ']') return s_.consume(']');
    do {
      if (s_.peek() != '{') {
        if (!s_.skip_value()) return false;
        continue;
      }
      bool available = true;
      Number version;
      if (!members([&](std::string_view k) {
            if (k == "available") {
              const char c = s_.peek();
              if (c == 't' || c == 'f') {
                available = c == 't';
                return s_.literal();
              }
              if (g.cuda_bad.empty()) g.cuda_bad = "'cudaVersions[].available' should be a boolean";
              return s_.skip_value();
            }
            if (k == "version") return number(version, "cudaVersions[].version");
            return s_.skip_value();
          }))
        return false;
      if (!available) continue;
      if (!version.bad.empty() && g.cuda_bad.empty()) g.cuda_bad = version.bad;
      if (version.value) g.cuda = std::max(g.cuda.value_or(0), *version.value);
    } while (s_.more(']'));
    return !s_.failed();
  }

  // In the order a reader of the whole document decides: what is skipped
  // is skipped before anything of it can fail the answer.
  void make_offers(const Gpu& g) {
    if (offers_.size() >= max_) return;  // the rest is not read
    if (!g.id.value) return shape(g.id.bad.empty() ? "'id' is missing" : g.id.bad);
    if (g.offered && !*g.offered) return;
    // No price, or no data center with stock for this tier and count (the
    // document omits dataCenters then): nothing to rent.
    if (!g.price_object || !g.data_centers) return;
    if (!g.data_centers_list) return shape("'dataCenters' should be an array");
    if (!g.price.bad.empty()) return shape(g.price.bad);
    if (!g.price.value || *g.price.value <= 0) return;
    if (g.max_object) {
      if (!g.max_count.bad.empty()) return shape(g.max_count.bad);
      if (g.max_count.value && count_ > *g.max_count.value) return;
    }
    if (!g.name.bad.empty()) return shape(g.name.bad);
    if (!g.memory.bad.empty()) return shape(g.memory.bad);
    const std::string& id = *g.id.value;
    const GpuModel* model = normalize_gpu_name(id, g.memory.value);
    if (!model && g.name.value && !g.name.value->empty())
      model = normalize_gpu_name(*g.name.value, g.memory.value);
    OfferGpu gpu;
    if (model) {
      gpu = catalog_gpu(*model);
    } else {
      if (!g.manufacturer.bad.empty()) return shape(g.manufacturer.bad);
      gpu.model = "unknown:" + id;
      gpu.vram_gb = g.memory.value;
      std::string maker = g.manufacturer.value.value_or("");
      for (auto& c : maker) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (maker.find("amd") != std::string::npos) gpu.vendor = GpuVendor::kAmd;
    }
    gpu.count = count_;
    if (!g.cuda_bad.empty()) return shape(g.cuda_bad);
    const std::string tier = cloud_ == "secure" ? "SECURE" : "COMMUNITY";
    for (const auto& dc : g.stocked) {
      if (offers_.size() >= max_) break;
      if (const auto* why = std::get_if<std::string>(&dc)) return shape(*why);
      const auto& [dc_id, stock] = std::get<std::pair<std::string, std::string>>(dc);
      Offer o;
      o.provider = provider_;
      o.region = dc_id;
      o.location = location(dc_id);
      o.id = id + "/" + cloud_ + "/" + dc_id + "/x" + std::to_string(count_);
      o.gpu = gpu;
      o.arch = arch_of_gpu(o.gpu);
      o.price_per_hour = *g.price.value * count_;  // the catalog prices one GPU
      o.stock = stock;  // a level, not a count: `available` stays unknown
      o.cuda = g.cuda;
      // Container disk is chosen at create (`disk`, from the template);
      // the catalog reports no vCPUs or RAM: those stay unknown.
      o.settable = fact_bit(HostFact::kDisk);
      o.launch_data = {{"gpu_id", id}, {"count", count_}, {"cloud", tier}, {"data_center", dc_id}};
      offers_.push_back(std::move(o));
    }
  }

  const Location& location(const std::string& dc) {
    auto it = locations_.find(dc);
    if (it != locations_.end()) return it->second;
    return locations_.emplace(dc, data_center_location(dc)).first->second;
  }

  json_scan::Scanner s_;
  const std::string& provider_;
  const std::string& cloud_;
  const int count_;
  const std::size_t max_;
  std::string key_, scratch_, error_;
  std::vector<Offer> offers_;
  std::unordered_map<std::string, Location> locations_;
};

}  // namespace

Expected<std::vector<Offer>, std::string> catalog_offers(std::string_view body,
                                                         const std::string& provider,
                                                         const std::string& cloud, int count,
                                                         std::size_t max) {
  return CatalogReader(body, provider, cloud, count, max).read();
}

}  // namespace berth::runpod
