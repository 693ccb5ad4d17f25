// The saved-listing reader (src/placement/saved_offers.cpp): a stream straight into
// offers that reads every listing exactly as offer_from_json reads each of
// its offers, keeps launch_data as text until a plan shows the offer, and
// still says where a bad offer is in a file too large to read as a document.
#include "berth/placement/saved_offers.h"

#include <catch2/catch.hpp>
#include <fstream>
#include <random>

#include "berth/placement/planning.h"
#include "support/fake_provider.h"
#include "support/temp_dir.h"

using namespace berth;
using namespace berth::testing;
using nlohmann::json;

namespace {

std::vector<Offer> sample_offers() {
  std::vector<Offer> out;
  Offer a = make_offer("runpod", "NVIDIA H100 80GB HBM3/secure/US-KS-2/x1", "H100", 1, 80, 2.99);
  a.region = "US-KS-2";
  a.location = {"us", "na", "us-ks"};
  a.arch = CpuArch::kX86_64;
  a.stock = "high";
  a.cuda = 12.8;
  a.settable = fact_bit(HostFact::kDisk);
  a.honours = kAllFeatures & ~feature_bit(WorkloadFeature::kUdpPort);
  a.launch_data = {{"gpu_id", "NVIDIA H100 80GB HBM3"},
                   {"count", 1},
                   {"cloud", "SECURE"},
                   {"nested", {{"list", {1, 2.5, "x y", nullptr, true}}, {"text", "a \"q\" \\ é"}}}};
  out.push_back(a);
  Offer b = make_offer("vast", "12345-bid", "RTX4090", 2, 24, 0.41);
  b.region = "se-sweden";
  b.location = {"se", "eu", ""};
  b.arch = CpuArch::kArm64;
  b.vcpus = 32;
  b.memory_gb = 128.5;
  b.disk_gb = 1000;
  b.spot = true;
  b.available = 1;
  b.reliability = 0.9987;
  b.inet_down_mbps = 900.7;
  b.gpu.vendor = GpuVendor::kAmd;
  b.gpu.compute_capability = std::nullopt;
  b.launch_data = {{"ask_id", "12345"}, {"bid", 0.41}};
  out.push_back(b);
  Offer c = make_offer("lab", "gpu1 \u00e9\t\"x\"", "unknown:Odd GPU", 0, 0, 0);
  c.gpu.vram_gb = std::nullopt;
  out.push_back(c);
  return out;
}

json listing(const std::vector<Offer>& offers) {
  json list = json::array();
  for (const auto& o : offers) list.push_back(to_json(o));
  return {{"offers", list},
          {"errors", json::array({{{"provider", "vast"}, {"kind", "auth"}, {"message", "no"}},
                                  {{"provider", 5}},
                                  "odd"})}};
}

}  // namespace

TEST_CASE("saved offers: the stream reads what offer_from_json reads, pretty or compact",
          "[saved_offers]") {
  const auto offers = sample_offers();
  const json doc = listing(offers);
  for (int indent : {-1, 2, 4}) {
    auto saved = parse_saved_offers(doc.dump(indent), "offers.json");
    INFO(indent);
    REQUIRE(saved);
    REQUIRE(saved->offers().size() == offers.size());
    for (std::size_t i = 0; i < offers.size(); ++i) {
      auto expected = offer_from_json(doc["offers"][i]);
      REQUIRE(expected);
      CHECK(to_json(saved->offers()[i]) == to_json(*expected));
      CHECK(to_json(saved->offers()[i]) == to_json(offers[i]));
    }
    REQUIRE(saved->errors.size() == 1);
    CHECK(saved->errors[0].provider == "vast");
    CHECK(saved->errors[0].kind == "auth");
    CHECK(saved->errors[0].message == "no");
  }
}

