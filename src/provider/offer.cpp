#include "berth/provider/offer.h"

namespace berth {

std::string gpu_summary(const OfferGpu& g) {
  if (g.count <= 0) return "";
  return g.model + " ×" + std::to_string(g.count);
}

const char* fact_key(HostFact f) {
  switch (f) {
    case HostFact::kCpus:
      return "vcpus";
    case HostFact::kMemory:
      return "memory_gb";
    case HostFact::kDisk:
      return "disk_gb";
    case HostFact::kCuda:
      return "cuda";
  }
  return "";
}

bool Offer::knows(HostFact f) const {
  switch (f) {
    case HostFact::kCpus:
      return vcpus.has_value();
    case HostFact::kMemory:
      return memory_gb.has_value();
    case HostFact::kDisk:
      return disk_gb.has_value();
    case HostFact::kCuda:
      return cuda.has_value();
  }
  return false;
}

HostFactSet Offer::unknown_facts() const {
  HostFactSet out = 0;
  for (auto f : kHostFacts)
    if (!knows(f) && !(settable & fact_bit(f))) out |= fact_bit(f);
  return out;
}

bool Offer::materialize_launch_data() {
  if (launch_data_text.empty()) return true;
  if (launch_data.is_null()) {
    auto parsed = nlohmann::json::parse(launch_data_text, nullptr, false);
    if (parsed.is_discarded()) return false;
    launch_data = std::move(parsed);
  }
  launch_data_text.clear();
  launch_data_text.shrink_to_fit();
  return true;
}

namespace {
template <class T>
nlohmann::json opt(const std::optional<T>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}
nlohmann::json text_or_null(const std::string& s) {
  return s.empty() ? nlohmann::json(nullptr) : nlohmann::json(s);
}
std::string text_at(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it == j.end() || it->is_null() ? std::string() : it->get<std::string>();
}
template <class T>
std::optional<T> get_opt(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::nullopt;
  return it->get<T>();
}
}  // namespace

nlohmann::json to_json(const Offer& o) {
  nlohmann::json j = {
      {"provider", o.provider},
      {"id", o.id},
      {"region", o.region},
      {"location",
       {{"country", text_or_null(o.location.country)},
        {"continent", text_or_null(o.location.continent)},
        {"subregion", text_or_null(o.location.subregion)}}},
      {"arch", o.arch == CpuArch::kUnknown ? nlohmann::json(nullptr)
                                           : nlohmann::json(to_string(o.arch))},
      {"gpu",
       {{"model", o.gpu.model},
        {"vendor", to_string(o.gpu.vendor)},
        {"count", o.gpu.count},
        {"vram_gb", opt(o.gpu.vram_gb)},
        {"compute_capability", opt(o.gpu.compute_capability)}}},
      {"vcpus", opt(o.vcpus)},
      {"memory_gb", opt(o.memory_gb)},
      {"disk_gb", opt(o.disk_gb)},
      {"price_per_hour", o.price_per_hour},
      {"spot", o.spot},
      {"available", opt(o.available)},
      {"stock", o.stock.empty() ? nlohmann::json(nullptr) : nlohmann::json(o.stock)},
      {"cuda", opt(o.cuda)},
      {"reliability", opt(o.reliability)},
      {"inet_down_mbps", opt(o.inet_down_mbps)},
  };
  if (!o.launch_data.is_null()) {
    j["launch_data"] = o.launch_data;
  } else if (!o.launch_data_text.empty()) {
    // Checked JSON when it was kept (src/placement/saved_offers.cpp).
    auto parsed = nlohmann::json::parse(o.launch_data_text, nullptr, false);
    if (!parsed.is_discarded()) j["launch_data"] = std::move(parsed);
  }
  if (auto cannot = kAllFeatures & ~o.honours) {
    auto& list = j["cannot"] = nlohmann::json::array();
    for (auto f : features_in(cannot)) list.push_back(feature_name(f));
  }
  auto facts = [](HostFactSet set) {
    nlohmann::json list = nlohmann::json::array();
    for (auto f : kHostFacts)
      if (set & fact_bit(f)) list.push_back(fact_key(f));
    return list;
  };
  if (o.settable) j["settable"] = facts(o.settable);
  if (auto unknown = o.unknown_facts()) j["unknown"] = facts(unknown);
  return j;
}

Expected<Offer, std::string> offer_from_json(const nlohmann::json& j) {
  try {
    if (!j.is_object()) return unexpected(std::string("an offer must be a JSON object"));
    Offer o;
    o.provider = j.at("provider").get<std::string>();
    o.id = j.at("id").get<std::string>();
    o.region = j.value("region", "");
    if (auto it = j.find("location"); it != j.end() && !it->is_null()) {
      if (!it->is_object()) return unexpected(std::string("\"location\" must be an object"));
      o.location.country = text_at(*it, "country");
      o.location.continent = text_at(*it, "continent");
      o.location.subregion = text_at(*it, "subregion");
    }
    if (auto arch = text_at(j, "arch"); !arch.empty()) {
      auto a = cpu_arch_from_name(arch);
      if (!a) return unexpected("unknown arch '" + arch + "' (x86_64 or arm64)");
      o.arch = *a;
    }
    const auto& g = j.at("gpu");
    o.gpu.model = g.value("model", "");
    std::string vendor = g.value("vendor", "nvidia");
    if (vendor != "nvidia" && vendor != "amd")
      return unexpected("unknown GPU vendor '" + vendor + "'");
    o.gpu.vendor = vendor == "amd" ? GpuVendor::kAmd : GpuVendor::kNvidia;
    o.gpu.count = g.value("count", 0);
    o.gpu.vram_gb = get_opt<double>(g, "vram_gb");
    o.gpu.compute_capability = get_opt<double>(g, "compute_capability");
    o.vcpus = get_opt<int>(j, "vcpus");
    o.memory_gb = get_opt<double>(j, "memory_gb");
    o.disk_gb = get_opt<double>(j, "disk_gb");
    o.price_per_hour = j.at("price_per_hour").get<double>();
    o.spot = j.value("spot", false);
    o.available = get_opt<int>(j, "available");
    o.stock = get_opt<std::string>(j, "stock").value_or("");
    o.cuda = get_opt<double>(j, "cuda");
    o.reliability = get_opt<double>(j, "reliability");
    o.inet_down_mbps = get_opt<double>(j, "inet_down_mbps");
    if (auto it = j.find("launch_data"); it != j.end()) o.launch_data = *it;
    if (auto it = j.find("cannot"); it != j.end()) {
      if (!it->is_array()) return unexpected(std::string("\"cannot\" must be a list of names"));
      for (const auto& name : *it) {
        auto f = feature_from_name(name.get<std::string>());
        if (!f) return unexpected("unknown feature '" + name.get<std::string>() + "' in \"cannot\"");
        o.honours &= ~feature_bit(*f);
      }
    }
    // "unknown" is derived (null and not settable); only "settable" is read.
    if (auto it = j.find("settable"); it != j.end()) {
      if (!it->is_array()) return unexpected(std::string("\"settable\" must be a list of names"));
      for (const auto& name : *it) {
        const auto key = name.get<std::string>();
        bool found = false;
        for (auto f : kHostFacts)
          if (key == fact_key(f)) {
            o.settable |= fact_bit(f);
            found = true;
          }
        if (!found) return unexpected("unknown field '" + key + "' in \"settable\"");
      }
    }
    return o;
  } catch (const nlohmann::json::exception& e) {
    return unexpected(std::string("malformed offer: ") + e.what());
  }
}

}  // namespace berth
