// tools/fuzz/fuzz_checkpoint_loader.cc — libFuzzer target for the checkpoint loader (nn/safetensors.cc,
// nn/checkpoint.cc). Built by tools/fuzz/build.sh with clang -fsanitize=fuzzer,address,undefined.
// For arbitrary bytes it runs every step load_model and load_training_checkpoint run (parse and validate,
// checksum, metadata, names and shapes against a fixed model, value conversion both precisions); the only
// accepted failure is CheckpointError. When a file parses, it is written back with SafeTensorsWriter and
// read again: names, dtypes, shapes, metadata and data bytes must survive unchanged (else abort = finding).
#include "nn/checkpoint.h"
#include "nn/safetensors.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

using namespace unroll;

namespace {

[[noreturn]] void finding(const char* what) {
  std::fprintf(stderr, "FUZZ FINDING: %s\n", what);
  std::abort();
}

void check_round_trip(const SafeTensors& f) {
  SafeTensorsWriter w;
  for (const auto& [k, v] : f.metadata())
    if (k != kChecksumKey) w.set_metadata(k, v);
  for (const auto& t : f.tensors()) {
    std::size_t n = static_cast<std::size_t>(t.numel());
    try {
      if (t.dtype == DType::F32) w.add(t.name, f.to_mat<float>(t, 1, n), t.shape.empty() ? std::vector<std::uint64_t>{1, 1} : t.shape);
      else w.add(t.name, f.to_mat<double>(t, 1, n), t.shape.empty() ? std::vector<std::uint64_t>{1, 1} : t.shape);
    } catch (const CheckpointError&) {
      return;  // a NaN/Inf: the writer refuses those by design
    }
  }
  std::string again = w.serialize(true);
  SafeTensors g = SafeTensors::parse(again, "round trip");  // must not throw
  g.verify_checksum(true);                                  // must not throw
  if (g.tensors().size() != f.tensors().size()) finding("round trip: tensor count changed");
  for (const auto& t : f.tensors()) {
    const TensorEntry* u = g.find(t.name);
    if (!u) finding("round trip: a tensor vanished");
    std::vector<std::uint64_t> want = t.shape.empty() ? std::vector<std::uint64_t>{1, 1} : t.shape;
    if (u->dtype != t.dtype || u->shape != want) finding("round trip: dtype or shape changed");
    if (g.data(*u) != f.data(t)) finding("round trip: data bytes changed");
  }
  for (const auto& [k, v] : f.metadata())
    if (k != kChecksumKey && (!g.metadata().count(k) || g.metadata().at(k) != v)) finding("round trip: metadata changed");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  SafeTensors f = [&]() -> SafeTensors {
    try {
      return SafeTensors::parse(bytes, "fuzz");
    } catch (const CheckpointError&) {
      return SafeTensors::parse(std::string("\x02\0\0\0\0\0\0\0{}", 10), "empty");
    }
  }();
  if (f.source() == "empty") return 0;

  try {
    f.verify_checksum(false);
  } catch (const CheckpointError&) {
  }
  try {
    parse_model_info(f);
  } catch (const CheckpointError&) {
  }
  // The model a fuzzed file is checked against (names and shapes as the seed corpus uses them).
  const std::vector<ParamSpec> specs = {{"fc.weight", 2, 3}, {"fc.bias", 1, 2}, {"rnn.weight_ih_l0", 6, 2}};
  for (bool strict : {true, false}) {
    try {
      read_params<float>(f, specs, strict);
    } catch (const CheckpointError&) {
    }
    try {
      read_params<double>(f, specs, strict);
    } catch (const CheckpointError&) {
    }
  }
  for (const auto& t : f.tensors()) {
    std::size_t n = static_cast<std::size_t>(t.numel());
    (void)f.to_mat<float>(t, n, 1, true);
    (void)f.to_mat<double>(t, 1, n, true);
    for (bool as_double : {false, true}) {  // the checked path: NaN/Inf and float overflow refused
      try {
        if (as_double) (void)f.to_mat<double>(t, 1, n);
        else (void)f.to_mat<float>(t, 1, n);
      } catch (const CheckpointError&) {
      }
    }
    try {
      (void)f.to_mat<float>(t, 1, n + 1);  // wrong size: must be refused
      finding("to_mat accepted a wrong element count");
    } catch (const CheckpointError&) {
    }
  }
  check_round_trip(f);
  return 0;
}
