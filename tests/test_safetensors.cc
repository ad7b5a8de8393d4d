// tests/test_safetensors.cc — the safetensors format: byte layout, round trips, and every validation
// error (hand-made malformed files, truncation at every length, every single-bit flip).
#include "nn/checkpoint.h"
#include "nn/safetensors.h"

#include <doctest/doctest.h>

#include <cstring>
#include <fstream>
#include <string>
#include <vector>

using namespace unroll;

namespace {

// A hand-made file: 8-byte little-endian header length, the header text as given, then the data bytes.
std::string raw_file(const std::string& header, const std::string& data = "") {
  std::string out;
  std::uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
  return out + header + data;
}

std::string parse_error(const std::string& bytes) {
  try {
    SafeTensors::parse(bytes, "bad.safetensors");
  } catch (const CheckpointError& e) {
    return e.what();
  }
  return "(no error)";
}

template <class T>
Mat<T> ramp(std::size_t r, std::size_t c, double scale) {
  Mat<T> m = zeros<T>(r, c);
  for (std::size_t i = 0; i < m.size(); ++i) m.data()[i] = T(scale * (double(i) - 3.25) / 7.0);
  return m;
}

template <class T>
bool bitwise_equal(const Mat<T>& a, const Mat<T>& b) {
  return a.shape() == b.shape() && std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;
}

}  // namespace

TEST_CASE_TEMPLATE("safetensors: round trip keeps names, shapes, dtype, metadata and values bitwise", T, float, double) {
  SafeTensorsWriter w;
  Mat<T> a = ramp<T>(4, 3, 1.0), b = ramp<T>(1, 5, -2.5), empty = zeros<T>(0, 3);
  w.add("lstm.weight_ih_l0", a);
  w.add("lstm.bias_ih_l0", b, {5});
  w.add("empty", empty);
  w.set_metadata("note", "héllo \"quoted\" \n newline");
  std::string bytes = w.serialize();
  CHECK((8 + SafeTensors::parse(bytes).header_bytes()) % 8 == 0);  // data section aligned like the reference

  SafeTensors f = SafeTensors::parse(bytes, "rt");
  REQUIRE(f.tensors().size() == 3);
  CHECK(f.metadata().at("note") == "héllo \"quoted\" \n newline");
  f.verify_checksum(true);
  const TensorEntry* ta = f.find("lstm.weight_ih_l0");
  REQUIRE(ta);
  CHECK(ta->dtype == dtype_of<T>());
  CHECK(ta->shape == std::vector<std::uint64_t>{4, 3});
  CHECK(bitwise_equal(f.to_mat<T>(*ta, 4, 3), a));
  const TensorEntry* tb = f.find("lstm.bias_ih_l0");
  CHECK(tb->shape == std::vector<std::uint64_t>{5});
  CHECK(bitwise_equal(f.to_mat<T>(*tb, 1, 5), b));
  CHECK(f.find("empty")->numel() == 0);
  CHECK(f.find("empty")->begin == f.find("empty")->end);
  CHECK(f.find("nope") == nullptr);
  // Converting to the other precision: exact from float to double.
  if constexpr (std::is_same_v<T, float>) CHECK(f.to_mat<double>(*ta, 4, 3) == to_precision<double>(a));
}

TEST_CASE("safetensors: byte layout follows the spec") {
  SafeTensorsWriter w;
  w.add("b", mat<float>({{1.5f, -2.0f}}));
  w.add("a", mat<double>({{0.25}}));
  std::string bytes = w.serialize(false);
  std::uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<unsigned char>(bytes[i]);
  REQUIRE(8 + n + 16 == bytes.size());
  std::string header = bytes.substr(8, n);
  CHECK(header.front() == '{');
  CHECK(header == std::string(R"({"a":{"data_offsets":[8,16],"dtype":"F64","shape":[1,1]},)"
                              R"("b":{"data_offsets":[0,8],"dtype":"F32","shape":[1,2]}})") +
                      std::string(n - 112, ' '));
  // Data in insertion order, little-endian IEEE: 1.5f = 0x3fc00000.
  CHECK(bytes.substr(8 + n, 4) == std::string("\x00\x00\xc0\x3f", 4));
  CHECK(bytes.substr(8 + n + 8, 8) == std::string("\x00\x00\x00\x00\x00\x00\xd0\x3f", 8));
}

