// BotFilter: isbot's JavaScript regexes translated to Boost.Regex, a literal prefilter that
// tries only the patterns that can match, and a bounded, sharded verdict cache in front.
#include "counting/policy/bots.hpp"

#include <algorithm>
#include <array>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <boost/regex.hpp>
#include <cstdint>
#include <functional>
#include <iterator>
#include <locale>
#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "counting/policy/bot_list.hpp"

namespace counting::policy {
namespace {

// The longest User-Agent the cache keeps: real browsers send 100 to 300 bytes.
constexpr std::size_t kMaxCachedLength = 512;

// As isbot compiles its list: case-insensitive; `^` and `$` only at the ends of the text and
// `.` not across a line break (JavaScript without the m and s flags). The classic locale
// makes \w, \d, \s, \b and the case folding ASCII, as in JavaScript.
constexpr auto kSyntax =
    boost::regex::perl | boost::regex::icase | boost::regex::no_mod_m | boost::regex::no_mod_s;

[[noreturn]] void unsupported(std::string_view pattern, std::string_view what) {
  throw std::invalid_argument(std::string(what) + " in /" + std::string(pattern) + "/");
}

bool is_ascii_alnum(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool is_class_escape(char c) {
  return std::string_view("dDwWsS").find(c) != std::string_view::npos;
}

// The end of the escape that starts at s[i] == '\\'. Accepts only the escapes that mean the
// same in JavaScript and Boost.Regex: an escaped punctuation character, \d \D \w \W \s \S,
// \b \B (not in a class, where JavaScript reads \b as a backspace), \t \n \r \f and \xHH.
std::size_t escape_end(std::string_view s, std::size_t i, bool in_class) {
  if (i + 1 >= s.size()) unsupported(s, "a trailing backslash");
  const char e = s[i + 1];
  if (!is_ascii_alnum(e) || is_class_escape(e)) return i + 2;
  if (std::string_view("tnrf").find(e) != std::string_view::npos) return i + 2;
  if ((e == 'b' || e == 'B') && !in_class) return i + 2;
  if (e == 'x' && i + 3 < s.size() && is_hex(s[i + 2]) && is_hex(s[i + 3])) return i + 4;
  unsupported(s, std::string("the escape \\") + e);
}

// Appends a JavaScript atom (one character, or an escape from escape_end) in Boost.Regex
// syntax. An escaped punctuation character becomes \xHH: Boost.Regex gives some of them a
// meaning ("\<" is a word start there, a plain '<' in JavaScript).
void append_atom(std::string& out, std::string_view atom) {
  if (atom.size() == 2 && atom[0] == '\\' && !is_ascii_alnum(atom[1])) {
    constexpr std::string_view kHex = "0123456789abcdef";
    const auto byte = static_cast<unsigned char>(atom[1]);
    out += "\\x";
    out += kHex[byte >> 4U];
    out += kHex[byte & 0xfU];
  } else {
    out += atom;
  }
}

// The end of the character class that starts at s[i] == '['.
std::size_t class_end(std::string_view s, std::size_t i) {
  std::size_t j = i + 1;
  if (j < s.size() && s[j] == '^') ++j;
  if (j < s.size() && s[j] == ']') unsupported(s, "an empty class");
  while (j < s.size() && s[j] != ']') j = s[j] == '\\' ? escape_end(s, j, true) : j + 1;
  if (j >= s.size()) unsupported(s, "an unterminated class");
  return j + 1;
}

// The end of the group that starts at s[i] == '(' (after its ')').
std::size_t group_end(std::string_view s, std::size_t i) {
  int depth = 0;
  for (std::size_t j = i; j < s.size();) {
    switch (s[j]) {
      case '\\':
        j = escape_end(s, j, false);
        continue;
      case '[':
        j = class_end(s, j);
        continue;
      case '(':
        ++depth;
        break;
      case ')':
        if (--depth == 0) return j + 1;
        break;
      default:
        break;
    }
    ++j;
  }
  unsupported(s, "an unterminated group");
}

// `s` cut at its top-level '|'.
std::vector<std::string_view> alternatives(std::string_view s) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  for (std::size_t j = 0; j < s.size();) {
    if (s[j] == '\\') {
      j = escape_end(s, j, false);
    } else if (s[j] == '[') {
      j = class_end(s, j);
    } else if (s[j] == '(') {
      j = group_end(s, j);
    } else if (s[j] == '|') {
      parts.push_back(s.substr(start, j - start));
      start = ++j;
    } else {
      ++j;
    }
  }
  parts.push_back(s.substr(start));
  return parts;
}

// A character class, from '[' to ']'. JavaScript reads a '-' next to a class escape or after
// a range as a plain '-' ("[\w\d-.]"); Boost.Regex rejects that, so it is escaped. A '['
// inside is plain in JavaScript but may open "[:alpha:]" in Boost, so it is escaped too.
std::string translate_class(std::string_view cls) {
  std::string out = "[";
  std::size_t j = 1;
  if (cls[j] == '^') out += cls[j++];
  enum class Last { kNone, kChar, kClassEscape, kRange } last = Last::kNone;
  const std::size_t end = cls.size() - 1;  // the ']'
  while (j < end) {
    if (cls[j] == '\\') {
      const std::size_t next = escape_end(cls, j, true);
      append_atom(out, cls.substr(j, next - j));
      last = is_class_escape(cls[j + 1]) ? Last::kClassEscape : Last::kChar;
      j = next;
    } else if (cls[j] == '-') {
      const bool next_is_class_escape =
          j + 2 < end && cls[j + 1] == '\\' && is_class_escape(cls[j + 2]);
      if (last == Last::kChar && j + 1 < end && !next_is_class_escape) {
        out += '-';  // a range: its end follows, and closes it
        const std::size_t next = cls[j + 1] == '\\' ? escape_end(cls, j + 1, true) : j + 2;
        append_atom(out, cls.substr(j + 1, next - (j + 1)));
        last = Last::kRange;
        j = next;
      } else {
        out += "\\-";
        last = Last::kChar;
        ++j;
      }
    } else {
      if (cls[j] == '[') out += '\\';
      out += cls[j++];
      last = Last::kChar;
    }
  }
  return out + "]";
}

// One isbot pattern (JavaScript syntax) in Boost.Regex Perl syntax, with the same meaning
// under kSyntax. A lookbehind with alternatives of different lengths, which Boost.Regex does
// not take, becomes one lookbehind per alternative: "(?<!a|bc)" is "(?<!a)(?<!bc)" and
// "(?<=a|bc)" is "(?:(?<=a)|(?<=bc))". Throws std::invalid_argument on anything else that
// might not mean the same (named groups, backreferences, \u, \p, ...).
std::string translate(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size();) {
    const char c = s[i];
    if (c == '\\') {
      const std::size_t next = escape_end(s, i, false);
      append_atom(out, s.substr(i, next - i));
      i = next;
    } else if (c == '[') {
      const std::size_t next = class_end(s, i);
      out += translate_class(s.substr(i, next - i));
      i = next;
    } else if (c == '(') {
      const std::size_t next = group_end(s, i);
      const std::string_view group = s.substr(i, next - i);
      std::size_t opener = 1;
      if (group.starts_with("(?<=") || group.starts_with("(?<!")) {
        opener = 4;
      } else if (group.starts_with("(?:") || group.starts_with("(?=") || group.starts_with("(?!")) {
        opener = 3;
      } else if (group.starts_with("(?")) {
        unsupported(s, "a group of the kind " + std::string(group.substr(0, 3)));
      }
      const std::string_view head = group.substr(0, opener);
      const std::string_view body = group.substr(opener, group.size() - opener - 1);
      const std::vector<std::string_view> alts = alternatives(body);
      if (opener == 4 && alts.size() > 1) {
        const bool negative = head == "(?<!";
        if (!negative) out += "(?:";
        for (std::size_t k = 0; k < alts.size(); ++k) {
          if (!negative && k > 0) out += '|';
          out += head;
          out += translate(alts[k]);
          out += ')';
        }
        if (!negative) out += ')';
      } else {
        out += head;
        out += translate(body);
        out += ')';
      }
      i = next;
    } else {
      out += c;
      ++i;
    }
  }
  return out;
}

// What a pattern needs of a text, read from its JavaScript source: `literal` is the longest
// run of characters that every match contains, lower-cased (empty if none is known, as with
// a top-level '|'); `anchored` if it starts with '^'; `literal_only` if it is nothing but
// that '^' and the literal ("spider", "^wget"), so no regex is needed at all.
struct Shape {
  std::string literal;
  bool anchored = false;
  bool literal_only = false;
};

Shape shape_of(std::string_view s) {
  Shape shape;
  shape.anchored = s.starts_with('^');
  bool only_literals = true;  // no atom so far but plain characters, after the '^'
  std::string run;
  const auto close_run = [&] {
    if (run.size() > shape.literal.size()) shape.literal = run;
    run.clear();
  };
  for (std::size_t i = shape.anchored ? 1 : 0; i < s.size();) {
    std::optional<char> literal;  // the atom at i, if it is one plain character
    const char c = s[i];
    if (c == '|') return {};
    if (c == '^' || c == '$') {  // zero-width
      only_literals = false;
      close_run();
      ++i;
      continue;
    }
    if (c == '\\') {
      const std::size_t next = escape_end(s, i, false);
      if (!is_ascii_alnum(s[i + 1])) literal = s[i + 1];
      i = next;
    } else if (c == '[') {
      i = class_end(s, i);
    } else if (c == '(') {
      i = group_end(s, i);
    } else {
      if (c != '.') literal = c;
      ++i;
    }
    // A quantified atom ends the run: "ab+c" matches "abbc", without "abc". With + the atom
    // is still there, at least once; with ?, * or {n,m} it may not be.
    const char quantifier = i < s.size() ? s[i] : '\0';
    if (quantifier == '+' && literal) run += ascii_lower(*literal);
    if (quantifier == '?' || quantifier == '*' || quantifier == '+' || quantifier == '{') {
      only_literals = false;
      close_run();
      if (quantifier == '{') {
        while (i < s.size() && s[i] != '}') ++i;
      }
      ++i;
      if (i < s.size() && s[i] == '?') ++i;  // lazy
      continue;
    }
    if (literal) {
      run += ascii_lower(*literal);
    } else {
      only_literals = false;
      close_run();
    }
  }
  close_run();
  shape.literal_only = only_literals && !shape.literal.empty();
  return shape;
}

// Which of a set of literals a text contains, in one pass over the text, ignoring ASCII case
// (Aho-Corasick, with every state's transitions precomputed).
class LiteralSet {
 public:
  // Adds a lower-case, non-empty literal (before build()) and returns its id.
  std::size_t add(const std::string& literal) {
    const auto it = std::find(literals_.begin(), literals_.end(), literal);
    if (it != literals_.end()) return static_cast<std::size_t>(it - literals_.begin());
    literals_.push_back(literal);
    return literals_.size() - 1;
  }

