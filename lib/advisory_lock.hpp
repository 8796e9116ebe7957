#pragma once

// One advisory lock named by a job, transaction- or session-scoped: the
// tools' one-run-at-a-time rule and migrate's lock are the same thing.

#include "db.hpp"

#include <cstdint>
#include <string>
#include <utility>

namespace xloop {

// Advisory-lock key of a job (stable across runs and machines): the first
// key marks the lock as xloop's, the second is a hash of the name.
std::pair<std::int32_t, std::int32_t> job_lock_key(std::string const& job);

class advisory_lock {
public:
    advisory_lock(db_connection& db, std::string const& name);
    ~advisory_lock();
    advisory_lock(advisory_lock const&) = delete;
    advisory_lock& operator=(advisory_lock const&) = delete;

    // Until the current transaction ends; false when another session holds it.
    bool try_in_transaction();
    // Until release() or the session ends (not through a transaction pooler).
    bool try_for_session();
    // Gives a session lock back now, not when the server notices the client
    // has gone; logs (never throws) when it cannot.
    void release() noexcept;

    // Who holds it: pid, program, since when and state, for the message of a
    // skipped run, so an operator can tell a slow run from a dead client.
    std::string holder() const;

private:
    db_connection& m_db;
    std::pair<std::int32_t, std::int32_t> m_key;
    bool m_session_held = false;
};

} // namespace xloop
