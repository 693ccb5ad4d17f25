#include "berth/placement/offer_search.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>

#include "berth/common/output.h"
#include "berth/common/redact.h"
#include "berth/http/http.h"
#include "berth/placement/placement.h"
#include "berth/template/gpu_catalog.h"

namespace berth {

namespace {

// "A..B", "A..", "..B", or one value: exactly that (counts) or at least that
// (sizes, capabilities), as the template format reads the same forms.
template <class T, class Parse>
Expected<Range<T>, std::string> parse_range(const std::string& flag, const std::string& text,
                                            Parse parse_one, bool single_is_exact) {
  Range<T> range;
  auto one = [&](const std::string& part) -> Expected<T, std::string> {
    auto v = parse_one(part);
    if (!v) return unexpected(flag + ": " + v.error());
    return *v;
  };
  auto dots = text.find("..");
  if (dots == std::string::npos) {
    auto v = one(text);
    if (!v) return unexpected(v.error());
    range.min = *v;
    if (single_is_exact) range.max = *v;
    return range;
  }
  std::string lo = text.substr(0, dots), hi = text.substr(dots + 2);
  if (lo.empty() && hi.empty())
    return unexpected(flag + ": '..' needs a bound on at least one side, e.g. 24GB..80GB");
  if (!lo.empty()) {
    auto v = one(lo);
    if (!v) return unexpected(v.error());
    range.min = *v;
  }
  if (!hi.empty()) {
    auto v = one(hi);
    if (!v) return unexpected(v.error());
    range.max = *v;
  }
  if (range.min && range.max && *range.max < *range.min)
    return unexpected(flag + ": the range '" + text +
                      "' is empty (its minimum exceeds its maximum)");
  return range;
}

Expected<int, std::string> parse_count(const std::string& s) {
  int v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v < 0)
    return unexpected("expected a whole number of GPUs, not '" + s + "'");
  return v;
}

Expected<double, std::string> parse_number(const std::string& s) {
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (s.empty() || end != s.c_str() + s.size() || !std::isfinite(v) || v < 0)
    return unexpected("expected a number such as 8.0, not '" + s + "'");
  return v;
}

Expected<std::uint64_t, std::string> parse_size_flag(const std::string& s) {
  auto v = parse_size(s);
  if (!v) return unexpected(v.error());
  return *v;
}

std::string trimmed_number(double v, int decimals) {
  std::string s = fmt::format("{:.{}f}", v, decimals);
  if (s.find('.') != std::string::npos) {
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
  }
  return s;
}

template <class T>
std::string or_dash(const std::optional<T>& v, const std::string& text) {
  return v ? text : "-";
}

}  // namespace

std::optional<OfferSort> offer_sort_from_string(const std::string& s) {
  if (s == "price") return OfferSort::kPrice;
  if (s == "vram") return OfferSort::kVram;
  if (s == "cc") return OfferSort::kComputeCapability;
  return std::nullopt;
}

Expected<OfferFilter, std::string> OfferFilter::create(const OfferFlags& flags,
                                                       std::optional<LaunchTemplate> workload) {
  LaunchTemplate t;
  t.name = "offers";
  auto& gpu = t.resources.gpu;
  for (const auto& name : flags.gpus) {
    auto models = find_gpu_models(name);
    if (models.empty()) {
      auto suggestions = suggest_gpu_models(name);
      std::string hint = suggestions.empty() ? "run 'berth gpus' for the catalog"
                                             : "did you mean '" + suggestions.front() + "'?";
      return unexpected("--gpu: unknown GPU model '" + name + "' (" + hint + ")");
    }
    for (const auto* m : models)
      if (std::find(gpu.models.begin(), gpu.models.end(), m->name) == gpu.models.end())
        gpu.models.push_back(m->name);
  }
  if (flags.vram) {
    auto r = parse_range<std::uint64_t>("--vram", *flags.vram, parse_size_flag, false);
    if (!r) return unexpected(r.error());
    gpu.vram = *r;
  }
  if (flags.count) {
    auto r = parse_range<int>("--gpus", *flags.count, parse_count, true);
    if (!r) return unexpected(r.error());
    gpu.count = *r;
  }
  if (flags.cc) {
    auto r = parse_range<double>("--cc", *flags.cc, parse_number, false);
    if (!r) return unexpected(r.error());
    gpu.compute_capability = *r;
  }
  // Asking for a GPU model, memory or capability means asking for GPUs: a
  // CPU-only offer has no GPU to fail those constraints, so say it here.
  if (!flags.count && (!flags.gpus.empty() || flags.vram || flags.cc)) gpu.count.min = 1;
  if (flags.max_price && (*flags.max_price < 0 || !std::isfinite(*flags.max_price)))
    return unexpected(std::string("--max-price: expected USD per hour, such as 2.50"));
  t.placement.max_price = flags.max_price;
  t.placement.providers = flags.providers;
  t.placement.regions = flags.regions;
  t.placement.spot = flags.spot ? SpotPolicy::kAllow : SpotPolicy::kNever;
  t.resources.arch = CpuArch::kUnknown;  // the flags list every architecture

  OfferFilter filter;
  filter.flags_nvidia_ = t;
  filter.flags_nvidia_.resources.gpu.vendor = GpuVendor::kNvidia;
  filter.flags_amd_ = t;
  filter.flags_amd_.resources.gpu.vendor = GpuVendor::kAmd;
  filter.workload_ = std::move(workload);
  return filter;
}