TEST_CASE("saved offers: a key written otherwise than berth writes it reads the same",
          "[saved_offers]") {
  // The reader matches `"key": ` as berth writes it in place; an escape in a
  // key, a space before the colon, none or a tab after it, or a key a
  // shortcut might take for another ("ids", "gpus") go the long way.
  const std::string pretty = listing(sample_offers()).dump(2);
  const std::pair<std::string, std::string> rewrites[] = {
      {"\"id\": ", "\"\\u0069d\": "},
      {"\"provider\": ", "\"provider\" : "},
      {"\"price_per_hour\": ", "\"price_per_hour\":"},
      {"\"gpu\": ", "\"gpu\":\t"},
      {"\"count\": ", "\"co\\u0075nt\": "},
      {"\"country\": ", "\"country\"\n: "},
      {"\"arch\": ", "\"archs\": 1, \"arch\": "},
      {"\"vcpus\": ", "\"vcpu\": [], \"vcpus\": "},
  };
  for (const auto& [from, to] : rewrites) {
    std::string text = pretty;
    for (std::size_t at = 0; (at = text.find(from, at)) != std::string::npos; at += to.size())
      text.replace(at, from.size(), to);
    INFO(to);
    REQUIRE(text != pretty);
    const auto doc = json::parse(text);
    auto saved = parse_saved_offers(text, "offers.json");
    REQUIRE(saved);
    REQUIRE(saved->offers().size() == doc["offers"].size());
    for (std::size_t i = 0; i < saved->offers().size(); ++i)
      CHECK(to_json(saved->offers()[i]) == to_json(*offer_from_json(doc["offers"][i])));
  }
  // A key twice, once escaped: a key twice all the same (the document's
  // reading: the last wins).
  std::string twice = pretty;
  twice.replace(twice.find("\"id\": "), 6, "\"\\u0069d\": \"first\", \"id\": ");
  auto saved = parse_saved_offers(twice, "offers.json");
  REQUIRE(saved);
  CHECK(saved->offers()[0].id == sample_offers()[0].id);
}

TEST_CASE("saved offers: a number past a double is an error at its place, not a crash",
          "[saved_offers]") {
  // Files the stream refuses; the document reader, reading them again for
  // its wording, throws out_of_range at the number, not parse_error.
  for (const std::string text : {"[88888888e88888888", "{\"offers\": [],\n \"x\": -1e999,}"}) {
    INFO(text);
    auto saved = parse_saved_offers(text, "offers.json");
    REQUIRE_FALSE(saved);
    REQUIRE(saved.error().size() == 1);
    const auto& d = saved.error()[0];
    CHECK(d.message.rfind("not JSON: number overflow parsing '", 0) == 0);
    const auto number = text.find_first_of("-8");
    const auto line_start = text.find('\n') < number ? text.find('\n') + 1 : 0;
    CHECK(d.line == (line_start ? 2 : 1));
    CHECK(d.column == static_cast<int>(number - line_start) + 1);
  }
}

TEST_CASE("saved offers: launch_data stays compact text until the offer is shown",
          "[saved_offers]") {
  const auto offers = sample_offers();
  auto saved = parse_saved_offers(listing(offers).dump(2), "offers.json");
  REQUIRE(saved);
  Offer o = saved->offers()[0];
  CHECK(o.launch_data.is_null());
  // Compact: what dump() writes, the whitespace inside strings kept.
  CHECK(o.launch_data_text == offers[0].launch_data.dump());
  CHECK(json::parse(o.launch_data_text) == offers[0].launch_data);
  CHECK(to_json(o)["launch_data"] == offers[0].launch_data);
  REQUIRE(o.materialize_launch_data());
  CHECK(o.launch_data == offers[0].launch_data);
  CHECK(o.launch_data_text.empty());
}

