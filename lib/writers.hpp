#pragma once

// Writers turn a plan (the drawn attributes) into text (DESIGN §5.5):
// template (default; from the config's templates, no network), command (a
// program reads the plan as JSON on stdin and prints the text; thread parts
// separated by a line "---"), openai (an OpenAI-compatible
// /v1/chat/completions endpoint).

#include "config.hpp"
#include "sampling.hpp"

#include <nlohmann/json.hpp>

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace xloop {

struct writer_request {
    std::string decision_type; // single | thread | reply
    std::string content_slot, generator_name, topic, tone, hook_type, cta_type;
    int parts = 1;
    std::string reply_to_author, reply_to_text;
    int attempt = 0;           // 0 first, then each redraw
    std::string retry_because; // on a redraw: what was wrong with the last text

    nlohmann::json to_json() const;
};

// A writer's answer that is no post, though it has text (cut off by the
// model's token limit, stopped by a content filter): asked for again, as a
// text too long is.
struct unusable_text : std::runtime_error {
    using std::runtime_error::runtime_error;
};

class writer {
public:
    virtual ~writer() = default;
    // One string per part (one for a single post or a reply).
    virtual std::vector<std::string> write(writer_request const& request, rng& r) = 0;
};

std::unique_ptr<writer> make_writer(config const& cfg);

// The longest one call of the writer can take, in ms: the command's timeout;
// the model's timeout on each try and the backoff between them; 0 for the
// templates.
double writer_call_limit_ms(writer_config const& w);

// Where the openai writer posts: the base URL as the OpenAI SDKs take it
// (https://api.openai.com/v1, https://openrouter.ai/api/v1,
// http://localhost:11434/v1: a path with a version segment) + /chat/completions;
// a bare host, or a path without a version, + /v1/chat/completions; a URL that
// already ends in /chat/completions as it is.
std::string chat_completions_url(std::string base_url);

// A model's answer without the reasoning a reasoning model (DeepSeek-R1,
// Qwen3 behind Ollama or vLLM) puts first, between <think> and </think>;
// nullopt where the answer is all reasoning (no </think>: cut off by the
// model's token limit).
std::optional<std::string> without_reasoning(std::string const& answer);

// A chat model's line before the post ("Sure! Here's a tweet about SQL:"),
// which would be posted with it; nullopt where the text begins with none.
// Narrow on purpose: a first line that opens as an assistant does (sure,
// certainly, here's, here is …), names what it wrote (a post, tweet, thread,
// reply, draft) and ends in a colon, with the text below it.
std::optional<std::string> chat_preamble(std::string_view text);

// A label a chat model puts before a post or a thread's part ("Tweet:",
// "Tweet 1:", "**Post 2/3**", "Part 3 -"), which would be posted with it;
// nullopt where the part begins with none.
std::optional<std::string> part_label(std::string_view part);

// Splits a writer's output into thread parts on lines holding only "---";
// a code fence around the whole answer, and quotes around a whole part, are a
// chat model's presentation, not the post: they go.
std::vector<std::string> split_parts(std::string const& answer);

} // namespace xloop
