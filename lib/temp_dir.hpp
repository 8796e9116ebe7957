#pragma once

// A private directory under $TMPDIR (else /tmp), removed with everything in
// it however its owner ends (the simulator's scratch files, the tests').

#include <string>

namespace xloop {

class temp_dir {
public:
    // Named <prefix>-XXXXXX; throws error when it cannot be made.
    explicit temp_dir(std::string const& prefix = "xloop");
    ~temp_dir();
    temp_dir(temp_dir const&) = delete;
    temp_dir& operator=(temp_dir const&) = delete;

    std::string const& path() const noexcept { return m_path; }
    // Writes a file in the directory; returns its path.
    std::string write(std::string const& name, std::string const& text) const;

private:
    std::string m_path;
};

} // namespace xloop
