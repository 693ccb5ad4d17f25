// The fan-out: one thread per provider, all sharing one HTTP client whose
// event loop multiplexes their transfers. A provider that fails, throws or
// answers nonsense becomes a report, never a failure of the others.
#include "berth/config/provider_set.h"

#include <fmt/format.h>
#include <fnmatch.h>

#include <chrono>
#include <cmath>
#include <exception>
#include <thread>

#include "berth/common/cancel.h"
#include "berth/common/process.h"
#include "berth/common/units.h"

namespace berth {

std::optional<std::string> offer_insanity(const Offer& o) {
  auto outside = [](double v, double lo, double hi) { return !std::isfinite(v) || v < lo || v > hi; };
  // Bounds far beyond any machine rented today, and far inside what the
  // arithmetic after them can hold.
  if (outside(o.price_per_hour, 0, 10'000))
    return fmt::format("price {:g}/h is impossible", o.price_per_hour);
  if (o.gpu.count < 0 || o.gpu.count > 64)
    return fmt::format("a GPU count of {} is impossible", o.gpu.count);
  if (o.gpu.vram_gb && outside(*o.gpu.vram_gb, 0.001, 4096))
    return fmt::format("{:g} GB of VRAM per GPU is impossible", *o.gpu.vram_gb);
  if (o.gpu.compute_capability && outside(*o.gpu.compute_capability, 1, 99))
    return fmt::format("compute capability {:g} is impossible", *o.gpu.compute_capability);
  if (o.vcpus && (*o.vcpus < 1 || *o.vcpus > 16'384))
    return fmt::format("{} vCPUs is impossible", *o.vcpus);
  if (o.memory_gb && outside(*o.memory_gb, 0.001, 1e6))
    return fmt::format("{:g} GB of RAM is impossible", *o.memory_gb);
  if (o.disk_gb && outside(*o.disk_gb, 0, 1e7))
    return fmt::format("{:g} GB of disk is impossible", *o.disk_gb);
  if (o.cuda && outside(*o.cuda, 1, 99)) return fmt::format("CUDA {:g} is impossible", *o.cuda);
  if (o.available && *o.available < 0)
    return fmt::format("{} available is impossible", *o.available);
  if (o.id.empty()) return std::string("an offer without an id");
  if (o.id.size() > 512) return fmt::format("an id of {} bytes", o.id.size());
  // Control characters in an id or region are kept: what berth prints
  // escapes them (output.h), and JSON carries them exactly.
  return std::nullopt;
}

namespace {

using Clock = std::chrono::steady_clock;

/// How close to its offers deadline a provider's failure counts as late.
constexpr Duration kDeadlineSlack{100};

// Runs `call` for each provider in its own thread; results land in the slot
// of their provider so the output order is the config order, whatever the
// order of answers.
template <class Result, class Call>
std::vector<std::pair<ProviderReport, Result>> fan_out(const std::vector<Provider*>& providers,
                                                       Call call) {
  std::vector<std::pair<ProviderReport, Result>> slots(providers.size());
  std::vector<std::thread> threads;
  threads.reserve(providers.size());
  for (std::size_t i = 0; i < providers.size(); ++i) {
    threads.emplace_back([&, i] {
      Provider* p = providers[i];
      auto& [report, result] = slots[i];
      report.provider = p->name();
      auto started = Clock::now();
      try {
        call(*p, report, result);
      } catch (const std::exception& e) {
        // An adapter must not throw; if it does, the command still answers.
        report.error = ProviderError{ProviderError::Kind::kBadResponse,
                                     std::string("internal error in the adapter: ") + e.what()};
      } catch (...) {
        report.error =
            ProviderError{ProviderError::Kind::kBadResponse, "internal error in the adapter"};
      }
      report.latency = std::chrono::duration_cast<Duration>(Clock::now() - started);
    });
  }
  for (auto& t : threads) t.join();
  return slots;
}

}  // namespace

bool ProviderSet::selected(const std::string& name, const std::vector<std::string>& globs) {
  if (globs.empty()) return true;
  for (const auto& g : globs)
    if (fnmatch(g.c_str(), name.c_str(), 0) == 0) return true;
  return false;
}

Expected<ProviderSet, std::string> ProviderSet::create(const Config& config,
                                                       HttpOptions http_options,
                                                       const std::vector<ProviderType>& types) {
  ProviderSet set;
  auto secrets = config.secrets();
  http_options.secrets.insert(http_options.secrets.end(), secrets.begin(), secrets.end());
  set.http_ = make_curl_http_client(std::move(http_options));
  set.context_ = std::make_unique<ProviderContext>();
  set.context_->http = set.http_.get();
  set.context_->processes = &system_process_runner();
  set.context_->runtime = config.runtime;
  set.disabled_ = config.disabled;
  // Adapters that reach hosts over SSH pin host keys under berth's state
  // directory and use the key deploy uses: the configured one, else berth's
  // own once it exists. Building a provider set never creates a key: listing
  // offers must not leave files behind.
  set.context_->state_dir = state_dir(Environment::process());
  if (config.ssh_key) {
    set.context_->ssh_key = *config.ssh_key;
  } else {
    std::error_code ec;
    auto own = set.context_->state_dir / "id_ed25519";
    if (std::filesystem::exists(own, ec)) set.context_->ssh_key = own;
  }
  // Every provider that cannot be built is reported, each once: adapters'
  // messages name their provider already, others get its name in front.
  std::string failures;
  for (const auto& pc : config.providers) {
    const ProviderType* type = nullptr;
    for (const auto& t : types)
      if (t.type == pc.type) type = &t;
    std::string failure;
    if (!type || !type->create) {
      failure = "provider '" + pc.name + "': unknown type '" + pc.type + "'";
    } else if (auto provider = type->create(pc, *set.context_)) {
      set.providers_.push_back(std::move(*provider));
      set.limits_.push_back(offer_limit(pc));
      set.offers_timeouts_.push_back(pc.offers_timeout);
      continue;
    } else {
      failure = provider.error();
      if (failure.rfind("provider '" + pc.name + "'", 0) != 0)
        failure = "provider '" + pc.name + "': " + failure;
    }
    failures += (failures.empty() ? "" : "; ") + failure;
  }
  if (!failures.empty()) return unexpected(failures);
  return set;
}

std::vector<Provider*> ProviderSet::all() const {
  std::vector<Provider*> out;
  for (const auto& p : providers_) out.push_back(p.get());
  return out;
}

Duration ProviderSet::offers_timeout(const Provider& provider) const {
  for (std::size_t i = 0; i < providers_.size(); ++i)
    if (providers_[i].get() == &provider && i < offers_timeouts_.size() && offers_timeouts_[i])
      return *offers_timeouts_[i];
  return provider.capabilities().offers_timeout;
}

Provider* ProviderSet::find(const std::string& name) const {
  for (const auto& p : providers_)
    if (p->name() == name) return p.get();
  return nullptr;
}

namespace {
std::vector<Provider*> pick(const std::vector<Provider*>& all,
                            const std::vector<std::string>& only) {
  std::vector<Provider*> out;
  for (auto* p : all)
    if (ProviderSet::selected(p->name(), only)) out.push_back(p);
  return out;
}
}  // namespace

OfferListing ProviderSet::list_offers(const OfferQuery& query,
                                      const std::vector<std::string>& only) const {
  auto limit_of = [this](const Provider& p) -> std::size_t {
    for (std::size_t i = 0; i < providers_.size() && i < limits_.size(); ++i)
      if (providers_[i].get() == &p) return limits_[i];
    return kDefaultOfferLimit;
  };
  auto slots = fan_out<std::vector<Offer>>(
      pick(all(), only), [&](Provider& p, ProviderReport& report, std::vector<Offer>& offers) {
        // The provider's deadline bounds every request and subprocess it
        // makes on this thread (berth/common/cancel.h: ScopedCallDeadline).
        const Duration within = offers_timeout(p);
        const auto started = Clock::now();
        ScopedCallDeadline deadline(started + within);
        auto r = p.list_offers(query);
        // A failure at the deadline is the deadline's doing (a transfer's own
        // timer may fire a little before the steady clock reaches it).
        if (!r && Clock::now() - started + kDeadlineSlack >= within) {
          report.error = ProviderError{
              ProviderError::Kind::kTransient,
              fmt::format("no offers within {} (its offers deadline; offers_timeout in the "
                          "config sets another)",
                          format_duration(within))};
          return;
        }
        if (!r) {
          report.error = r.error();
          return;
        }
        offers = std::move(*r);
        // At most `limit` offers per provider. Adapters stop reading an
        // answer one past it (that one says there were more); this also
        // bounds any that does not.
        const std::size_t limit = limit_of(p);
        if (offers.size() > limit) report.cut_at = limit;
        // The provider field is the config name, whatever the adapter wrote.
        // So are what it can honour of a workload: its own word, not the offer's.
        const FeatureSet honours = p.capabilities().honours;
        std::size_t kept = 0;
        for (auto& o : offers) {
          if (kept == limit) break;
          if (auto why = offer_insanity(o)) {
            if (report.dropped++ == 0) report.dropped_reason = *why;
            continue;
          }
          o.provider = p.name();
          o.honours = honours;
          if (&offers[kept] != &o) offers[kept] = std::move(o);
          ++kept;
        }
        offers.resize(kept);
        report.count = offers.size();
      });
  OfferListing listing;
  for (auto& [report, offers] : slots) {
    listing.reports.push_back(std::move(report));
    for (auto& o : offers) listing.offers.push_back(std::move(o));
  }
  return listing;
}

InstanceListing ProviderSet::list_instances(const std::vector<std::string>& only) const {
  auto slots = fan_out<std::vector<Instance>>(
      pick(all(), only),
      [&](Provider& p, ProviderReport& report, std::vector<Instance>& instances) {
        auto r = p.list();
        if (!r) {
          report.error = r.error();
          return;
        }
        instances = std::move(*r);
        for (auto& i : instances) i.provider = p.name();
        report.count = instances.size();
      });
  InstanceListing listing;
  for (auto& [report, instances] : slots) {
    listing.reports.push_back(std::move(report));
    for (auto& i : instances) listing.instances.push_back(std::move(i));
  }
  return listing;
}

std::vector<ProviderReport> ProviderSet::check_credentials(
    const std::vector<std::string>& only) const {
  struct Nothing {};
  auto slots =
      fan_out<Nothing>(pick(all(), only), [](Provider& p, ProviderReport& report, Nothing&) {
        if (auto r = p.check_credentials(); !r) report.error = r.error();
      });
  std::vector<ProviderReport> reports;
  for (auto& [report, nothing] : slots) reports.push_back(std::move(report));
  return reports;
}

}  // namespace berth
