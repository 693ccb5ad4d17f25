// Files compiled into the binary (templates/*.yaml), see cmake/embed_templates.cmake.
#pragma once

#include <string>
#include <vector>

namespace berth {

struct EmbeddedFile {
  std::string name;  // file name without extension, e.g. "vllm"
  std::string content;
};

const std::vector<EmbeddedFile>& embedded_templates();

}  // namespace berth
