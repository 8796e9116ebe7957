#include "advisory_lock.hpp"

#include "log.hpp"

#include <fmt/format.h>

namespace xloop {

std::pair<std::int32_t, std::int32_t> job_lock_key(std::string const& job)
{
    // FNV-1a of "xloop-<job>"
    std::uint32_t h = 2166136261u;
    for (char const c : "xloop-" + job) {
        h ^= static_cast<unsigned char>(c);
        h *= 16777619u;
    }
    return {0x786c6f70, static_cast<std::int32_t>(h)};
}

advisory_lock::advisory_lock(db_connection& db, std::string const& name)
    : m_db(db), m_key(job_lock_key(name))
{}

advisory_lock::~advisory_lock()
{
    release();
}

bool advisory_lock::try_in_transaction()
{
    return m_db
        .exec("SELECT pg_try_advisory_xact_lock($1::int, $2::int)", m_key.first,
              m_key.second)
        .boolean(0, 0);
}

bool advisory_lock::try_for_session()
{
    m_session_held = m_db.exec("SELECT pg_try_advisory_lock($1::int, $2::int)",
                               m_key.first, m_key.second)
                         .boolean(0, 0);
    return m_session_held;
}

void advisory_lock::release() noexcept
{
    if (!m_session_held) {
        return;
    }
    m_session_held = false;
    try {
        m_db.exec("SELECT pg_advisory_unlock($1::int, $2::int)", m_key.first,
                  m_key.second);
    } catch (std::exception const& e) {
        log::debug("could not release the lock (the server will): {}", e.what());
    }
}

std::string advisory_lock::holder() const
{
    auto const r = m_db.exec(R"sql(
        SELECT a.pid, coalesce(nullif(a.application_name, ''), 'unnamed'),
               a.backend_start, a.state
          FROM pg_locks l JOIN pg_stat_activity a USING (pid)
         WHERE l.locktype = 'advisory' AND l.granted AND l.classid = $1::int::oid
           AND l.objid = $2::int::oid AND l.objsubid = 2
         LIMIT 1
        )sql",
                             m_key.first, m_key.second);
    if (r.rows() == 0) {
        return "another run holds the lock";
    }
    return fmt::format("another run holds the lock (pid {}, {}, connected since {}, {}); "
                       "it is released when that run ends or its session is terminated "
                       "(pg_terminate_backend)",
                       r.str(0, 0), r.str(0, 1), r.str(0, 2), r.str(0, 3));
}

} // namespace xloop
