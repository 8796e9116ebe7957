#pragma once

// xloop-plan --replies N: the best fresh reply opportunities, one per
// author, each answered by the writer and queued with its opportunity
// marked taken, in one statement.

namespace xloop {

class run_context;
class rng;
class writer;

void plan_replies(run_context& run, int wanted, writer& w, rng& r);

} // namespace xloop
