#pragma once

// How X reads a post's text: twitter-text's weighted length (its version 3
// configuration), which every part of a post must keep within 280, and the
// accounts it mentions.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace xloop {

constexpr std::size_t max_tweet_length = 280;

// A code point counts 1 in Latin to Georgian (U+0000-U+10FF) and in the
// general punctuation X counts so (U+2000-U+200D, U+2010-U+201F,
// U+2032-U+2037), else 2: CJK, arrows, emoji. An emoji with its modifiers,
// variation selector or ZWJ-joined emoji counts 2, a flag 2. A link
// (http:// or https://) counts 23 whatever its length; a word that looks like
// a bare domain (README.md, a.co) counts at least 23, since X links it when
// its ending is a real top-level domain. Where X's rules would need its list
// of domains or Unicode normalisation, the count errs long: a text this
// accepts X accepts.
std::size_t tweet_length(std::string_view text);

// The handles X links in a text, lower case, each once, in order: an @ (or
// a fullwidth ＠) after no letter, digit or _!#$%&*@, then 1 to 15 letters,
// digits or _, not followed by another @ or by :// ("a@b.co" is an address,
// "@bob" a mention X notifies bob of).
std::vector<std::string> mentioned_handles(std::string_view text);

// The links a text holds, as written, each once, in order: a word that
// begins, after brackets or quotes, with http://, https:// or www. and a
// domain; its closing punctuation is not the link's. ("README.md" is no
// link here, though X may link it: the links a writer wrote on purpose.)
std::vector<std::string> written_links(std::string_view text);

} // namespace xloop
