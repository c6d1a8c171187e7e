// Badge text: UTF-8, shields' case changes and text widths.
#include "app/badge_text.hpp"

#include <utility>

namespace app::badge_text {
namespace {

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xc0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xe0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else {
    out += static_cast<char>(0xf0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  }
}

bool in(char32_t cp, char32_t first, char32_t last) { return cp >= first && cp <= last; }

// In blocks where capitals and small letters alternate, the small letter of a pair is the
// odd code point (`small_odd`) or the even one.
bool small_of_pair(char32_t cp, bool small_odd) { return (cp % 2 == 1) == small_odd; }

// Appends the capital(s) of `cp` to `out` (UTF-8): Unicode's upper-case mapping
// (SpecialCasing included) over the blocks badge_text.hpp names.
void append_upper(std::string& out, char32_t cp) {
  char32_t up = cp;
  if (in(cp, 'a', 'z') || in(cp, 0xe0, 0xfe)) {
    if (cp != 0xf7) up = cp - 0x20;  // ÷ has no capital
  } else if (cp == 0xb5) {
    up = 0x39c;  // µ: Greek capital mu
  } else if (cp == 0xdf) {
    out += "SS";
    return;
  } else if (cp == 0xff) {
    up = 0x178;
  } else if (cp == 0x131) {
    up = 'I';  // dotless i
  } else if (cp == 0x149) {
    append_utf8(out, 0x2bc);
    out += 'N';
    return;
  } else if (cp == 0x17f) {
    up = 'S';  // long s
  } else if (in(cp, 0x100, 0x12f) || in(cp, 0x132, 0x137) || in(cp, 0x14a, 0x177)) {
    if (small_of_pair(cp, true)) up = cp - 1;
  } else if (in(cp, 0x139, 0x148) || in(cp, 0x179, 0x17e)) {
    if (small_of_pair(cp, false)) up = cp - 1;
  } else if (in(cp, 0x370, 0x3ff)) {
    if (in(cp, 0x3b1, 0x3c1) || in(cp, 0x3c3, 0x3cb)) {
      up = cp - 0x20;
    } else if (cp == 0x3c2) {
      up = 0x3a3;  // final sigma
    } else if (cp == 0x3ac) {
      up = 0x386;
    } else if (in(cp, 0x3ad, 0x3af)) {
      up = cp - 0x25;
    } else if (cp == 0x3cc) {
      up = 0x38c;
    } else if (in(cp, 0x3cd, 0x3ce)) {
      up = cp - 0x3f;
    } else if (cp == 0x390 || cp == 0x3b0) {  // with dialytika and tonos: three characters
      append_utf8(out, cp == 0x390 ? 0x399 : 0x3a5);
      append_utf8(out, 0x308);
      up = 0x301;
    } else if (cp == 0x371 || cp == 0x373 || cp == 0x377 || cp == 0x3f8 || cp == 0x3fb) {
      up = cp - 1;
    } else if (in(cp, 0x3d8, 0x3ef)) {
      if (small_of_pair(cp, true)) up = cp - 1;
    } else if (in(cp, 0x37b, 0x37d)) {
      up = cp + 0x82;
    } else {
      // Letter variants: beta, theta, phi, pi, kai, kappa, rho, lunate sigma, yot, epsilon.
      constexpr std::pair<char32_t, char32_t> kVariants[] = {
          {0x3d0, 0x392}, {0x3d1, 0x398}, {0x3d5, 0x3a6}, {0x3d6, 0x3a0}, {0x3d7, 0x3cf},
          {0x3f0, 0x39a}, {0x3f1, 0x3a1}, {0x3f2, 0x3f9}, {0x3f3, 0x37f}, {0x3f5, 0x395}};
      for (const auto& [small, capital] : kVariants) {
        if (cp == small) up = capital;
      }
    }
  } else if (in(cp, 0x430, 0x44f)) {
    up = cp - 0x20;
  } else if (in(cp, 0x450, 0x45f)) {
    up = cp - 0x50;
  } else if (in(cp, 0x460, 0x481) || in(cp, 0x48a, 0x4bf) || in(cp, 0x4d0, 0x52f) ||
             in(cp, 0x1e00, 0x1e95) || in(cp, 0x1ea0, 0x1eff)) {
    if (small_of_pair(cp, true)) up = cp - 1;
  } else if (in(cp, 0x4c1, 0x4ce)) {
    if (small_of_pair(cp, false)) up = cp - 1;
  } else if (cp == 0x4cf) {
    up = 0x4c0;  // palochka
  } else if (in(cp, 0x1e96, 0x1e9a)) {
    // h, t, w, y and a with a mark that has no precomposed capital: the letter, then the mark.
    constexpr char kLetters[] = {'H', 'T', 'W', 'Y', 'A'};
    constexpr char32_t kMarks[] = {0x331, 0x308, 0x30a, 0x30a, 0x2be};
    out += kLetters[cp - 0x1e96];
    up = kMarks[cp - 0x1e96];
  } else if (cp == 0x1e9b) {
    up = 0x1e60;  // long s with dot above
  } else if (in(cp, 0xff41, 0xff5a)) {
    up = cp - 0x20;  // full-width Latin
  }
  append_utf8(out, up);
}

}  // namespace

std::optional<std::u32string> decode_utf8(std::string_view text) {
  std::u32string out;
  for (std::size_t i = 0; i < text.size();) {
    const auto lead = static_cast<unsigned char>(text[i]);
    std::size_t extra = 0;
    char32_t cp = lead;
    if (lead >= 0xc2 && lead <= 0xdf) {
      extra = 1;
      cp = lead & 0x1fu;
    } else if (lead >= 0xe0 && lead <= 0xef) {
      extra = 2;
      cp = lead & 0x0fu;
    } else if (lead >= 0xf0 && lead <= 0xf4) {
      extra = 3;
      cp = lead & 0x07u;
    } else if (lead >= 0x80) {
      return std::nullopt;
    }
    if (i + extra >= text.size() && extra > 0) return std::nullopt;
    for (std::size_t k = 1; k <= extra; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xc0u) != 0x80u) return std::nullopt;
      cp = (cp << 6) | (next & 0x3fu);
    }
    const bool overlong = (extra == 2 && cp < 0x800) || (extra == 3 && cp < 0x10000);
    if (overlong || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) return std::nullopt;
    out.push_back(cp);
    i += 1 + extra;
  }
  return out;
}