TEST_CASE("saved offers: what the stream does not take plainly is read as a document was",
          "[saved_offers]") {
  // A count written 2.0, a key twice (the last wins), -0, a boolean price
  // breakdown nobody reads: parse_full decides, as before.
  const std::string text = R"({"offers": [
    {"provider": "p", "id": "a", "gpu": {"count": 2.0, "model": "H100"}, "price_per_hour": 1},
    {"provider": "p", "id": "b", "id": "c", "gpu": {}, "price_per_hour": -0, "x": [true]}
  ]})";
  auto saved = parse_saved_offers(text, "odd.json");
  REQUIRE(saved);
  const auto doc = json::parse(text);
  REQUIRE(saved->offers().size() == 2);
  for (std::size_t i = 0; i < 2; ++i)
    CHECK(to_json(saved->offers()[i]) == to_json(*offer_from_json(doc["offers"][i])));
  CHECK(saved->offers()[0].gpu.count == 2);
  CHECK(saved->offers()[1].id == "c");
}

TEST_CASE("saved offers: a bad offer in a file too large to read twice is named at its place",
          "[saved_offers]") {
  TempDir dir;
  const auto path = dir.path() / "big.json";
  int n = 0;
  {
    std::ofstream out(path);
    const std::string one = to_json(sample_offers()[0]).dump(2);
    out << "{\"offers\": [\n";
    // Past the 32 MiB a file is read as a document at most.
    n = static_cast<int>((33u << 20) / one.size()) + 10;
    for (int i = 0; i < n; ++i) {
      out << (i ? ",\n" : "");
      if (i == n - 2)
        out << "{\"provider\": \"p\", \"id\": \"x\", \"gpu\": {}, \"price_per_hour\": \"free\"}";
      else
        out << one;
    }
    out << "\n]}\n";
  }
  REQUIRE(std::filesystem::file_size(path) > (32u << 20));
  auto saved = read_saved_offers(path);
  REQUIRE_FALSE(saved);
  REQUIRE(saved.error().size() == 1);
  const auto& d = saved.error()[0];
  CHECK(d.file == path.string());
  CHECK(d.message.rfind("offers[" + std::to_string(n - 2) + "]: ", 0) == 0);
  CHECK(d.column == 1);
  CHECK(d.source_line.rfind("{\"provider\": \"p\"", 0) == 0);
  // The line it names is that offer's.
  std::ifstream in(path);
  std::string line;
  for (int i = 0; i < d.line; ++i) std::getline(in, line);
  CHECK(line.rfind("{\"provider\": \"p\", \"id\": \"x\"", 0) == 0);
  CHECK(d.hint == "save offers with: berth offers TEMPLATE -o json > FILE");
}

TEST_CASE("saved offers: a byte that is not UTF-8 in a file too large to read twice",
          "[saved_offers]") {
  TempDir dir;
  const auto path = dir.path() / "big.json";
  const std::string one = to_json(sample_offers()[1]).dump(2);
  const int n = static_cast<int>((33u << 20) / one.size()) + 10;
  {
    std::ofstream out(path, std::ios::binary);
    out << "{\"offers\": [\n";
    for (int i = 0; i < n; ++i) {
      out << (i ? ",\n" : "");
      if (i == n / 2)
        out << "{\"provider\": \"p\xff\"}";
      else
        out << one;
    }
    out << "\n]}\n";
  }
  auto saved = read_saved_offers(path);
  REQUIRE_FALSE(saved);
  REQUIRE(saved.error().size() == 1);
  const auto& d = saved.error()[0];
  CHECK(d.message == "invalid UTF-8 (byte 0xFF)");
  CHECK(d.hint == "save the file as UTF-8");
  CHECK(d.column == 16);  // the byte after {"provider": "p
  std::ifstream in(path, std::ios::binary);
  std::string line;
  for (int i = 0; i < d.line; ++i) std::getline(in, line);
  CHECK(line == "{\"provider\": \"p\xff\"},");
}

TEST_CASE("saved offers: a large listing is read whole", "[saved_offers]") {
  TempDir dir;
  const auto path = dir.path() / "many.json";
  json list = json::array();
  for (int i = 0; i < 5000; ++i) {
    Offer o = sample_offers()[static_cast<std::size_t>(i % 3)];
    o.id += "-" + std::to_string(i);
    list.push_back(to_json(o));
  }
  std::ofstream(path) << json{{"offers", list}, {"errors", json::array()}}.dump(2);
  auto saved = read_saved_offers(path);
  REQUIRE(saved);
  REQUIRE(saved->offers().size() == 5000);
  CHECK(saved->offers()[4999].id == list[4999]["id"]);
  CHECK(to_json(saved->offers()[1234]) == to_json(*offer_from_json(list[1234])));
}

