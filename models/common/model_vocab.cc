// models/common/model_vocab.cc — see model_vocab.h.
#include "models/common/model_vocab.h"

#include "models/data/utf8.h"

#include <fmt/format.h>
#include <stdexcept>

namespace unroll::common {

namespace {
void check_reserved(const std::vector<std::string>& entries, const std::string& path) {
  if (entries.size() < data::Vocab::num_reserved)
    throw std::invalid_argument(fmt::format("{}: vocabulary has {} entries, expected at least the {} reserved ids",
                                            path, entries.size(), data::Vocab::num_reserved));
  for (std::size_t i = 0; i < data::Vocab::num_reserved; ++i)
    if (entries[i] != data::Vocab::reserved_names[i])
      throw std::invalid_argument(fmt::format("{}: vocabulary entry {} is '{}', expected '{}'", path, i, entries[i],
                                              data::Vocab::reserved_names[i]));
}

void check_size(std::size_t size, const std::string& path, std::size_t expected_size) {
  if (size != expected_size)
    throw std::invalid_argument(fmt::format("{}: config says vocab_size {}, the file lists {} tokens", path,
                                            expected_size, size));
}
}  // namespace

std::vector<std::string> vocab_entries(const data::CharVocab& vocab) {
  std::vector<std::string> out;
  for (auto name : data::Vocab::reserved_names) out.emplace_back(name);
  for (std::size_t id = data::Vocab::num_reserved; id < vocab.size(); ++id) {
    std::string s;
    data::utf8_append(s, vocab.code_point(std::int64_t(id)));
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<std::string> vocab_entries(const data::Vocab& vocab) {
  std::vector<std::string> out;
  for (std::size_t id = 0; id < vocab.size(); ++id) out.push_back(vocab.token(std::int64_t(id)));
  return out;
}

data::CharVocab char_vocab_from_entries(const std::vector<std::string>& entries, const std::string& path,
                                        std::size_t expected_size) {
  check_reserved(entries, path);
  data::CharVocab vocab;
  for (std::size_t i = data::Vocab::num_reserved; i < entries.size(); ++i) {
    const auto cps = data::utf8_decode(entries[i]);
    if (cps.size() != 1)
      throw std::invalid_argument(fmt::format("{}: vocabulary entry {} '{}' is not one character", path, i,
                                              entries[i]));
    vocab.add(cps[0]);
  }
  vocab.freeze();
  check_size(vocab.size(), path, expected_size);
  return vocab;
}

data::Vocab word_vocab_from_entries(const std::vector<std::string>& entries, const std::string& path,
                                    std::size_t expected_size) {
  check_reserved(entries, path);
  data::Vocab vocab;
  for (std::size_t i = data::Vocab::num_reserved; i < entries.size(); ++i) vocab.add(entries[i]);
  vocab.freeze();
  check_size(vocab.size(), path, expected_size);
  return vocab;
}

}  // namespace unroll::common
