// models/common/config_json.cc — see config_json.h.
#include "models/common/config_json.h"

#include <fmt/format.h>
#include <limits>
#include <stdexcept>

namespace unroll::common {

ConfigJson::ConfigJson(const std::string& text, std::string_view what, std::string_view arch,
                       std::string_view source)
    : prefix_(source.empty() ? std::string(what) : fmt::format("{}: {}", source, what)) {
  try {
    j_ = nlohmann::json::parse(text);
  } catch (const std::exception& e) {
    fail(fmt::format("not JSON ({})", e.what()));
  }
  const bool arch_ok = j_.is_object() && j_.contains("arch") && j_["arch"].is_string() && j_["arch"] == arch;
  if (!arch_ok) fail(fmt::format("expected {{\"arch\":\"{}\",…}}, got {}", arch, j_.dump().substr(0, 120)));
}

void ConfigJson::fail(const std::string& message) const {
  throw std::invalid_argument(fmt::format("{}: {}", prefix_, message));
}

std::string ConfigJson::field_value(const char* key) const {
  return j_.contains(key) ? j_[key].dump() : std::string("nothing");
}

int ConfigJson::positive_int(const char* key) const {
  const bool ok = j_.contains(key) && j_[key].is_number_integer() && j_[key].get<long long>() > 0 &&
                  j_[key].get<long long>() <= std::numeric_limits<int>::max();
  if (!ok) fail(fmt::format("\"{}\" must be a positive integer, got {}", key, field_value(key)));
  return j_[key].get<int>();
}

double ConfigJson::number(const char* key, double if_absent) const {
  if (!j_.contains(key)) return if_absent;
  if (!j_[key].is_number()) fail(fmt::format("\"{}\" must be a number, got {}", key, field_value(key)));
  return j_[key].get<double>();
}

bool ConfigJson::boolean(const char* key) const {
  if (!j_.contains(key) || !j_[key].is_boolean())
    fail(fmt::format("\"{}\" must be true or false, got {}", key, field_value(key)));
  return j_[key].get<bool>();
}

}  // namespace unroll::common