TEST_CASE("safetensors: reads scalars (rank 0) and zero-size tensors") {
  std::string data("\x00\x00\x80\x3f", 4);  // 1.0f
  SafeTensors f = SafeTensors::parse(raw_file(R"({"s":{"dtype":"F32","shape":[],"data_offsets":[0,4]},)"
                                              R"("z":{"dtype":"F64","shape":[0,7],"data_offsets":[4,4]}})", data));
  CHECK(f.find("s")->shape.empty());
  CHECK(f.to_mat<double>(*f.find("s"), 1, 1)(0, 0) == 1.0);
  CHECK(f.to_mat<float>(*f.find("z"), 0, 7).size() == 0);
  CHECK_THROWS_WITH_AS(f.to_mat<float>(*f.find("s"), 1, 2), doctest::Contains("tensor 's': 1 elements cannot fill a [1, 2] matrix"),
                       CheckpointError);
}

TEST_CASE("safetensors: an F64 value beyond float's range is refused when loading as float") {
  SafeTensorsWriter w;
  w.add("big", mat<double>({{1.0, 1e300}}));
  SafeTensors f = SafeTensors::parse(w.serialize(), "big.safetensors");
  CHECK(f.to_mat<double>(*f.find("big"), 1, 2)(0, 1) == 1e300);
  CHECK_THROWS_WITH_AS(f.to_mat<float>(*f.find("big"), 1, 2),
                       doctest::Contains("tensor 'big': value 1e+300 at flat index 1 does not fit in F32"), CheckpointError);
}

TEST_CASE("safetensors: writer refuses duplicates, reserved names, wrong shapes and non-finite values") {
  SafeTensorsWriter w;
  w.add("x", mat<float>({{1, 2}}));
  CHECK_THROWS_WITH_AS(w.add("x", mat<float>({{1}})), doctest::Contains("added twice"), CheckpointError);
  CHECK_THROWS_WITH_AS(w.add("__metadata__", mat<float>({{1}})), doctest::Contains("reserved"), CheckpointError);
  CHECK_THROWS_WITH_AS(w.add("", mat<float>({{1}})), doctest::Contains("needs a name"), CheckpointError);
  CHECK_THROWS_WITH_AS(w.add("y", mat<float>({{1, 2}}), {3}), doctest::Contains("shape [3] has 3 elements, the matrix [1, 2] has 2"), CheckpointError);
  CHECK_THROWS_WITH_AS(w.add("z", mat<double>({{1, std::nan("")}})), doctest::Contains("tensor 'z': value nan at flat index 1 is not finite"), CheckpointError);
  CHECK_THROWS_WITH_AS(w.set_metadata(kChecksumKey, "x"), doctest::Contains("reserved"), CheckpointError);
  w.add(std::string("bad\xff", 4), mat<float>({{1}}));
  CHECK_THROWS_WITH_AS(w.serialize(), doctest::Contains("cannot encode the header"), CheckpointError);
}

// ---- hand-made malformed files: each with the message it must give ------------------------------------
struct Malformed {
  const char* what;
  std::string bytes;
  const char* message;
};