std::optional<std::string> OfferFilter::unmet(const Offer& offer) const {
  const auto& flags = offer.gpu.vendor == GpuVendor::kAmd ? flags_amd_ : flags_nvidia_;
  if (auto c = unmet_constraint(flags, offer)) return c;
  if (workload_) return unmet_constraint(*workload_, offer);
  return std::nullopt;
}

OfferQuery OfferFilter::query() const {
  const LaunchTemplate& base = workload_ ? *workload_ : flags_nvidia_;
  const auto& flags = flags_nvidia_;
  OfferQuery q;
  const auto& g = base.resources.gpu;
  q.gpu_count = g.count;
  if (flags.resources.gpu.count.min &&
      (!q.gpu_count.min || *q.gpu_count.min < *flags.resources.gpu.count.min))
    q.gpu_count.min = flags.resources.gpu.count.min;
  if (flags.resources.gpu.count.max &&
      (!q.gpu_count.max || *q.gpu_count.max > *flags.resources.gpu.count.max))
    q.gpu_count.max = flags.resources.gpu.count.max;
  for (const auto* t : {&base, &flags})
    if (auto v = t->resources.gpu.vram.min) {
      double gb = bytes_to_gb(*v);
      if (!q.min_vram_gb || *q.min_vram_gb < gb) q.min_vram_gb = gb;
    }
  q.models = !g.models.empty() ? g.models : flags.resources.gpu.models;
  for (const auto* t : {&base, &flags})
    if (t->placement.max_price && (!q.max_price || *t->placement.max_price < *q.max_price))
      q.max_price = t->placement.max_price;
  q.spot = workload_ ? workload_->placement.spot : flags.placement.spot;
  if (!workload_ && flags.placement.spot == SpotPolicy::kAllow) q.spot = SpotPolicy::kAllow;
  q.vendor = g.vendor;
  q.min_cuda = base.resources.cuda.min;
  q.min_reliability = base.placement.min_reliability;
  q.min_inet_mbps = base.placement.min_inet_mbps;
  return q;
}

bool OfferFilter::asks(const std::string& provider) const {
  if (!ProviderSet::selected(provider, flags_nvidia_.placement.providers)) return false;
  if (!workload_) return true;
  if (!ProviderSet::selected(provider, workload_->placement.providers)) return false;
  return workload_->placement.exclude_providers.empty() ||
         !ProviderSet::selected(provider, workload_->placement.exclude_providers);
}

void sort_offers(std::vector<Offer>& offers, OfferSort sort, std::optional<std::size_t> limit) {
  auto key = [sort](const Offer& o) -> double {
    switch (sort) {
      case OfferSort::kPrice:
        return 0;
      case OfferSort::kVram:
        return -o.gpu.vram_gb.value_or(-1);  // most memory first
      case OfferSort::kComputeCapability:
        return -o.gpu.compute_capability.value_or(-1);
    }
    return 0;
  };
  std::stable_sort(offers.begin(), offers.end(), [&](const Offer& a, const Offer& b) {
    double ka = key(a), kb = key(b);
    if (ka != kb) return ka < kb;
    if (a.price_per_hour != b.price_per_hour) return a.price_per_hour < b.price_per_hour;
    if (a.provider != b.provider) return a.provider < b.provider;
    return a.id < b.id;
  });
  if (limit && offers.size() > *limit) offers.resize(*limit);
}

OfferSearch search_offers(const ProviderSet& providers, const OfferFilter& filter, OfferSort sort,
                          std::optional<std::size_t> limit) {
  OfferSearch search;
  std::vector<std::string> names;
  for (const auto* p : providers.all())
    if (filter.asks(p->name())) names.push_back(p->name());
  if (names.empty()) return search;
  auto listing = providers.list_offers(filter.query(), names);
  search.reports = std::move(listing.reports);
  search.received = listing.offers.size();
  for (auto& o : listing.offers)
    if (!filter.unmet(o)) search.offers.push_back(std::move(o));
  sort_offers(search.offers, sort, limit);
  return search;
}

nlohmann::json offers_to_json(const OfferSearch& search, const std::vector<std::string>& secrets) {
  nlohmann::json offers = nlohmann::json::array();
  for (const auto& o : search.offers) offers.push_back(to_json(o));
  nlohmann::json errors = nlohmann::json::array();
  for (const auto& r : search.reports)
    if (r.error)
      errors.push_back({{"provider", r.provider},
                        {"kind", to_string(r.error->kind)},
                        {"message", redact(r.error->message, secrets)}});
  return {{"offers", std::move(offers)}, {"errors", std::move(errors)}};
}