  void build() {
    for (const std::string& literal : literals_) {
      for (const char c : literal) {
        const auto byte = static_cast<unsigned char>(c);
        if (column_[byte] != 0) continue;
        column_[byte] = static_cast<std::uint8_t>(columns_++);
        if (c >= 'a' && c <= 'z') column_[byte - 'a' + 'A'] = column_[byte];
        if (columns_ > 255) throw std::length_error("too many distinct characters in the literals");
      }
    }
    // The trie; kNone marks a missing edge until the transitions are completed below.
    constexpr std::uint16_t kNone = 0xffff;
    next_.assign(columns_, kNone);
    outputs_.assign(1, {});
    for (std::size_t id = 0; id < literals_.size(); ++id) {
      std::size_t state = 0;
      for (const char c : literals_[id]) {
        const std::size_t edge = state * columns_ + column_[static_cast<unsigned char>(c)];
        if (next_[edge] == kNone) {
          if (outputs_.size() >= kNone) throw std::length_error("too many literals");
          next_[edge] = static_cast<std::uint16_t>(outputs_.size());
          outputs_.emplace_back();
          next_.resize(next_.size() + columns_, kNone);
        }
        state = next_[edge];
      }
      outputs_[state].push_back(static_cast<std::uint16_t>(id));
    }
    // Breadth first: each state's failure state (its longest proper suffix in the trie) is
    // done before the state, so a missing edge becomes the failure state's edge, and each
    // state also reports the literals that end at its failure state.
    std::vector<std::uint16_t> fail(outputs_.size(), 0);
    std::vector<std::uint16_t> queue;
    for (std::size_t column = 0; column < columns_; ++column) {
      std::uint16_t& edge = next_[column];
      if (edge == kNone) {
        edge = 0;
      } else {
        queue.push_back(edge);
      }
    }
    for (std::size_t head = 0; head < queue.size(); ++head) {
      const std::uint16_t state = queue[head];
      for (std::size_t column = 0; column < columns_; ++column) {
        std::uint16_t& edge = next_[state * columns_ + column];
        const std::uint16_t fallback = next_[fail[state] * columns_ + column];
        if (edge == kNone) {
          edge = fallback;
        } else {
          fail[edge] = fallback;
          const std::vector<std::uint16_t>& inherited = outputs_[fallback];
          outputs_[edge].insert(outputs_[edge].end(), inherited.begin(), inherited.end());
          queue.push_back(edge);
        }
      }
    }
  }