std::vector<Malformed> malformed_files() {
  const std::string ok = R"("a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]})";
  const std::string d8(8, '\0');
  std::string huge_len = raw_file("{}");
  huge_len[3] = 0x7f;  // header length ~2 GB
  std::string past_end = raw_file("{}");
  past_end[0] = 50;
  std::string deep = "{\"a\":{\"shape\":[[[[1]]]]}}";
  return {
      {"empty file", "", "file is 0 bytes, shorter than the 8-byte header length field"},
      {"7 bytes", std::string(7, '\0'), "file is 7 bytes, shorter than the 8-byte"},
      {"header length over the cap", huge_len, "exceeds the limit of 100000000 bytes"},
      {"header length past the file", past_end, "header length 50 runs past the end of the file (2 bytes follow"},
      {"header length 0", raw_file(""), "header length 0 is too short"},
      {"header not an object", raw_file("[1, 2]"), "header must begin with '{', got byte 0x5b"},
      {"header with leading space", raw_file(" {}"), "header must begin with '{'"},
      {"invalid JSON", raw_file("{\"a\":}"), "header is not valid JSON"},
      {"NUL byte in the header", raw_file(std::string("{}\0\0", 4)), "header contains a NUL byte at offset 10"},
      {"trailing garbage after JSON", raw_file("{}x"), "header is not valid JSON"},
      {"invalid UTF-8 in a name", raw_file("{\"\xff\xfe\":{}}"), "header is not valid JSON"},
      {"duplicate tensor name", raw_file("{" + ok + "," + ok + "}", d8), "duplicate key 'a' in the header"},
      {"duplicate field", raw_file(R"({"a":{"dtype":"F32","dtype":"F32","shape":[2],"data_offsets":[0,8]}})", d8),
       "duplicate field 'dtype'"},
      {"deep nesting", raw_file(deep), "nests deeper than a safetensors header can"},
      {"entry not an object", raw_file(R"({"a":[1,2]})"), "tensor 'a': entry must be an object, got an array"},
      {"unknown field", raw_file(R"({"a":{"dtype":"F32","shape":[0],"data_offsets":[0,0],"file":"/etc/passwd"}})"),
       "tensor 'a': unknown field 'file'"},
      {"missing data_offsets", raw_file(R"({"a":{"dtype":"F32","shape":[2]}})", d8),
       "tensor 'a': missing field 'data_offsets'"},
      {"missing dtype", raw_file(R"({"a":{"shape":[2],"data_offsets":[0,8]}})", d8), "tensor 'a': missing field 'dtype'"},
      {"unknown dtype", raw_file(R"({"a":{"dtype":"Q7","shape":[2],"data_offsets":[0,8]}})", d8),
       "tensor 'a': unknown dtype 'Q7' (expected F32 or F64)"},
      {"unsupported dtype", raw_file(R"({"a":{"dtype":"F16","shape":[4],"data_offsets":[0,8]}})", d8),
       "tensor 'a': dtype F16 is not supported (expected F32 or F64)"},
      {"dtype not a string", raw_file(R"({"a":{"dtype":32,"shape":[2],"data_offsets":[0,8]}})", d8),
       "tensor 'a': dtype must be a string, got an unsigned integer"},
      {"negative dimension", raw_file(R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", d8),
       "tensor 'a': shape must be an array of non-negative integers, has a negative integer"},
      {"fractional dimension", raw_file(R"({"a":{"dtype":"F32","shape":[2.0],"data_offsets":[0,8]}})", d8),
       "has a non-integer number"},
      {"shape not an array", raw_file(R"({"a":{"dtype":"F32","shape":"2","data_offsets":[0,8]}})", d8),
       "tensor 'a': shape must be an array of non-negative integers, got a string"},
      {"shape overflows", raw_file(R"({"a":{"dtype":"F64","shape":[4294967296,4294967296],"data_offsets":[0,8]}})", d8),
       "tensor 'a': shape [4294967296, 4294967296] has more elements than fit in 64 bits"},
      {"three data_offsets", raw_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4,8]}})", d8),
       "tensor 'a': data_offsets must be [begin, end]"},
      {"negative offset", raw_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[-8,0]}})", d8),
       "tensor 'a': data_offsets must be [begin, end], two non-negative integers"},
      {"offsets reversed", raw_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})", d8),
       "tensor 'a': data_offsets [8, 0] end before they begin"},
      {"offsets past the data", raw_file(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", d8),
       "tensor 'a': data_offsets [0, 16] run past the data section of 8 bytes"},
      {"bytes disagree with the shape", raw_file(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", d8),
       "tensor 'a': data_offsets [0, 8] hold 8 bytes, but shape [3] of F32 needs 12"},
      {"overlapping tensors",
       raw_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", d8),
       "tensor 'b' (bytes [4, 8)) overlaps tensor 'a' (bytes [0, 8))"},
      {"gap between tensors",
       raw_file(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})",
                std::string(12, '\0')),
       "gap in the data section: bytes [4, 8) before tensor 'b' belong to no tensor"},
      {"bytes after the last tensor", raw_file(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", d8),
       "data section is 8 bytes but the tensors cover 4: 4 bytes at the end belong to no tensor"},
      {"metadata value not a string", raw_file(R"({"__metadata__":{"step":12}})"),
       "metadata 'step' must be a string, got an unsigned integer"},
      {"metadata not an object", raw_file(R"({"__metadata__":"x"})"), "'__metadata__' must be an object of strings, got a string"},
      {"empty tensor name", raw_file(R"({"":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}})"), "a tensor has an empty name"},
  };
}