TEST_CASE("saved offers: a listing read in parts is the listing read by one reader",
          "[saved_offers]") {
  // Over 16 MiB, the offers are read in parts of ~2 MiB, each starting at
  // an offer, on as many threads as there are cores; the result is the
  // same offers in the same order.
  TempDir dir;
  const auto path = dir.path() / "two.json";
  json list = json::array();
  const int n = 26000;  // ~800 bytes each, pretty-printed: ~21 MB
  for (int i = 0; i < n; ++i) {
    Offer o = sample_offers()[static_cast<std::size_t>(i % 3)];
    o.id += "-" + std::to_string(i);
    list.push_back(to_json(o));
  }
  std::ofstream(path) << json{{"offers", list}, {"errors", json::array()}}.dump(2);
  REQUIRE(std::filesystem::file_size(path) > (16u << 20));
  auto saved = read_saved_offers(path);
  REQUIRE(saved);
  REQUIRE(saved->offers().size() == static_cast<std::size_t>(n));
  for (int i = 0; i < n; i += 997)
    CHECK(to_json(saved->offers()[static_cast<std::size_t>(i)]) ==
          to_json(*offer_from_json(list[static_cast<std::size_t>(i)])));
  CHECK(saved->offers().back().id == list.back()["id"]);
}

TEST_CASE("saved offers: a part that starts inside an offer is not believed", "[saved_offers]") {
  // Each offer ends with launch_data holding ",\n{" at the offers' own
  // indentation, after a long region, so most places a part would start
  // are inside an offer (the middle is made one of them).
  const std::string pad(600, 'p');
  auto offer_text = [&](int i) {
    return "{\"provider\": \"p\", \"id\": \"o" + std::to_string(i) + "\", \"region\": \"" + pad +
           "\", \"gpu\": {\"model\": \"H100\", \"count\": 1}, \"price_per_hour\": 1.5, "
           "\"launch_data\": {\"a\": [\n{\"b\": 1},\n{\"c\": 2}]}}";
  };
  const int n = 24000;
  std::string body;
  for (int i = 0; i < n; ++i) body += (i ? ",\n" : "") + offer_text(i);
  std::string text;
  for (int extra = 0;; ++extra) {
    REQUIRE(extra < 200);
    text = "{\"offers\": [\n" + body + "\n]}\n";
    const std::size_t first = text.find('{', 12);
    const std::size_t at = text.find(",\n{", first + (text.size() - first) / 2);
    if (text.compare(at + 3, 4, "\"c\":") == 0) break;  // inside an offer's launch_data
    // The indentation before the first offer is what is looked for: keep it
    // a line break alone, and shift the middle with a longer first region.
    body.insert(body.find(pad), "q");
  }
  REQUIRE(text.size() > (16u << 20));
  TempDir dir;
  const auto path = dir.path() / "trap.json";
  std::ofstream(path) << text;
  auto saved = read_saved_offers(path);
  REQUIRE(saved);
  REQUIRE(saved->offers().size() == static_cast<std::size_t>(n));
  CHECK(saved->offers()[static_cast<std::size_t>(n / 2)].id == "o" + std::to_string(n / 2));
  CHECK(saved->offers().back().id == "o" + std::to_string(n - 1));
}

