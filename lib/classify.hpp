#pragma once

// Hook, call-to-action and structure of a post's text, for posts whose plan
// did not record them (DESIGN §5.1). Rules, first match wins:
//
// hook (first sentence, lower-cased):
//   question    ends with '?' or starts with why/how/what/who/when/where/which/
//               do/does/is/are/can/should/would
//   statistic   a number followed by % or x, or a number of 2+ digits
//   contrarian  contains unpopular opinion / myth / wrong / overrated / nobody /
//               everyone is, or the word stop
//   story       starts with the word i / we / my / last year / yesterday / once
//   reveal      contains here's / here is / the secret / turns out / i found
//   statement   anything else
// cta (whole text): link (http:// or https://), engagement (reply / comment /
//   retweet / rt / like / share / follow / bookmark as a word), question (ends
//   with '?'), none.
// structure: reply when the decision is a reply, thread when it has thread
//   parts or is a thread, single otherwise.

#include <string>
#include <string_view>

namespace xloop {

std::string classify_hook(std::string_view text);
std::string classify_cta(std::string_view text);
std::string classify_structure(std::string_view decision_type, bool has_thread_parts);

} // namespace xloop
