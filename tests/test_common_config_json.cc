// tests/test_common_config_json.cc — models/common/config_json.h: typed fields of a config JSON, and errors that
// name the file, the config and the field.
#include "models/common/config_json.h"

#include <doctest/doctest.h>

#include <stdexcept>

using unroll::common::ConfigJson;

TEST_CASE("config_json: reads typed fields") {
  const ConfigJson j(R"({"arch":"x_lstm","vocab_size":12,"ratio":0.5,"whole":2,"on":true})", "x config", "x_lstm");
  CHECK(j.positive_int("vocab_size") == 12);
  CHECK(j.number("ratio", 9.0) == 0.5);
  CHECK(j.number("whole", 9.0) == 2.0);      // an integer is a number too
  CHECK(j.number("absent", 9.0) == 9.0);     // optional fields fall back
  CHECK(j.boolean("on"));
}

TEST_CASE("config_json: errors name the source, the config and the field") {
  const auto error = [](const std::string& text, const char* key, int kind) {
    try {
      const ConfigJson j(text, "x config", "x_lstm", "runs/m.safetensors");
      if (kind == 0) j.positive_int(key);
      if (kind == 1) j.number(key, 0);
      if (kind == 2) j.boolean(key);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  const std::string ok = R"({"arch":"x_lstm","a":0,"b":-3,"c":2.5,"d":"7","e":1,"big":4294967296})";
  CHECK(error(ok, "a", 0) == R"(runs/m.safetensors: x config: "a" must be a positive integer, got 0)");
  CHECK(error(ok, "b", 0).find(R"("b" must be a positive integer, got -3)") != std::string::npos);
  CHECK(error(ok, "c", 0).find(R"("c" must be a positive integer, got 2.5)") != std::string::npos);
  CHECK(error(ok, "d", 0).find(R"("d" must be a positive integer, got "7")") != std::string::npos);
  CHECK(error(ok, "big", 0).find(R"("big" must be a positive integer)") != std::string::npos);  // over int
  CHECK(error(ok, "zz", 0).find(R"("zz" must be a positive integer, got nothing)") != std::string::npos);
  CHECK(error(ok, "d", 1).find(R"("d" must be a number, got "7")") != std::string::npos);
  CHECK(error(ok, "e", 2).find(R"("e" must be true or false, got 1)") != std::string::npos);
  CHECK(error(ok, "zz", 2).find(R"("zz" must be true or false, got nothing)") != std::string::npos);
  CHECK(error("not json", "a", 0).find("runs/m.safetensors: x config: not JSON") == 0);
  CHECK(error(R"({"arch":"y_lstm"})", "a", 0).find(R"(expected {"arch":"x_lstm",…}, got {"arch":"y_lstm"})") !=
        std::string::npos);
  CHECK(error("[1,2]", "a", 0).find("expected {\"arch\"") != std::string::npos);
  CHECK(error(R"({"arch":3})", "a", 0).find("expected {\"arch\"") != std::string::npos);
  // without a source the message starts with the config's name
  CHECK_THROWS_WITH_AS(ConfigJson("{}", "x config", "x_lstm"), doctest::Contains("x config: expected"),
                       std::invalid_argument);
}
