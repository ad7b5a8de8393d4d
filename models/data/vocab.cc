// models/data/vocab.cc — Counter, Vocab, CharVocab, LabelSet and their text/JSON forms.
#include "models/data/vocab.h"

#include "models/data/common.h"
#include "models/data/utf8.h"

#include <algorithm>
#include <fmt/format.h>
#include <fstream>
#include <nlohmann/json.hpp>
#include <numeric>

namespace unroll::data {

// ---- Counter ---------------------------------------------------------------------------------------------
void Counter::add(std::string_view token, std::int64_t n) {
  auto [it, inserted] = index_.try_emplace(std::string(token), tokens_.size());
  if (inserted) {
    tokens_.emplace_back(token);
    counts_.push_back(0);
  }
  counts_[it->second] += n;
}

std::int64_t Counter::count(std::string_view token) const {
  auto it = index_.find(std::string(token));
  return it == index_.end() ? 0 : counts_[it->second];
}

std::vector<std::pair<std::string, std::int64_t>> Counter::most_common() const {
  std::vector<std::size_t> order(tokens_.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return counts_[a] > counts_[b]; });
  std::vector<std::pair<std::string, std::int64_t>> out;
  out.reserve(order.size());
  for (std::size_t i : order) out.emplace_back(tokens_[i], counts_[i]);
  return out;
}

// ---- Vocab -----------------------------------------------------------------------------------------------
Vocab::Vocab() {
  for (auto name : reserved_names) {
    index_.emplace(std::string(name), static_cast<std::int64_t>(tokens_.size()));
    tokens_.emplace_back(name);
  }
}

Vocab Vocab::build(const Counter& counts, const VocabOptions& options) {
  Vocab v;
  for (const auto& [tok, n] : counts.most_common()) {
    if (n < options.min_count) break;  // sorted by count: nothing after this qualifies
    if (options.max_size && v.size() - num_reserved >= options.max_size) break;
    if (v.contains(tok)) continue;  // a corpus token spelled like a reserved one keeps the reserved id
    v.add(tok);
  }
  v.freeze();
  return v;
}

std::int64_t Vocab::add(std::string_view token) {
  if (auto it = index_.find(std::string(token)); it != index_.end()) return it->second;
  if (frozen_)
    throw DataError(fmt::format("Vocab::add: vocabulary is frozen ({} tokens), cannot add '{}'", size(), token));
  const auto id = static_cast<std::int64_t>(tokens_.size());
  index_.emplace(std::string(token), id);
  tokens_.emplace_back(token);
  return id;
}

std::int64_t Vocab::id(std::string_view token) const {
  auto it = index_.find(std::string(token));
  return it == index_.end() ? unk : it->second;
}

const std::string& Vocab::token(std::int64_t id) const {
  if (id < 0 || id >= static_cast<std::int64_t>(tokens_.size()))
    throw DataError(fmt::format("Vocab::token: id {} out of range, expected 0..{}", id, tokens_.size() - 1));
  return tokens_[static_cast<std::size_t>(id)];
}

std::vector<std::int64_t> Vocab::encode(const std::vector<std::string>& tokens, bool add_bos, bool add_eos) const {
  std::vector<std::int64_t> ids;
  ids.reserve(tokens.size() + 2);
  if (add_bos) ids.push_back(bos);
  for (const auto& t : tokens) ids.push_back(id(t));
  if (add_eos) ids.push_back(eos);
  return ids;
}

std::vector<std::string> Vocab::decode(const std::vector<std::int64_t>& ids, bool skip_reserved) const {
  std::vector<std::string> out;
  out.reserve(ids.size());
  for (auto i : ids) {
    if (skip_reserved && i >= 0 && i < static_cast<std::int64_t>(num_reserved) && i != unk) continue;
    out.push_back(token(i));
  }
  return out;
}

std::size_t Vocab::count_unknown(const std::vector<std::string>& tokens) const {
  return static_cast<std::size_t>(
      std::count_if(tokens.begin(), tokens.end(), [&](const std::string& t) { return !contains(t); }));
}

void Vocab::save_text(const std::filesystem::path& path) const {
  std::ofstream out(path, std::ios::binary);
  if (!out) throw DataError(fmt::format("Vocab::save_text: cannot write {}", path.string()));
  for (const auto& t : tokens_) {
    if (t.find_first_of("\n\r") != std::string::npos)
      throw DataError(fmt::format("Vocab::save_text: token '{}' contains a newline; use save_json", t));
    out << t << '\n';
  }
}

namespace {
void check_reserved(const std::vector<std::string>& tokens, std::string_view what) {
  if (tokens.size() < Vocab::num_reserved)
    throw DataError(fmt::format("{}: {} tokens, expected at least the {} reserved ones", what, tokens.size(),
                                Vocab::num_reserved));
  for (std::size_t i = 0; i < Vocab::num_reserved; ++i)
    if (tokens[i] != Vocab::reserved_names[i])
      throw DataError(fmt::format("{}: id {} is '{}', expected '{}'", what, i, tokens[i], Vocab::reserved_names[i]));
}
}  // namespace

