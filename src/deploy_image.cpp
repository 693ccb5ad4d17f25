// The image reader `up` and `watch` use: an image's ENTRYPOINT, CMD and
// WORKDIR from its registry (image_config.h), for providers that start the
// process themselves. Any failure stops the launch before anything is rented.
#include "berth/deploy.h"
#include "berth/image_config.h"

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

}  // namespace berth
