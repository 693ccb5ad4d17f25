// The image reader `up` and `watch` use: an image's ENTRYPOINT, CMD and
// WORKDIR from its registry (image_config.h), for providers that start the
// process themselves. Any failure stops the launch before anything is rented.
#include "berth/deploy/deploy.h"
#include "berth/http/image_config.h"

#include <memory>

namespace berth {

ImageReader registry_image_reader(HttpClient& http) {
  return [&http](const WorkloadSpec& container) -> Expected<ImageProcess, Failure> {
    auto ref = parse_image_reference(container.image);
    if (!ref)
      return unexpected(Failure{ExitCode::kInvalidInput,
                                "image: " + ref.error(), "use an OCI image reference"});
    std::optional<RegistryCredentials> credentials;
    if (container.registry)
      credentials = RegistryCredentials{container.registry->username, container.registry->password};
    auto config = read_image_config(http, *ref, credentials);
    if (!config) {
      const auto& e = config.error();
      if (e.kind == ImageConfigError::Kind::kInterrupted)
        return unexpected(Failure{ExitCode::kInterrupted, "interrupted", ""});
      std::string hint =
          e.kind == ImageConfigError::Kind::kAuth
              ? "check registry_auth in the template"
              : "the provider starts the image's process itself, so berth must read the image's "
                "config from its registry first; nothing was launched";
      return unexpected(Failure{ExitCode::kProviderFailed,
                                "cannot read the config of image " + container.image + ": " +
                                    e.message,
                                hint});
    }
    return ImageProcess{config->entrypoint, config->cmd, config->working_dir};
  };
}

std::function<std::optional<CpuArch>()> registry_arch_reader(HttpClient& http,
                                                             const LaunchTemplate& workload) {
  auto memo = std::make_shared<std::optional<std::optional<CpuArch>>>();
  return [&http, &workload, memo]() -> std::optional<CpuArch> {
    if (*memo) return **memo;
    std::optional<CpuArch> arch;
    if (auto ref = parse_image_reference(workload.image.value)) {
      std::optional<RegistryCredentials> credentials;
      if (workload.registry_auth)
        credentials = RegistryCredentials{workload.registry_auth->username.value,
                                          workload.registry_auth->password.value};
      if (auto platforms = read_image_platforms(http, *ref, credentials))
        arch = default_arch_of_platforms(*platforms);
    }
    *memo = arch;
    return arch;
  };
}

}  // namespace berth