Vocab Vocab::load_text(const std::filesystem::path& path) {
  const std::string what = fmt::format("Vocab::load_text {}", path.string());
  const std::string bytes = read_file_bytes(path, "Vocab::load_text");
  std::vector<std::string> tokens;
  std::size_t start = 0;
  while (start < bytes.size()) {
    std::size_t end = bytes.find('\n', start);
    if (end == std::string::npos) end = bytes.size();
    tokens.push_back(bytes.substr(start, end - start));
    start = end + 1;
  }
  check_reserved(tokens, what);
  Vocab v;
  for (std::size_t i = num_reserved; i < tokens.size(); ++i) {
    if (v.contains(tokens[i]))
      throw DataError(fmt::format("{}:{}: duplicate token '{}'", path.string(), i + 1, tokens[i]));
    v.add(tokens[i]);
  }
  v.freeze();
  return v;
}

namespace {
// The optional "frozen" flag of a vocabulary's JSON form (default true); anything but a boolean is a DataError.
bool frozen_flag(const nlohmann::json& j, std::string_view what) {
  const auto it = j.find("frozen");
  if (it == j.end()) return true;
  if (!it->is_boolean())
    throw DataError(fmt::format("{}: \"frozen\" must be true or false, got a {}", what, it->type_name()));
  return it->get<bool>();
}
}  // namespace

nlohmann::json Vocab::to_json() const { return {{"kind", "vocab"}, {"frozen", frozen_}, {"tokens", tokens_}}; }

Vocab Vocab::from_json(const nlohmann::json& j, std::string_view what) {
  if (!j.is_object() || !j.contains("tokens") || !j["tokens"].is_array())
    throw DataError(fmt::format("{}: expected an object with a \"tokens\" array", what));
  std::vector<std::string> tokens;
  for (const auto& t : j["tokens"]) {
    if (!t.is_string()) throw DataError(fmt::format("{}: token {} is not a string", what, tokens.size()));
    tokens.push_back(t.get<std::string>());
  }
  check_reserved(tokens, what);
  Vocab v;
  for (std::size_t i = num_reserved; i < tokens.size(); ++i) {
    if (v.contains(tokens[i])) throw DataError(fmt::format("{}: duplicate token '{}' at id {}", what, tokens[i], i));
    v.add(tokens[i]);
  }
  if (frozen_flag(j, what)) v.freeze();
  return v;
}

void Vocab::save_json(const std::filesystem::path& path) const {
  std::string text;
  try {  // before opening: a token that is not UTF-8 must not leave an empty file behind
    text = to_json().dump();
  } catch (const nlohmann::json::exception& e) {
    throw DataError(fmt::format("Vocab::save_json: {}: a token is not valid UTF-8 ({}); sanitize the text first",
                                path.string(), e.what()));
  }
  std::ofstream out(path, std::ios::binary);
  if (!out) throw DataError(fmt::format("Vocab::save_json: cannot write {}", path.string()));
  out << text << '\n';
}

namespace {
nlohmann::json parse_json_file(const std::filesystem::path& path, std::string_view what) {
  const std::string bytes = read_file_bytes(path, what);
  try {
    return nlohmann::json::parse(bytes);
  } catch (const nlohmann::json::parse_error& e) {
    throw DataError(fmt::format("{}: {}: bad JSON at byte {}: {}", what, path.string(), e.byte, e.what()));
  }
}
}  // namespace

Vocab Vocab::load_json(const std::filesystem::path& path) {
  return from_json(parse_json_file(path, "Vocab::load_json"), fmt::format("Vocab::load_json {}", path.string()));
}

// ---- CharVocab -------------------------------------------------------------------------------------------
CharVocab CharVocab::build(std::string_view utf8_train_text, bool sorted) {
  std::vector<char32_t> seen;
  std::unordered_map<char32_t, bool> have;
  for (char32_t c : utf8_decode(utf8_train_text))
    if (have.emplace(c, true).second) seen.push_back(c);
  if (sorted) std::sort(seen.begin(), seen.end());
  CharVocab v;
  for (char32_t c : seen) v.add(c);
  v.freeze();
  return v;
}

std::int64_t CharVocab::add(char32_t cp) {
  if (auto it = index_.find(cp); it != index_.end()) return it->second;
  if (frozen_)
    throw DataError(fmt::format("CharVocab::add: vocabulary is frozen ({} ids), cannot add U+{:04X}", size(),
                                static_cast<std::uint32_t>(cp)));
  const auto id = static_cast<std::int64_t>(size());
  index_.emplace(cp, id);
  chars_.push_back(cp);
  return id;
}