  std::size_t size() const { return literals_.size(); }

  // Sets found[id] for every literal in `text`; `found` has size() entries.
  void find_all(std::string_view text, std::vector<std::uint8_t>& found) const {
    std::size_t state = 0;
    for (const char c : text) {
      state = next_[state * columns_ + column_[static_cast<unsigned char>(c)]];
      for (const std::uint16_t id : outputs_[state]) found[id] = 1;
    }
  }

 private:
  std::array<std::uint8_t, 256> column_{};  // byte -> column; 0 for bytes in no literal
  std::size_t columns_ = 1;
  std::vector<std::uint16_t> next_;                  // state * columns_ + column -> state
  std::vector<std::vector<std::uint16_t>> outputs_;  // state -> literals that end there
  std::vector<std::string> literals_;
};

boost::regex compile(const std::string& boost_syntax) {
  boost::regex regex;
  regex.imbue(std::locale::classic());
  regex.assign(boost_syntax, kSyntax);
  return regex;
}

// Any match will do: only whether there is one matters.
const auto kMatch = boost::match_default | boost::match_any;

bool starts_with_ignoring_case(std::string_view text, std::string_view lower_prefix) {
  if (text.size() < lower_prefix.size()) return false;
  for (std::size_t i = 0; i < lower_prefix.size(); ++i) {
    if (ascii_lower(text[i]) != lower_prefix[i]) return false;
  }
  return true;
}

std::vector<std::string> embedded_patterns() {
  const std::optional<std::string_view> json = bot_list::find_asset("/patterns.json");
  if (!json) throw std::logic_error("the bot list is not embedded");
  const boost::json::value list = boost::json::parse(*json);
  std::vector<std::string> patterns;
  for (const boost::json::value& pattern : list.as_array()) {
    patterns.emplace_back(pattern.as_string());
  }
  return patterns;
}

}  // namespace

