// models/common/config_json.h — reading a model's config JSON (the "config" text of its model file) field by field,
// with errors that name the config, where it came from and the field:
//   `runs/m.safetensors: char LM config: "embed" must be a positive integer, got 0`.
// Not here: writing configs (each config's to_json builds its nlohmann::json directly).
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace unroll::common {

class ConfigJson {
 public:
  // Parses text, which must be a JSON object whose "arch" is `arch`. `what` names it in errors, e.g.
  // "char LM config"; `source` (a file name, "" = none) is put in front. Throws std::invalid_argument.
  ConfigJson(const std::string& text, std::string_view what, std::string_view arch, std::string_view source = {});

  int positive_int(const char* key) const;                  // required, an integer > 0
  double number(const char* key, double if_absent) const;   // optional, any JSON number
  bool boolean(const char* key) const;                      // required, true or false

  [[noreturn]] void fail(const std::string& message) const;  // std::invalid_argument "<source>: <what>: <message>"

 private:
  std::string field_value(const char* key) const;  // the field as JSON text, or "nothing" when absent
  nlohmann::json j_;
  std::string prefix_;  // "<source>: <what>" or "<what>"
};

}  // namespace unroll::common
