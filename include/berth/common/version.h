// berth's version: the project version with where it was built from in git
// (cmake/version.cmake), e.g. "0.1.0+git312.d22a947".
#pragma once

namespace berth {

const char* version();

}  // namespace berth