// The list, compiled into rules, cheapest first. A rule is only tried if the User-Agent
// contains its literal (all literals are looked for in one pass); a rule that is just its
// literal needs nothing more, and an anchored one is only tried at the start of the text.
struct BotFilter::Matcher {
  enum class Kind : std::uint8_t {
    kText,      // the literal anywhere: a match
    kPrefix,    // "^" and the literal: a match if the User-Agent starts with it
    kAnchored,  // a regex starting with '^': tried at the start only
    kSearch,    // a regex tried at every position (those starting with a lookbehind last)
  };
  struct Rule {
    Kind kind;
    int cost;                // the order rules are tried in
    std::ptrdiff_t literal;  // its id in `literals`, or -1 if there is none to look for
    std::string prefix;      // kPrefix: lower-case
    std::optional<boost::regex> regex;
  };
  std::vector<Rule> rules;
  LiteralSet literals;
  std::size_t pattern_count = 0;

  explicit Matcher(const std::vector<std::string>& patterns) : pattern_count(patterns.size()) {
    std::array<std::vector<Rule>, 4> by_cost;  // in the list's order within a cost
    for (const std::string& pattern : patterns) {
      try {
        const Shape shape = shape_of(pattern);
        const std::string boost_syntax = translate(pattern);
        Rule rule{Kind::kSearch, 3, -1, "", std::nullopt};
        if (shape.literal_only && shape.anchored) {
          rule.kind = Kind::kPrefix;
          rule.cost = 0;
          rule.prefix = shape.literal;
        } else {
          if (!shape.literal.empty()) {
            rule.literal = static_cast<std::ptrdiff_t>(literals.add(shape.literal));
          }
          if (shape.literal_only) {
            rule.kind = Kind::kText;
            rule.cost = 0;
          } else {
            rule.kind = shape.anchored ? Kind::kAnchored : Kind::kSearch;
            rule.cost = shape.anchored ? 1 : boost_syntax.starts_with("(?<") ? 3 : 2;
          }
        }
        // Compiled even when the rule does without it, so every pattern is checked.
        boost::regex regex = compile(boost_syntax);
        if (rule.kind == Kind::kAnchored || rule.kind == Kind::kSearch) {
          rule.regex = std::move(regex);
        }
        by_cost.at(static_cast<std::size_t>(rule.cost)).push_back(std::move(rule));
      } catch (const std::exception& e) {
        throw std::runtime_error("bot list pattern /" + pattern + "/: " + e.what());
      }
    }
    literals.build();
    for (std::vector<Rule>& same_cost : by_cost) {
      std::move(same_cost.begin(), same_cost.end(), std::back_inserter(rules));
    }
  }

