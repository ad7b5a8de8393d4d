// nn/safetensors.cc — parsing with full validation, writing, crash-safe file replacement.
#include "nn/safetensors.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <limits>
#include <atomic>
#include <set>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace unroll {

using json = nlohmann::json;

const char* dtype_name(DType d) { return d == DType::F32 ? "F32" : "F64"; }
std::size_t dtype_size(DType d) { return d == DType::F32 ? 4 : 8; }

std::string shape_str(const std::vector<std::uint64_t>& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

std::uint64_t TensorEntry::numel() const {
  std::uint64_t n = 1;
  for (auto d : shape) n *= d;  // cannot overflow: checked when parsed
  return n;
}

std::uint64_t fnv1a64(std::string_view bytes, std::uint64_t h) {
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

namespace {

[[noreturn]] void fail(const std::string& source, const std::string& msg) {
  throw CheckpointError(source + ": " + msg);
}

std::uint64_t read_le64(const char* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

void put_le(std::string& out, std::uint64_t v, int nbytes) {
  for (int i = 0; i < nbytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

std::uint64_t get_le(const char* p, int nbytes) {
  std::uint64_t v = 0;
  for (int i = nbytes - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

// JSON type for messages: "a number", "a string"...
std::string kind(const json& j) {
  switch (j.type()) {
    case json::value_t::null: return "null";
    case json::value_t::object: return "an object";
    case json::value_t::array: return "an array";
    case json::value_t::string: return "a string";
    case json::value_t::boolean: return "a boolean";
    case json::value_t::number_integer: return "a negative integer";
    case json::value_t::number_unsigned: return "an unsigned integer";
    case json::value_t::number_float: return "a non-integer number";
    default: return "an unsupported value";
  }
}

std::string quoted(const std::string& s) {
  // Names come from untrusted files: keep messages printable and short.
  std::string out = "'";
  for (std::size_t i = 0; i < s.size() && i < 200; ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f) out += fmt::format("\\x{:02x}", c);
    else out += static_cast<char>(c);
  }
  if (s.size() > 200) out += "...";
  return out + "'";
}

// Parses the header with duplicate keys and deep nesting refused (nlohmann keeps the last duplicate).
json parse_header(std::string_view text, const std::string& source) {
  std::vector<std::set<std::string>> keys;  // one set per open object
  json::parser_callback_t cb = [&](int depth, json::parse_event_t ev, json& parsed) {
    switch (ev) {
      case json::parse_event_t::object_start:
      case json::parse_event_t::array_start:
        // Deepest legal value: a number inside "shape" (depth 3). A container there or below is wrong.
        if (depth >= 3) fail(source, fmt::format("header nests deeper than a safetensors header can (a container at depth {})", depth + 1));
        if (ev == json::parse_event_t::object_start) keys.emplace_back();
        break;
      case json::parse_event_t::object_end:
        if (!keys.empty()) keys.pop_back();
        break;
      case json::parse_event_t::key: {
        const std::string& k = parsed.get_ref<const std::string&>();
        if (!keys.empty() && !keys.back().insert(k).second) {
          if (depth == 1) fail(source, fmt::format("duplicate key {} in the header (tensor names must be unique)", quoted(k)));
          fail(source, fmt::format("duplicate field {} in a header entry", quoted(k)));
        }
        break;
      }
      default: break;
    }
    return true;
  };
  try {
    return json::parse(text.begin(), text.end(), cb);
  } catch (const json::exception& e) {
    fail(source, fmt::format("header is not valid JSON: {}", e.what()));
  }
}

std::uint64_t checked_mul(std::uint64_t a, std::uint64_t b, bool& overflow) {
  std::uint64_t r;
  if (__builtin_mul_overflow(a, b, &r)) overflow = true;
  return r;
}

}  // namespace

// ---- parsing ---------------------------------------------------------------------------------------

SafeTensors SafeTensors::parse(std::string bytes, std::string source) {
  SafeTensors st;
  st.source_ = std::move(source);
  const std::string& src = st.source_;
  const std::uint64_t size = bytes.size();
  if (size < 8) fail(src, fmt::format("file is {} bytes, shorter than the 8-byte header length field", size));
  const std::uint64_t n = read_le64(bytes.data());
  if (n > kMaxHeaderBytes)
    fail(src, fmt::format("header length {} exceeds the limit of {} bytes", n, kMaxHeaderBytes));
  if (n > size - 8)
    fail(src, fmt::format("header length {} runs past the end of the file ({} bytes follow the length field; truncated?)", n, size - 8));
  if (n < 2) fail(src, fmt::format("header length {} is too short for a JSON object", n));
  if (bytes[8] != '{') fail(src, fmt::format("header must begin with '{{', got byte 0x{:02x}", static_cast<unsigned char>(bytes[8])));

  // nlohmann's lexer takes a NUL byte for the end of the input: "{...}\0junk" would parse. Refuse it.
  if (auto nul = std::string_view(bytes).substr(8, n).find('\0'); nul != std::string_view::npos)
    fail(src, fmt::format("header contains a NUL byte at offset {} (JSON text and space padding only)", 8 + nul));
  json header = parse_header(std::string_view(bytes).substr(8, n), src);
  if (!header.is_object()) fail(src, "header is not a JSON object");

  st.header_len_ = n;
  st.data_start_ = 8 + n;
  const std::uint64_t data_len = size - st.data_start_;

  for (auto it = header.begin(); it != header.end(); ++it) {
    const std::string& name = it.key();
    const json& v = it.value();
    if (name == "__metadata__") {
      if (!v.is_object()) fail(src, fmt::format("'__metadata__' must be an object of strings, got {}", kind(v)));
      for (auto m = v.begin(); m != v.end(); ++m) {
        if (!m.value().is_string())
          fail(src, fmt::format("metadata {} must be a string, got {}", quoted(m.key()), kind(m.value())));
        st.metadata_[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    const std::string tn = "tensor " + quoted(name);
    if (name.empty()) fail(src, "a tensor has an empty name");
    if (!v.is_object()) fail(src, fmt::format("{}: entry must be an object, got {}", tn, kind(v)));
    for (auto f = v.begin(); f != v.end(); ++f)
      if (f.key() != "dtype" && f.key() != "shape" && f.key() != "data_offsets")
        fail(src, fmt::format("{}: unknown field {} (expected dtype, shape, data_offsets)", tn, quoted(f.key())));
    for (const char* field : {"dtype", "shape", "data_offsets"})
      if (!v.contains(field)) fail(src, fmt::format("{}: missing field '{}'", tn, field));

    TensorEntry t;
    t.name = name;
    const json& dt = v["dtype"];
    if (!dt.is_string()) fail(src, fmt::format("{}: dtype must be a string, got {}", tn, kind(dt)));
    const std::string d = dt.get<std::string>();
    if (d == "F32") t.dtype = DType::F32;
    else if (d == "F64") t.dtype = DType::F64;
    else {
      static const std::set<std::string> other = {"BOOL", "U8", "I8", "F8_E5M2", "F8_E4M3", "I16", "U16", "F16",
                                                   "BF16", "I32", "U32", "I64", "U64"};
      if (other.count(d)) fail(src, fmt::format("{}: dtype {} is not supported (expected F32 or F64)", tn, d));
      fail(src, fmt::format("{}: unknown dtype {} (expected F32 or F64)", tn, quoted(d)));
    }

    const json& sh = v["shape"];
    if (!sh.is_array()) fail(src, fmt::format("{}: shape must be an array of non-negative integers, got {}", tn, kind(sh)));
    bool overflow = false;
    std::uint64_t numel = 1;
    for (const json& x : sh) {
      if (!x.is_number_unsigned())
        fail(src, fmt::format("{}: shape must be an array of non-negative integers, has {}", tn, kind(x)));
      t.shape.push_back(x.get<std::uint64_t>());
      numel = checked_mul(numel, t.shape.back(), overflow);
    }
    std::uint64_t nbytes = checked_mul(numel, dtype_size(t.dtype), overflow);
    if (overflow) fail(src, fmt::format("{}: shape {} has more elements than fit in 64 bits", tn, shape_str(t.shape)));

    const json& off = v["data_offsets"];
    if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() || !off[1].is_number_unsigned())
      fail(src, fmt::format("{}: data_offsets must be [begin, end], two non-negative integers, got {}", tn,
                            off.dump().substr(0, 80)));
    t.begin = off[0].get<std::uint64_t>();
    t.end = off[1].get<std::uint64_t>();
    if (t.begin > t.end) fail(src, fmt::format("{}: data_offsets [{}, {}] end before they begin", tn, t.begin, t.end));
    if (t.end > data_len)
      fail(src, fmt::format("{}: data_offsets [{}, {}] run past the data section of {} bytes (truncated?)", tn,
                            t.begin, t.end, data_len));
    if (t.end - t.begin != nbytes)
      fail(src, fmt::format("{}: data_offsets [{}, {}] hold {} bytes, but shape {} of {} needs {}", tn, t.begin,
                            t.end, t.end - t.begin, shape_str(t.shape), dtype_name(t.dtype), nbytes));
    st.tensors_.push_back(std::move(t));
  }

  // Tiling: sorted by offset, each tensor starts where the previous ended and the last ends the file.
  std::sort(st.tensors_.begin(), st.tensors_.end(), [](const TensorEntry& a, const TensorEntry& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  std::uint64_t cursor = 0;
  const TensorEntry* prev = nullptr;
  for (const auto& t : st.tensors_) {
    if (t.begin < cursor)
      fail(src, fmt::format("tensor {} (bytes [{}, {})) overlaps tensor {} (bytes [{}, {}))", quoted(t.name), t.begin,
                            t.end, quoted(prev->name), prev->begin, prev->end));
    if (t.begin > cursor)
      fail(src, fmt::format("gap in the data section: bytes [{}, {}) before tensor {} belong to no tensor", cursor,
                            t.begin, quoted(t.name)));
    cursor = t.end;
    prev = &t;
  }
  if (cursor != data_len)
    fail(src, fmt::format("data section is {} bytes but the tensors cover {}: {} bytes at the end belong to no tensor",
                          data_len, cursor, data_len - cursor));

  // The canonical header for the checksum: the parsed JSON without the checksum key.
  if (header.contains("__metadata__")) header["__metadata__"].erase(kChecksumKey);
  st.canonical_header_ = header.dump();
  st.bytes_ = std::move(bytes);
  return st;
}

SafeTensors SafeTensors::read_file(const std::string& path) { return parse(read_file_bytes(path), path); }

const TensorEntry* SafeTensors::find(std::string_view name) const {
  for (const auto& t : tensors_)
    if (t.name == name) return &t;
  return nullptr;
}

std::string_view SafeTensors::data(const TensorEntry& t) const {
  return std::string_view(bytes_).substr(data_start_ + t.begin, t.end - t.begin);
}

std::string SafeTensors::computed_checksum() const {
  std::uint64_t h = fnv1a64(canonical_header_);
  h = fnv1a64(std::string_view(bytes_).substr(data_start_), h);
  return fmt::format("fnv1a64:{:016x}", h);
}

void SafeTensors::verify_checksum(bool required) const {
  auto it = metadata_.find(kChecksumKey);
  if (it == metadata_.end()) {
    if (required)
      fail(source_, fmt::format("no checksum (metadata '{}'); files written by other tools load with "
                                "require_checksum = false", kChecksumKey));
    return;
  }
  std::string want = computed_checksum();
  if (it->second != want)
    fail(source_, fmt::format("checksum mismatch: metadata '{}' says {}, the contents give {} (the file is corrupted)",
                              kChecksumKey, quoted(it->second), want));
}

template <class T>
Mat<T> SafeTensors::to_mat(const TensorEntry& t, std::size_t rows, std::size_t cols, bool allow_nonfinite) const {
  if (std::uint64_t(rows) * cols != t.numel())
    fail(source_, fmt::format("tensor {}: {} elements cannot fill a {} matrix", quoted(t.name), t.numel(),
                              shape_str(rows, cols)));
  Mat<T> m = xt::zeros<T>({rows, cols});
  const char* p = bytes_.data() + data_start_ + t.begin;
  T* out = m.data();
  const std::size_t n = rows * cols;
  for (std::size_t i = 0; i < n; ++i) {
    double v = t.dtype == DType::F32 ? double(std::bit_cast<float>(static_cast<std::uint32_t>(get_le(p + 4 * i, 4))))
                                     : std::bit_cast<double>(get_le(p + 8 * i, 8));
    if (!allow_nonfinite && !std::isfinite(v))
      fail(source_, fmt::format("tensor {}: value {} at flat index {} is not finite", quoted(t.name), v, i));
    out[i] = static_cast<T>(v);
    if (!allow_nonfinite && !std::isfinite(out[i]))  // a finite F64 beyond float's range would load as ±inf
      fail(source_, fmt::format("tensor {}: value {} at flat index {} does not fit in {} (largest {})", quoted(t.name), v,
                                i, dtype_name(dtype_of<T>()), double(std::numeric_limits<T>::max())));
  }
  return m;
}

// ---- writing ---------------------------------------------------------------------------------------

void SafeTensorsWriter::set_metadata(const std::string& key, const std::string& value) {
  if (key == kChecksumKey) throw CheckpointError(fmt::format("safetensors writer: metadata key '{}' is reserved", key));
  metadata_[key] = value;
}

template <class T>
void SafeTensorsWriter::add(const std::string& name, const Mat<T>& m, std::vector<std::uint64_t> shape) {
  const std::string where = "safetensors writer: tensor " + quoted(name);
  if (name.empty()) throw CheckpointError("safetensors writer: a tensor needs a name");
  if (name == "__metadata__") throw CheckpointError(where + ": the name is reserved");
  for (const auto& p : tensors_)
    if (p.name == name) throw CheckpointError(where + ": added twice (names must be unique)");
  if (shape.empty()) shape = {m.shape(0), m.shape(1)};
  std::uint64_t n = 1;
  for (auto d : shape) n *= d;
  if (n != m.size())
    throw CheckpointError(fmt::format("{}: shape {} has {} elements, the matrix {} has {}", where, shape_str(shape), n,
                                      shape_str(m), m.size()));
  Pending p{name, dtype_of<T>(), std::move(shape), {}};
  p.bytes.reserve(m.size() * sizeof(T));
  const T* d = m.data();
  for (std::size_t i = 0; i < m.size(); ++i) {
    if (!std::isfinite(d[i]))
      throw CheckpointError(fmt::format("{}: value {} at flat index {} is not finite (refusing to save it)", where,
                                        double(d[i]), i));
    if constexpr (sizeof(T) == 4) put_le(p.bytes, std::bit_cast<std::uint32_t>(d[i]), 4);
    else put_le(p.bytes, std::bit_cast<std::uint64_t>(d[i]), 8);
  }
  tensors_.push_back(std::move(p));
}

std::string SafeTensorsWriter::serialize(bool with_checksum) const {
  try {
    return serialize_unchecked(with_checksum);
  } catch (const json::exception& e) {  // a name or value that is not valid UTF-8
    throw CheckpointError(fmt::format("safetensors writer: cannot encode the header: {}", e.what()));
  }
}

std::string SafeTensorsWriter::serialize_unchecked(bool with_checksum) const {
  json header = json::object();
  std::uint64_t off = 0;
  for (const auto& p : tensors_) {
    header[p.name] = {{"dtype", dtype_name(p.dtype)}, {"shape", p.shape}, {"data_offsets", {off, off + p.bytes.size()}}};
    off += p.bytes.size();
  }
  json meta = json::object();
  for (const auto& [k, v] : metadata_) meta[k] = v;
  if (!meta.empty() || with_checksum) header["__metadata__"] = meta;
  if (with_checksum) {
    std::uint64_t h = fnv1a64(header.dump());
    for (const auto& p : tensors_) h = fnv1a64(p.bytes, h);
    header["__metadata__"][kChecksumKey] = fmt::format("fnv1a64:{:016x}", h);
  }
  std::string text = header.dump();
  while ((8 + text.size()) % 8) text.push_back(' ');  // data section 8-byte aligned, as the reference does
  std::string out;
  out.reserve(8 + text.size() + off);
  put_le(out, text.size(), 8);
  out += text;
  for (const auto& p : tensors_) out += p.bytes;
  return out;
}

void SafeTensorsWriter::write(const std::string& path, bool with_checksum) const {
  write_file_atomic(path, serialize(with_checksum));
}

// ---- files -----------------------------------------------------------------------------------------

namespace {
[[noreturn]] void sys_fail(const std::string& path, const char* what) {
  throw CheckpointError(fmt::format("{}: {} failed: {}", path, what, std::strerror(errno)));
}
}  // namespace

void write_file_atomic(const std::string& path, std::string_view bytes) {
  static std::atomic<unsigned> counter{0};
  std::string dir = ".", base = path;
  if (auto slash = path.rfind('/'); slash != std::string::npos) {
    dir = slash == 0 ? "/" : path.substr(0, slash);
    base = path.substr(slash + 1);
  }
  if (base.empty()) throw CheckpointError(fmt::format("{}: not a file name", path));
  std::string tmp = (dir == "/" ? "/" : dir + "/") + "." + base + ".tmp." + std::to_string(::getpid()) + "." +
                    std::to_string(counter++);
  // Every failure names the target, the step and the system's reason; the temporary is removed.
  auto fail_sys = [&](const char* what, const std::string& on, int fd, bool unlink_tmp) {
    int e = errno;
    if (fd >= 0) ::close(fd);
    if (unlink_tmp) ::unlink(tmp.c_str());
    throw CheckpointError(fmt::format("{}: saving failed: {} {} failed: {}", path, what, on, std::strerror(e)));
  };
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) fail_sys("open of the temporary", tmp, -1, false);
  const char* p = bytes.data();
  std::size_t left = bytes.size();
  while (left > 0) {
    ssize_t w = ::write(fd, p, left);
    if (w < 0) {
      if (errno == EINTR) continue;
      fail_sys("write to", tmp, fd, true);
    }
    p += w;
    left -= static_cast<std::size_t>(w);
  }
  if (::fsync(fd) != 0) fail_sys("fsync of", tmp, fd, true);
  if (::close(fd) != 0) fail_sys("close of", tmp, -1, true);
  if (::rename(tmp.c_str(), path.c_str()) != 0) fail_sys("rename of", tmp, -1, true);
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) fail_sys("open (for fsync) of the folder", dir, -1, false);
  if (::fsync(dfd) != 0) fail_sys("fsync of the folder", dir, dfd, false);
  ::close(dfd);
}

std::string read_file_bytes(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) sys_fail(path, "open");
  struct stat sb;
  if (::fstat(fd, &sb) != 0) {
    ::close(fd);
    sys_fail(path, "fstat");
  }
  if (!S_ISREG(sb.st_mode)) {
    ::close(fd);
    throw CheckpointError(fmt::format("{}: not a regular file", path));
  }
  std::string out;
  out.resize(static_cast<std::size_t>(sb.st_size));
  std::size_t got = 0;
  while (got < out.size()) {
    ssize_t r = ::read(fd, out.data() + got, out.size() - got);
    if (r < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      ::close(fd);
      errno = e;
      sys_fail(path, "read");
    }
    if (r == 0) break;  // shrank while reading
    got += static_cast<std::size_t>(r);
  }
  out.resize(got);
  ::close(fd);
  return out;
}

#define UNROLL_INSTANTIATE(T)                                                                                 \
  template Mat<T> SafeTensors::to_mat<T>(const TensorEntry&, std::size_t, std::size_t, bool) const;            \
  template void SafeTensorsWriter::add<T>(const std::string&, const Mat<T>&, std::vector<std::uint64_t>);
UNROLL_INSTANTIATE(float)
UNROLL_INSTANTIATE(double)
#undef UNROLL_INSTANTIATE

}  // namespace unroll