std::int64_t CharVocab::id(char32_t cp) const {
  auto it = index_.find(cp);
  return it == index_.end() ? Vocab::unk : it->second;
}

char32_t CharVocab::code_point(std::int64_t id) const {
  if (id < static_cast<std::int64_t>(Vocab::num_reserved) || id >= static_cast<std::int64_t>(size()))
    throw DataError(fmt::format("CharVocab::code_point: id {} is not a character id, expected {}..{}", id,
                                Vocab::num_reserved, size() - 1));
  return chars_[static_cast<std::size_t>(id) - Vocab::num_reserved];
}

std::vector<std::int64_t> CharVocab::encode(std::string_view utf8) const {
  std::vector<std::int64_t> ids;
  ids.reserve(utf8.size());
  for (char32_t c : utf8_decode(utf8)) ids.push_back(id(c));
  return ids;
}

std::string CharVocab::decode(const std::vector<std::int64_t>& ids) const {
  std::string out;
  for (auto i : ids)
    if (i >= static_cast<std::int64_t>(Vocab::num_reserved)) utf8_append(out, code_point(i));
  return out;
}

nlohmann::json CharVocab::to_json() const {
  std::vector<std::uint32_t> cps(chars_.begin(), chars_.end());
  return {{"kind", "char_vocab"}, {"reserved", Vocab::reserved_names}, {"frozen", frozen_}, {"code_points", cps}};
}

CharVocab CharVocab::from_json(const nlohmann::json& j, std::string_view what) {
  if (!j.is_object() || !j.contains("code_points") || !j["code_points"].is_array())
    throw DataError(fmt::format("{}: expected an object with a \"code_points\" array", what));
  CharVocab v;
  for (const auto& c : j["code_points"]) {
    if (!c.is_number_unsigned() || c.get<std::uint64_t>() > 0x10FFFF ||
        (c.get<std::uint64_t>() >= 0xD800 && c.get<std::uint64_t>() <= 0xDFFF))
      throw DataError(fmt::format("{}: code point {} is not in 0..0x10FFFF (surrogates D800..DFFF excluded)", what,
                                  c.dump()));
    const auto cp = static_cast<char32_t>(c.get<std::uint32_t>());
    if (v.contains(cp)) throw DataError(fmt::format("{}: duplicate code point U+{:04X}", what, c.get<std::uint32_t>()));
    v.add(cp);
  }
  if (frozen_flag(j, what)) v.freeze();
  return v;
}

void CharVocab::save_json(const std::filesystem::path& path) const {
  std::ofstream out(path, std::ios::binary);
  if (!out) throw DataError(fmt::format("CharVocab::save_json: cannot write {}", path.string()));
  out << to_json().dump() << '\n';
}

CharVocab CharVocab::load_json(const std::filesystem::path& path) {
  return from_json(parse_json_file(path, "CharVocab::load_json"),
                   fmt::format("CharVocab::load_json {}", path.string()));
}

// ---- LabelSet --------------------------------------------------------------------------------------------
std::int64_t LabelSet::add(std::string_view label) {
  if (auto it = index_.find(std::string(label)); it != index_.end()) return it->second;
  if (frozen_) throw DataError(fmt::format("LabelSet::add: label set is frozen ({} labels), cannot add '{}'", size(), label));
  const auto id = static_cast<std::int64_t>(labels_.size());
  index_.emplace(std::string(label), id);
  labels_.emplace_back(label);
  return id;
}

std::int64_t LabelSet::id(std::string_view label) const {
  auto it = index_.find(std::string(label));
  if (it == index_.end()) throw DataError(fmt::format("LabelSet::id: unknown label '{}' ({} labels)", label, size()));
  return it->second;
}

const std::string& LabelSet::label(std::int64_t id) const {
  if (id < 0 || id >= static_cast<std::int64_t>(labels_.size()))
    throw DataError(fmt::format("LabelSet::label: id {} out of range, expected 0..{}", id,
                                static_cast<std::int64_t>(labels_.size()) - 1));
  return labels_[static_cast<std::size_t>(id)];
}

nlohmann::json LabelSet::to_json() const { return {{"kind", "labels"}, {"labels", labels_}}; }

LabelSet LabelSet::from_json(const nlohmann::json& j, std::string_view what) {
  if (!j.is_object() || !j.contains("labels") || !j["labels"].is_array())
    throw DataError(fmt::format("{}: expected an object with a \"labels\" array", what));
  LabelSet s;
  for (const auto& l : j["labels"]) {
    if (!l.is_string()) throw DataError(fmt::format("{}: label {} is not a string", what, s.size()));
    if (s.contains(l.get<std::string>())) throw DataError(fmt::format("{}: duplicate label {}", what, l.dump()));
    s.add(l.get<std::string>());
  }
  s.freeze();
  return s;
}

}  // namespace unroll::data