  // True if any pattern matches `user_agent`. A User-Agent so pathological that Boost.Regex
  // gives up on it (its complexity limit) is a bot.
  bool matches(std::string_view user_agent) const {
    std::vector<std::uint8_t> found(literals.size(), 0);
    literals.find_all(user_agent, found);
    const char* const begin = user_agent.data();
    const char* const end = begin + user_agent.size();
    boost::cmatch match;  // one for all the rules: regex_search would allocate one per call
    try {
      for (const Rule& rule : rules) {
        if (rule.literal >= 0 && found[static_cast<std::size_t>(rule.literal)] == 0) continue;
        switch (rule.kind) {
          case Kind::kText:
            return true;
          case Kind::kPrefix:
            if (starts_with_ignoring_case(user_agent, rule.prefix)) return true;
            break;
          case Kind::kAnchored:
            if (boost::regex_search(begin, end, match, *rule.regex,
                                    kMatch | boost::match_continuous)) {
              return true;
            }
            break;
          case Kind::kSearch:
            if (boost::regex_search(begin, end, match, *rule.regex, kMatch)) return true;
            break;
        }
      }
    } catch (const std::runtime_error&) {
      return true;
    }
    return false;
  }
};

// Verdicts by User-Agent: a fixed number of slots that never grows, in 2-way sets (a new
// User-Agent replaces the less recently used of its set), split into shards with a mutex each
// so that threads seldom wait for one another.
class BotFilter::Cache {
 public:
  explicit Cache(std::size_t entries) {
    const std::size_t sets = entries / 2;
    shard_count_ = std::min<std::size_t>(kMaxShards, sets);
    if (shard_count_ == 0) return;
    sets_per_shard_ = sets / shard_count_;
    shards_ = std::make_unique<Shard[]>(shard_count_);
    for (std::size_t k = 0; k < shard_count_; ++k) shards_[k].sets.resize(sets_per_shard_);
  }

