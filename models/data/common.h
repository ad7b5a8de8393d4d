// models/data/common.h — shared pieces of the data layer: DataError, the i % 10 split rule, the cache folder.
// The data layer is plain C++20 + fmt + nlohmann-json; it never includes the autodiff engine.
#pragma once

#include <cstddef>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>

namespace unroll::data {

// A corpus that is missing, empty or malformed. The message names the file (and line or byte offset),
// what was expected and what came, e.g. "brown: ca01:12: token 3 'foo' has no '/' (expected word/tag)".
struct DataError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// ../shared/DATA.md: unit i goes to test if i % 10 == 9, to dev if i % 10 == 8, else to train.
enum class Split { train, dev, test };
inline Split split_of(std::size_t i) { return i % 10 == 9 ? Split::test : i % 10 == 8 ? Split::dev : Split::train; }
const char* split_name(Split s);

// The git-ignored cache that tools/fetch_data.sh fills: $UNROLL_DATA if set, else ./data/cache when that exists,
// else the source tree's data/cache (compiled in), else ./data/cache (the loaders then say to run the script).
std::filesystem::path data_root();

// Whole file as bytes; DataError "<what>: cannot open <path>" (with a hint to run tools/fetch_data.sh) if missing.
std::string read_file_bytes(const std::filesystem::path& path, std::string_view what);

}  // namespace unroll::data