TEST_CASE("saved offers: a listing screened as it is read plans as the listing read whole",
          "[saved_offers]") {
  // plan --offers screens each offer on the thread that read it and keeps
  // only what the screen holds on to; the plan must be the one made from
  // every offer, for a listing read in parts (over 16 MiB), one read alone,
  // and one read as a document.
  LaunchTemplate w;
  w.name = "screened";
  w.resources.gpu.count = {1, 2};
  w.resources.gpu.vram = {40'000'000'000ull, std::nullopt};
  w.placement.max_price = 3.0;
  w.placement.regions = {"us", "eu-*", "nowhere"};
  w.replicas = 2;
  w.spread = Spread::kProvider;
  const char* providers[] = {"lambda", "runpod", "vast"};
  const char* regions[] = {"US-KS-2", "se-sweden", "us-east-1", "ap-tokyo"};
  const std::vector<Location> locations = {
      {"us", "na", "us-ks"}, {"se", "eu", ""}, {"us", "na", "us-va"}, {"jp", "as", ""}};
  std::mt19937 rng(5);
  auto listing_of = [&](int n) {
    json list = json::array();
    for (int i = 0; i < n; ++i) {
      Offer o = make_offer(providers[rng() % 3], "o" + std::to_string(i),
                           rng() % 2 ? "H100" : "RTX4090", 1 + static_cast<int>(rng() % 3),
                           rng() % 2 ? 80 : 24, 0.2 + static_cast<double>(rng() % 500) / 100.0);
      const auto r = rng() % 4;
      o.region = regions[r];
      o.location = locations[r];
      o.launch_data = {{"n", i}};
      list.push_back(to_json(o));
    }
    return json{{"offers", list}, {"errors", json::array()}};
  };
  TempDir dir;
  struct Case {
    const char* name;
    int offers;
    int indent;
  };
  for (const Case& c :
       {Case{"parts", 26000, 2}, Case{"alone", 500, 2}, Case{"document", 300, -1}}) {
    INFO(c.name);
    json doc = listing_of(c.offers);
    std::string text = doc.dump(c.indent);
    // A count written 1.0 is not taken plainly by the stream: the file is
    // read as a document (and screened after).
    const bool document = std::string(c.name) == "document";
    if (document) text.replace(text.find("\"count\":1"), 9, "\"count\":1.0");
    const auto path = dir.write(std::string(c.name) + ".json", text);
    if (c.offers > 20000) REQUIRE(std::filesystem::file_size(path) > (16u << 20));

    auto whole = read_saved_offers(path);
    REQUIRE(whole);
    REQUIRE(whole->offers().size() == static_cast<std::size_t>(c.offers));
    const Planning reference = plan_from_offers(w, whole->offers());
    REQUIRE(reference.plan.placement.size() == 2);

    const PlacementOptions options;
    const ScreenWith with{w, options};
    auto screened = read_saved_offers(path, &with);
    REQUIRE(screened);
    REQUIRE(screened->screen);
    // Read as a stream, only what the screen holds on to is kept.
    if (document)
      CHECK(screened->offers().size() == static_cast<std::size_t>(c.offers));
    else
      CHECK(screened->offers().size() < static_cast<std::size_t>(c.offers) / 2);
    const Planning planned = plan_from_screen(w, std::move(*screened->screen), options);
    CHECK(to_json(planned.plan) == to_json(reference.plan));
  }
}

TEST_CASE("saved offers: a screened listing that places nothing names the unknown region word",
          "[saved_offers]") {
  LaunchTemplate w;
  w.name = "nowhere";
  w.resources.gpu.count = {1, 1};
  w.placement.regions = {"atlantis"};
  TempDir dir;
  const auto path = dir.write("few.json", listing(sample_offers()).dump(2));
  const PlacementOptions options;
  const ScreenWith with{w, options};
  auto screened = read_saved_offers(path, &with);
  REQUIRE(screened);
  const Planning planned = plan_from_screen(w, std::move(*screened->screen), options);
  REQUIRE(planned.failure);
  auto whole = read_saved_offers(path);
  const Planning reference = plan_from_offers(w, whole->offers());
  REQUIRE(reference.failure);
  CHECK(planned.failure->hint == reference.failure->hint);
  CHECK(planned.failure->hint.find("'atlantis'") != std::string::npos);
}