std::string offers_table(const std::vector<Offer>& offers) {
  // LOCATION and ARCH only when some offer knows them, so listings of
  // providers that report neither read as before.
  const bool located = std::any_of(offers.begin(), offers.end(),
                                   [](const Offer& o) { return !o.location.continent.empty(); });
  const bool arch = std::any_of(offers.begin(), offers.end(),
                                [](const Offer& o) { return o.arch != CpuArch::kUnknown; });
  std::vector<std::string> headers = {"PROVIDER", "REGION"};
  std::vector<bool> right = {false, false};
  if (located) headers.push_back("LOCATION"), right.push_back(false);
  if (arch) headers.push_back("ARCH"), right.push_back(false);
  for (const char* h :
       {"GPU", "COUNT", "VRAM", "CC", "VCPUS", "MEM", "DISK", "$/H", "SPOT", "AVAIL", "ID"})
    headers.push_back(h);
  for (bool r : {false, true, true, true, true, true, true, true, false, true, false})
    right.push_back(r);
  Table table(headers, right);
  for (const auto& o : offers) {
    bool gpu = o.gpu.count > 0;
    std::vector<std::string> row = {o.provider, o.region.empty() ? "-" : o.region};
    if (located) row.push_back(location_summary(o.location));
    if (arch) row.push_back(o.arch == CpuArch::kUnknown ? "-" : to_string(o.arch));
    for (auto& cell : std::vector<std::string>{
             gpu ? o.gpu.model : "-",
             std::to_string(o.gpu.count),
             gpu ? or_dash(o.gpu.vram_gb, trimmed_number(o.gpu.vram_gb.value_or(0), 1) + "GB")
                 : "-",
             gpu ? or_dash(o.gpu.compute_capability,
                           fmt::format("{:.1f}", o.gpu.compute_capability.value_or(0)))
                 : "-",
             or_dash(o.vcpus, std::to_string(o.vcpus.value_or(0))),
             or_dash(o.memory_gb, trimmed_number(o.memory_gb.value_or(0), 1) + "GB"),
             or_dash(o.disk_gb, trimmed_number(o.disk_gb.value_or(0), 0) + "GB"),
             o.price_per_hour > 0 && o.price_per_hour < 0.1
                 ? fmt::format("{:.3f}", o.price_per_hour)
                 : fmt::format("{:.2f}", o.price_per_hour),
             o.spot ? "yes" : "no",
             o.available ? std::to_string(*o.available) : o.stock.empty() ? "-" : o.stock,
             o.id,
         })
      row.push_back(std::move(cell));
    table.add_row(row);
  }
  return table.render();
}

std::string offers_csv(const std::vector<Offer>& offers) {
  Table table({"provider", "id", "region", "gpu_model", "gpu_vendor", "gpu_count", "vram_gb",
               "compute_capability", "vcpus", "memory_gb", "disk_gb", "price_per_hour", "spot",
               "available", "stock"});
  auto num = [](const auto& v) { return v ? fmt::format("{}", *v) : std::string(); };
  for (const auto& o : offers)
    table.add_row({o.provider, o.id, o.region, o.gpu.model, to_string(o.gpu.vendor),
                   std::to_string(o.gpu.count), num(o.gpu.vram_gb), num(o.gpu.compute_capability),
                   num(o.vcpus), num(o.memory_gb), num(o.disk_gb),
                   fmt::format("{}", o.price_per_hour), o.spot ? "true" : "false",
                   num(o.available), o.stock});
  return table.render_csv();
}

std::string describe_report(const ProviderReport& r, const std::vector<std::string>& secrets) {
  if (!r.error) {
    std::string text = fmt::format("{}: {} offer{} in {} ms", r.provider, r.count,
                                   r.count == 1 ? "" : "s", r.latency.count());
    if (r.dropped)
      text += fmt::format("; dropped {} with impossible values (first: {})", r.dropped,
                          redact(r.dropped_reason, secrets));
    if (r.cut_at)
      text += fmt::format("; the answer held more than its limit of {} offers, the rest were "
                          "not read (raise 'limit' in the config to see more)",
                          r.cut_at);
    return text;
  }
  return fmt::format("{}: failed ({}) after {} ms: {}", r.provider, to_string(r.error->kind),
                     r.latency.count(), redact(r.error->message, secrets));
}

std::optional<Failure> listing_failure(const std::vector<ProviderReport>& reports) {
  bool all_auth = !reports.empty();
  for (const auto& r : reports) {
    if (!r.error) return std::nullopt;
    if (r.error->kind != ProviderError::Kind::kAuth) all_auth = false;
  }
  if (all_auth)
    return Failure{ExitCode::kAuth, "every provider rejected the credentials",
                   "check the API keys in the config; 'berth providers --check' tests them"};
  return Failure{ExitCode::kProviderFailed, "no provider answered",
                 "the errors above say why; retry later or see 'berth providers --check'"};
}

}  // namespace berth