  bool enabled() const { return shard_count_ > 0; }

  std::optional<bool> find(std::string_view user_agent, std::size_t hash) {
    auto [shard, set] = locate(hash);
    std::lock_guard lock(shard.mutex);
    for (std::size_t way = 0; way < 2; ++way) {
      const Slot& slot = set.ways[way];
      if (slot.used && slot.hash == hash && slot.user_agent == user_agent) {
        set.recent = static_cast<std::uint8_t>(way);
        return slot.verdict;
      }
    }
    return std::nullopt;
  }

  void insert(std::string_view user_agent, std::size_t hash, bool verdict) {
    auto [shard, set] = locate(hash);
    std::lock_guard lock(shard.mutex);
    // The less recently used way, unless one is free or already has this User-Agent (put
    // there by another thread meanwhile).
    std::size_t way = set.recent ^ 1U;
    for (std::size_t w = 0; w < 2; ++w) {
      const Slot& slot = set.ways[w];
      if (!slot.used || (slot.hash == hash && slot.user_agent == user_agent)) way = w;
    }
    Slot& slot = set.ways[way];
    slot.used = true;
    slot.hash = hash;
    slot.user_agent.assign(user_agent);  // reuses the slot's buffer: at most kMaxCachedLength
    slot.verdict = verdict;
    set.recent = static_cast<std::uint8_t>(way);
  }

 private:
  static constexpr std::size_t kMaxShards = 16;
  struct Slot {
    std::size_t hash = 0;
    std::string user_agent;
    bool verdict = false;
    bool used = false;
  };
  struct Set {
    std::array<Slot, 2> ways;
    std::uint8_t recent = 0;
  };
  struct alignas(64) Shard {
    std::mutex mutex;
    std::vector<Set> sets;
  };

  std::pair<Shard&, Set&> locate(std::size_t hash) {
    Shard& shard = shards_[hash % shard_count_];
    return {shard, shard.sets[(hash / shard_count_) % sets_per_shard_]};
  }

  std::size_t shard_count_ = 0;
  std::size_t sets_per_shard_ = 0;
  std::unique_ptr<Shard[]> shards_;
};

BotFilter::BotFilter(std::size_t cache_entries)
    : matcher_(std::make_unique<const Matcher>(embedded_patterns())),
      cache_(std::make_unique<Cache>(cache_entries)) {}

BotFilter::~BotFilter() = default;

bool BotFilter::is_bot(std::optional<std::string_view> user_agent) const {
  if (!user_agent || user_agent->empty()) return true;
  if (!cache_->enabled() || user_agent->size() > kMaxCachedLength) {
    return matcher_->matches(*user_agent);
  }
  const std::size_t hash = std::hash<std::string_view>{}(*user_agent);
  if (const std::optional<bool> cached = cache_->find(*user_agent, hash)) return *cached;
  const bool verdict = matcher_->matches(*user_agent);
  cache_->insert(*user_agent, hash, verdict);
  return verdict;
}

std::size_t BotFilter::pattern_count() const { return matcher_->pattern_count; }

std::string_view bot_list_source() {
  static const std::string source = [] {
    std::string_view version = bot_list::find_asset("/VERSION").value_or("");
    while (!version.empty() && (version.back() == '\n' || version.back() == ' ')) {
      version.remove_suffix(1);
    }
    return "isbot " + std::string(version);
  }();
  return source;
}

}  // namespace counting::policy
