// The curl_* functions berth uses, defined here and forwarded to libcurl as
// opened by dlopen() on the first call (see curl_loader.h for why).
#define CURL_DISABLE_TYPECHECK  // curl_easy_setopt must stay a function here
#include "http/curl_loader.h"

#include <curl/curl.h>
#include <dlfcn.h>

#include <atomic>
#include <cstdarg>
#include <mutex>

namespace berth::curl_loader {

namespace {

// One pointer per forwarded function, named after it.
struct Api {
  decltype(&::curl_global_init) global_init;
  decltype(&::curl_free) free;
  decltype(&::curl_easy_init) easy_init;
  decltype(&::curl_easy_cleanup) easy_cleanup;
  decltype(&::curl_easy_perform) easy_perform;
  decltype(&::curl_easy_setopt) easy_setopt;
  decltype(&::curl_easy_getinfo) easy_getinfo;
  decltype(&::curl_easy_strerror) easy_strerror;
  decltype(&::curl_slist_append) slist_append;
  decltype(&::curl_slist_free_all) slist_free_all;
  decltype(&::curl_url) url;
  decltype(&::curl_url_cleanup) url_cleanup;
  decltype(&::curl_url_set) url_set;
  decltype(&::curl_url_get) url_get;
  decltype(&::curl_multi_init) multi_init;
  decltype(&::curl_multi_cleanup) multi_cleanup;
  decltype(&::curl_multi_wakeup) multi_wakeup;
  decltype(&::curl_multi_add_handle) multi_add_handle;
  decltype(&::curl_multi_remove_handle) multi_remove_handle;
  decltype(&::curl_multi_perform) multi_perform;
  decltype(&::curl_multi_info_read) multi_info_read;
  decltype(&::curl_multi_poll) multi_poll;
};

Api g_table;
// Set, after g_table is complete and curl_global_init has run, by the first
// successful load; never reset (the library stays open for the process).
std::atomic<const Api*> g_api{nullptr};
std::mutex g_mutex;

std::string failure(const std::string& library, const std::string& why) {
  return "cannot load " + library + " (" + why +
         "): HTTP requests need libcurl; install the libcurl4 package";
}

template <class F>
bool resolve(void* handle, const char* name, F& slot) {
  slot = reinterpret_cast<F>(dlsym(handle, name));
  return slot != nullptr;
}

}  // namespace

Expected<void, std::string> load(const std::string& library) {
  std::lock_guard lock(g_mutex);
  // Opening a library already open only takes a reference, and tells a name
  // that cannot be loaded apart even after another one was.
  void* handle = dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char* why = dlerror();
    return unexpected(failure(library, why ? why : "dlopen failed"));
  }
  if (g_api.load(std::memory_order_acquire)) {
    dlclose(handle);
    return {};
  }
  Api t{};
  const char* missing = nullptr;
#define BERTH_RESOLVE(field, name) \
  if (!missing && !resolve(handle, #name, t.field)) missing = #name;
  BERTH_RESOLVE(global_init, curl_global_init)
  BERTH_RESOLVE(free, curl_free)
  BERTH_RESOLVE(easy_init, curl_easy_init)
  BERTH_RESOLVE(easy_cleanup, curl_easy_cleanup)
  BERTH_RESOLVE(easy_perform, curl_easy_perform)
  BERTH_RESOLVE(easy_setopt, curl_easy_setopt)
  BERTH_RESOLVE(easy_getinfo, curl_easy_getinfo)
  BERTH_RESOLVE(easy_strerror, curl_easy_strerror)
  BERTH_RESOLVE(slist_append, curl_slist_append)
  BERTH_RESOLVE(slist_free_all, curl_slist_free_all)
  BERTH_RESOLVE(url, curl_url)
  BERTH_RESOLVE(url_cleanup, curl_url_cleanup)
  BERTH_RESOLVE(url_set, curl_url_set)
  BERTH_RESOLVE(url_get, curl_url_get)
  BERTH_RESOLVE(multi_init, curl_multi_init)
  BERTH_RESOLVE(multi_cleanup, curl_multi_cleanup)
  BERTH_RESOLVE(multi_wakeup, curl_multi_wakeup)
  BERTH_RESOLVE(multi_add_handle, curl_multi_add_handle)
  BERTH_RESOLVE(multi_remove_handle, curl_multi_remove_handle)
  BERTH_RESOLVE(multi_perform, curl_multi_perform)
  BERTH_RESOLVE(multi_info_read, curl_multi_info_read)
  BERTH_RESOLVE(multi_poll, curl_multi_poll)
#undef BERTH_RESOLVE
  if (missing) {
    dlclose(handle);
    return unexpected(failure(library, std::string("it has no ") + missing + "; too old?"));
  }
  // Before any other curl call, as libcurl requires; once per process.
  if (CURLcode rc = t.global_init(CURL_GLOBAL_DEFAULT); rc != CURLE_OK) {
    dlclose(handle);
    return unexpected(failure(library, std::string("curl_global_init failed: ") +
                                           t.easy_strerror(rc)));
  }
  g_table = t;
  g_api.store(&g_table, std::memory_order_release);
  return {};
}

namespace {

// The table for a forwarder: loads the default library if nobody did yet;
// null when it cannot be loaded, and the forwarder then fails like curl does
// when it runs out of resources.
const Api* api() {
  if (const Api* a = g_api.load(std::memory_order_acquire)) return a;
  (void)load();
  return g_api.load(std::memory_order_acquire);
}

}  // namespace

}  // namespace berth::curl_loader

using berth::curl_loader::api;

extern "C" {

CURLcode curl_global_init(long) {
  // load() runs the real curl_global_init once, before anything else.
  return api() ? CURLE_OK : CURLE_FAILED_INIT;
}

void curl_free(void* p) {
  if (auto a = api()) a->free(p);
}

CURL* curl_easy_init() {
  auto a = api();
  return a ? a->easy_init() : nullptr;
}

void curl_easy_cleanup(CURL* e) {
  if (auto a = api()) a->easy_cleanup(e);
}

CURLcode curl_easy_perform(CURL* e) {
  auto a = api();
  return a ? a->easy_perform(e) : CURLE_FAILED_INIT;
}

// Variadic: the argument is read with the type curl.h gives the option's
// range (CURLOPTTYPE_*) and passed on with that same type.
CURLcode curl_easy_setopt(CURL* e, CURLoption option, ...) {
  auto a = api();
  if (!a) return CURLE_FAILED_INIT;
  va_list args;
  va_start(args, option);
  CURLcode rc;
  if (option < CURLOPTTYPE_OBJECTPOINT) {  // LONG (and VALUES)
    rc = a->easy_setopt(e, option, va_arg(args, long));
  } else if (option < CURLOPTTYPE_FUNCTIONPOINT) {  // OBJECT/STRING/SLIST/CBPOINT
    rc = a->easy_setopt(e, option, va_arg(args, void*));
  } else if (option < CURLOPTTYPE_OFF_T) {  // FUNCTIONPOINT
    using Fn = void (*)();
    rc = a->easy_setopt(e, option, va_arg(args, Fn));
  } else if (option < CURLOPTTYPE_BLOB) {  // OFF_T
    rc = a->easy_setopt(e, option, va_arg(args, curl_off_t));
  } else {  // BLOB: struct curl_blob*
    rc = a->easy_setopt(e, option, va_arg(args, void*));
  }
  va_end(args);
  return rc;
}

// Every CURLINFO_* takes one pointer to where the answer goes.
CURLcode curl_easy_getinfo(CURL* e, CURLINFO info, ...) {
  auto a = api();
  if (!a) return CURLE_FAILED_INIT;
  va_list args;
  va_start(args, info);
  void* out = va_arg(args, void*);
  va_end(args);
  return a->easy_getinfo(e, info, out);
}

const char* curl_easy_strerror(CURLcode code) {
  auto a = api();
  return a ? a->easy_strerror(code) : "libcurl could not be loaded";
}

curl_slist* curl_slist_append(curl_slist* list, const char* s) {
  auto a = api();
  return a ? a->slist_append(list, s) : nullptr;
}

void curl_slist_free_all(curl_slist* list) {
  if (auto a = api()) a->slist_free_all(list);
}

CURLU* curl_url() {
  auto a = api();
  return a ? a->url() : nullptr;
}

void curl_url_cleanup(CURLU* u) {
  if (auto a = api()) a->url_cleanup(u);
}

CURLUcode curl_url_set(CURLU* u, CURLUPart part, const char* content, unsigned int flags) {
  auto a = api();
  return a ? a->url_set(u, part, content, flags) : CURLUE_OUT_OF_MEMORY;
}

CURLUcode curl_url_get(CURLU* u, CURLUPart part, char** content, unsigned int flags) {
  auto a = api();
  return a ? a->url_get(u, part, content, flags) : CURLUE_OUT_OF_MEMORY;
}

CURLM* curl_multi_init() {
  auto a = api();
  return a ? a->multi_init() : nullptr;
}

CURLMcode curl_multi_cleanup(CURLM* m) {
  auto a = api();
  return a ? a->multi_cleanup(m) : CURLM_INTERNAL_ERROR;
}

CURLMcode curl_multi_wakeup(CURLM* m) {
  auto a = api();
  return a ? a->multi_wakeup(m) : CURLM_INTERNAL_ERROR;
}

CURLMcode curl_multi_add_handle(CURLM* m, CURL* e) {
  auto a = api();
  return a ? a->multi_add_handle(m, e) : CURLM_INTERNAL_ERROR;
}

CURLMcode curl_multi_remove_handle(CURLM* m, CURL* e) {
  auto a = api();
  return a ? a->multi_remove_handle(m, e) : CURLM_INTERNAL_ERROR;
}

CURLMcode curl_multi_perform(CURLM* m, int* running) {
  auto a = api();
  return a ? a->multi_perform(m, running) : CURLM_INTERNAL_ERROR;
}

CURLMsg* curl_multi_info_read(CURLM* m, int* left) {
  auto a = api();
  return a ? a->multi_info_read(m, left) : nullptr;
}

CURLMcode curl_multi_poll(CURLM* m, curl_waitfd extra[], unsigned int n, int timeout_ms,
                          int* numfds) {
  auto a = api();
  return a ? a->multi_poll(m, extra, n, timeout_ms, numfds) : CURLM_INTERNAL_ERROR;
}

}  // extern "C"