TEST_CASE("safetensors: hand-made malformed files each give their message") {
  auto cases = malformed_files();
  CHECK(cases.size() >= 30);
  for (const auto& c : cases) {
    INFO("case: ", c.what);
    std::string msg = parse_error(c.bytes);
    CHECK_MESSAGE(msg.find(c.message) != std::string::npos, "got: ", msg);
    CHECK(msg.rfind("bad.safetensors: ", 0) == 0);  // every message names the source
  }
  // Optional: write them out as the fuzzer's seed corpus (tools/fuzz/corpus).
  if (const char* dir = std::getenv("UNROLL_WRITE_MALFORMED")) {
    int i = 0;
    for (const auto& c : cases) std::ofstream(std::string(dir) + "/malformed_" + std::to_string(i++)) << c.bytes;
  }
}

TEST_CASE("safetensors: checksum present, absent, or wrong") {
  SafeTensorsWriter w;
  w.add("a", mat<float>({{1, 2, 3}}));
  w.set_metadata("vocab", "[]");
  std::string good = w.serialize();
  SafeTensors::parse(good).verify_checksum(true);

  SafeTensors none = SafeTensors::parse(w.serialize(false), "none.safetensors");
  none.verify_checksum(false);
  CHECK_THROWS_WITH_AS(none.verify_checksum(true), doctest::Contains("none.safetensors: no checksum (metadata 'unroll.checksum')"),
                       CheckpointError);

  std::string bad = good;
  bad[bad.size() - 1] ^= 0x01;  // last data byte
  CHECK_THROWS_WITH_AS(SafeTensors::parse(bad, "bad").verify_checksum(false),
                       doctest::Contains("bad: checksum mismatch: metadata 'unroll.checksum' says"), CheckpointError);
}

namespace {
// The whole load path of load_model, from bytes: parse, checksum, metadata, names, shapes, values.
void validate_model_bytes(const std::string& bytes, const std::vector<ParamSpec>& specs) {
  SafeTensors f = SafeTensors::parse(bytes, "ckpt");
  f.verify_checksum(true);
  parse_model_info(f);
  read_params<float>(f, specs, true);
}

std::string small_model_file(std::vector<ParamSpec>& specs) {
  SafeTensorsWriter w;
  specs = {{"rnn.weight_ih_l0", 6, 2}, {"rnn.weight_hh_l0", 6, 3}, {"rnn.bias_ih_l0", 1, 6}, {"fc.weight", 2, 3}};
  w.set_metadata("unroll.format", "unroll");
  w.set_metadata("unroll.format_version", "1");
  w.set_metadata("unroll.kind", "model");
  w.set_metadata("config", R"({"hidden":3})");
  w.set_metadata("vocab", R"(["a","b"])");
  int j = 0;
  for (const auto& s : specs) w.add(s.name, ramp<float>(s.rows, s.cols, 0.5 + j++), stored_shape(s.name, s.rows, s.cols));
  return w.serialize();
}
}  // namespace

TEST_CASE("safetensors: truncation at every byte length is a clear error") {
  std::vector<ParamSpec> specs;
  std::string full = small_model_file(specs);
  validate_model_bytes(full, specs);
  std::size_t errors = 0;
  for (std::size_t len = 0; len < full.size(); ++len) {
    std::string msg;
    try {
      validate_model_bytes(full.substr(0, len), specs);
    } catch (const CheckpointError& e) {
      msg = e.what();
    }
    INFO("length ", len, " of ", full.size());
    REQUIRE_MESSAGE(!msg.empty(), "a truncated file loaded");
    bool names = msg.find("shorter than") != std::string::npos || msg.find("runs past") != std::string::npos ||
                 msg.find("run past the data section") != std::string::npos;
    CHECK_MESSAGE(names, msg);
    errors += !msg.empty();
  }
  CHECK(errors == full.size());
}

TEST_CASE("safetensors: every single-bit flip is detected") {
  std::vector<ParamSpec> specs;
  std::string full = small_model_file(specs);
  std::size_t detected = 0, flips = 0;
  for (std::size_t i = 0; i < full.size(); ++i)
    for (int bit = 0; bit < 8; ++bit) {
      std::string b = full;
      b[i] = static_cast<char>(b[i] ^ (1 << bit));
      ++flips;
      try {
        validate_model_bytes(b, specs);
        FAIL_CHECK("flip of bit ", bit, " of byte ", i, " loaded");
      } catch (const CheckpointError& e) {
        ++detected;
        CHECK(std::string(e.what()).rfind("ckpt: ", 0) == 0);
      }
    }
  MESSAGE("bit flips detected: ", detected, " of ", flips);
  CHECK(detected == flips);
}
