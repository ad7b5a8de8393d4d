// models/data/fortunes.h — Debian `fortunes` (../shared/DATA.md section 3): every regular file in
// usr/share/games/fortunes whose name has no '.', sorted by name (no *.dat, *.u8, no symlinks); text split on lines
// exactly "%"; entries that are only white space dropped; leading/trailing newlines stripped; unit = fortune.
#pragma once

#include "models/data/common.h"
#include "models/data/utf8.h"

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace unroll::data {

struct FortuneCorpus {
  std::vector<std::string> train, dev, test;  // UTF-8 fortunes, without the "%" lines
  std::vector<std::string> files;             // the file names read, in order
  std::size_t utf8_replaced = 0;              // invalid UTF-8 sequences replaced by U+FFFD
  const std::vector<std::string>& split(Split s) const { return s == Split::train ? train : s == Split::dev ? dev : test; }
};

// Splits one file's (valid UTF-8) text into fortunes by the rules above.
std::vector<std::string> split_fortunes(std::string_view text);

// The char-LM text of a split: each fortune followed by a line "%" ("fortune\n%\n"), so the model learns the end mark.
inline constexpr std::string_view fortune_end_mark = "\n%\n";
std::string join_fortunes(const std::vector<std::string>& fortunes);

std::filesystem::path default_fortunes_dir();  // data_root()/fortunes/usr/share/games/fortunes
FortuneCorpus load_fortunes(const std::filesystem::path& dir = default_fortunes_dir(),
                            Utf8Policy policy = Utf8Policy::replace);

}  // namespace unroll::data