std::string to_upper(std::string_view text) {
  const auto cps = decode_utf8(text);
  if (!cps) return std::string(text);
  std::string out;
  out.reserve(text.size());
  for (const char32_t cp : *cps) append_upper(out, cp);
  return out;
}

std::string capitalize(std::string_view text) {
  const auto cps = decode_utf8(text);
  if (!cps || cps->empty()) return std::string(text);
  std::string out;
  // JavaScript capitalizes the first UTF-16 unit: a character past U+FFFF stays as it is.
  if (cps->front() < 0x10000) {
    append_upper(out, cps->front());
  } else {
    append_utf8(out, cps->front());
  }
  for (std::size_t i = 1; i < cps->size(); ++i) append_utf8(out, (*cps)[i]);
  return out;
}

double width(Font font, std::string_view text) {
  const double em = table_advance(font, 'm') / 100.0;
  const auto cps = decode_utf8(text);
  double sum = 0.0;
  if (!cps) {
    for (std::size_t i = 0; i < text.size(); ++i) sum += em;
    return sum;
  }
  for (const char32_t cp : *cps) {
    if (cp <= 31 || cp == 127) continue;
    const int advance = table_advance(font, cp);
    // n / 100.0 is the double nearest to the table's decimal, as JavaScript reads it.
    sum += advance < 0 ? em : advance / 100.0;
  }
  return sum;
}

std::size_t utf16_length(std::string_view text) {
  const auto cps = decode_utf8(text);
  if (!cps) return text.size();
  std::size_t units = 0;
  for (const char32_t cp : *cps) units += cp >= 0x10000 ? 2 : 1;
  return units;
}

}  // namespace app::badge_text
