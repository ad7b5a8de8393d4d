// models/data/fortunes.cc — file list, "%" splitting, UTF-8 replacement per file.
#include "models/data/fortunes.h"

#include <algorithm>
#include <fmt/format.h>

namespace unroll::data {

std::vector<std::string> split_fortunes(std::string_view text) {
  std::vector<std::string> out;
  std::string cur;
  const auto flush = [&] {
    if (cur.find_first_not_of(" \t\n\r\f\v") != std::string::npos) {
      const auto b = cur.find_first_not_of('\n');
      const auto e = cur.find_last_not_of('\n');
      out.push_back(cur.substr(b, e - b + 1));
    }
    cur.clear();
  };
  std::size_t start = 0;
  bool first = true;
  while (start <= text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(start, end - start);
    if (line == "%") {
      flush();
      first = true;
    } else {
      if (!first) cur += '\n';
      cur.append(line);
      first = false;
    }
    start = end + 1;
  }
  flush();
  return out;
}

std::string join_fortunes(const std::vector<std::string>& fortunes) {
  std::size_t n = 0;
  for (const auto& f : fortunes) n += f.size() + fortune_end_mark.size();
  std::string out;
  out.reserve(n);
  for (const auto& f : fortunes) {
    out += f;
    out += fortune_end_mark;
  }
  return out;
}

std::filesystem::path default_fortunes_dir() { return data_root() / "fortunes" / "usr" / "share" / "games" / "fortunes"; }

FortuneCorpus load_fortunes(const std::filesystem::path& dir, Utf8Policy policy) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec))
    throw DataError(fmt::format("fortunes: corpus folder {} not found (run tools/fetch_data.sh, or set UNROLL_DATA)",
                                dir.string()));
  FortuneCorpus corpus;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (e.is_symlink() || !e.is_regular_file() || name.find('.') != std::string::npos) continue;
    corpus.files.push_back(name);
  }
  std::sort(corpus.files.begin(), corpus.files.end());
  if (corpus.files.empty())
    throw DataError(fmt::format("fortunes: empty corpus: no fortune file (name without '.') in {}", dir.string()));
  std::size_t unit = 0;
  for (const auto& name : corpus.files) {
    const auto path = dir / name;
    const auto clean = sanitize_utf8(read_file_bytes(path, "fortunes"), policy, fmt::format("fortunes: {}", path.string()));
    corpus.utf8_replaced += clean.replaced;
    for (auto& f : split_fortunes(clean.text)) {
      const Split s = split_of(unit++);
      (s == Split::train ? corpus.train : s == Split::dev ? corpus.dev : corpus.test).push_back(std::move(f));
    }
  }
  if (unit == 0) throw DataError(fmt::format("fortunes: empty corpus: {} files in {} hold no fortune", corpus.files.size(), dir.string()));
  return corpus;
}

}  // namespace unroll::data
