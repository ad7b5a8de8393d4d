// nn/safetensors.h — the safetensors file format, read and written as the spec says
// (https://github.com/huggingface/safetensors, "Format"):
//
//   [8 bytes]  N, unsigned 64-bit little-endian: the header length
//   [N bytes]  JSON object, UTF-8, begins with '{', may be padded at the end with spaces (0x20):
//              {"__metadata__": {"key": "string value", ...},          <- optional, strings only
//               "lstm.weight_ih_l0": {"dtype": "F32", "shape": [16, 3], "data_offsets": [0, 192]}, ...}
//   [rest]     the data section: every tensor's bytes, little-endian, row-major; data_offsets are
//              [begin, end) relative to the start of this section; the tensors tile it with no gap,
//              no overlap and nothing after the last one.
//
// Reading validates everything before returning and throws CheckpointError naming the source, the
// tensor or field, what was expected and what came: header length (≤ 100 MB and ≤ the file), JSON
// syntax, duplicate keys (rejected, not "last one wins"), unknown fields, dtype (F32 and F64 are read;
// any other is refused), shape, data_offsets in range, bytes = shape × dtype size, tiling.
// A file is only data: nothing in it is ever opened as a path or executed.
//
// unroll's extension, in the metadata (other readers ignore it): "unroll.checksum" = "fnv1a64:<16 hex>",
// FNV-1a 64 over the canonical header (the parsed JSON without that key, dumped compactly with sorted
// keys) followed by the data section. Any change to a tensor name, shape, offset, metadata value or data
// byte changes it (a one-byte change always does: each FNV-1a step is a bijection).
//
// Not here: mapping tensors to a model's parameters, checkpoint metadata (nn/checkpoint.h).
#pragma once

#include "engine/tensor.h"

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace unroll {

// Every problem with a checkpoint file or its contents (format, validation, model mismatch, I/O).
struct CheckpointError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

enum class DType { F32, F64 };
const char* dtype_name(DType d);           // "F32"
std::size_t dtype_size(DType d);           // 4
template <class T> constexpr DType dtype_of() {  // F32 for float, F64 for double
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>, "safetensors: float or double only");
  return std::is_same_v<T, float> ? DType::F32 : DType::F64;
}

inline constexpr std::uint64_t kMaxHeaderBytes = 100'000'000;  // the reference implementation's cap
inline constexpr const char* kChecksumKey = "unroll.checksum";

// "[16, 3]"; "[]" for a scalar.
std::string shape_str(const std::vector<std::uint64_t>& shape);

// One tensor of a parsed file. begin/end are the data_offsets (relative to the data section).
struct TensorEntry {
  std::string name;
  DType dtype = DType::F32;
  std::vector<std::uint64_t> shape;
  std::uint64_t begin = 0, end = 0;
  std::uint64_t numel() const;
};

// A parsed, fully validated file. Owns its bytes.
class SafeTensors {
 public:
  // source names the bytes in every error message ("model.safetensors", "<memory>").
  static SafeTensors parse(std::string bytes, std::string source = "<memory>");
  static SafeTensors read_file(const std::string& path);

  const std::string& source() const { return source_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  const std::vector<TensorEntry>& tensors() const { return tensors_; }   // in data-section order
  const TensorEntry* find(std::string_view name) const;                 // nullptr when absent
  std::string_view data(const TensorEntry& t) const;                    // its raw little-endian bytes
  std::uint64_t header_bytes() const { return header_len_; }

  // The tensor's values as a [rows, cols] matrix of T (F32 <-> F64 converted); rows·cols must equal
  // numel. Throws CheckpointError for a NaN or an infinity unless allow_nonfinite (it names the index).
  template <class T>
  Mat<T> to_mat(const TensorEntry& t, std::size_t rows, std::size_t cols, bool allow_nonfinite = false) const;

  // The checksum this file should carry (see the top of this file) and whether it carries one.
  std::string computed_checksum() const;
  bool has_checksum() const { return metadata_.count(kChecksumKey) != 0; }
  // Throws CheckpointError when the stored checksum disagrees, or is absent and required.
  void verify_checksum(bool required) const;

 private:
  std::string source_;
  std::string bytes_;
  std::uint64_t header_len_ = 0;
  std::uint64_t data_start_ = 0;
  std::string canonical_header_;  // the header JSON minus the checksum key, dumped compactly
  std::map<std::string, std::string> metadata_;
  std::vector<TensorEntry> tensors_;
};

// Builds a file in memory. Tensors go into the data section in the order they are added.
class SafeTensorsWriter {
 public:
  void set_metadata(const std::string& key, const std::string& value);
  // Adds m under name, stored as T's dtype with the given shape (default [rows, cols]; any shape with
  // the same element count, e.g. [cols] for a bias). Throws CheckpointError for a duplicate or empty
  // name, a reserved name ("__metadata__"), a shape of a different size, or a NaN/Inf value.
  template <class T>
  void add(const std::string& name, const Mat<T>& m, std::vector<std::uint64_t> shape = {});
  std::size_t size() const { return tensors_.size(); }

  // The whole file, with "unroll.checksum" in the metadata when with_checksum.
  std::string serialize(bool with_checksum = true) const;
  // serialize() then write_file_atomic().
  void write(const std::string& path, bool with_checksum = true) const;

 private:
  struct Pending {
    std::string name;
    DType dtype;
    std::vector<std::uint64_t> shape;
    std::string bytes;
  };
  std::string serialize_unchecked(bool with_checksum) const;
  std::map<std::string, std::string> metadata_;
  std::vector<Pending> tensors_;
};

// Crash-safe replacement of path's contents: writes a temporary file in the same folder
// (".<name>.tmp.<pid>.<n>"), fsyncs it, renames it over path, fsyncs the folder. A crash at any moment
// leaves either the old file or the new one under path (a stale temporary may remain beside it).
// Throws CheckpointError naming the path and the failing system call.
void write_file_atomic(const std::string& path, std::string_view bytes);

// Reads a whole file; CheckpointError naming the path when it cannot.
std::string read_file_bytes(const std::string& path);

// FNV-1a 64 (continues from h).
std::uint64_t fnv1a64(std::string_view bytes, std::uint64_t h = 0xcbf29ce484222325ULL);

}  // namespace unroll
