// models/data/common.cc — split names, the cache folder and whole-file reads with clear errors.
#include "models/data/common.h"

#include <cstdlib>
#include <fmt/format.h>
#include <fstream>
#include <sstream>

namespace unroll::data {

const char* split_name(Split s) {
  switch (s) {
    case Split::train: return "train";
    case Split::dev: return "dev";
    case Split::test: return "test";
  }
  return "?";
}

std::filesystem::path data_root() {
  if (const char* env = std::getenv("UNROLL_DATA"); env && *env) return env;
  const auto local = std::filesystem::path("data") / "cache";
#ifdef UNROLL_REPO_DATA_CACHE
  std::error_code ec;
  if (!std::filesystem::is_directory(local, ec) && std::filesystem::is_directory(UNROLL_REPO_DATA_CACHE, ec))
    return std::filesystem::path(UNROLL_REPO_DATA_CACHE).lexically_normal();
#endif
  return local;
}

std::string read_file_bytes(const std::filesystem::path& path, std::string_view what) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    throw DataError(fmt::format("{}: cannot open {}: no such file (run tools/fetch_data.sh, or set UNROLL_DATA)",
                                what, path.string()));
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataError(fmt::format("{}: cannot open {} for reading", what, path.string()));
  std::ostringstream ss;
  ss << in.rdbuf();
  return std::move(ss).str();
}

}  // namespace unroll::data
