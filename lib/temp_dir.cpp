#include "temp_dir.hpp"

#include "error.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cstdlib> // mkdtemp
#include <cstring>
#include <filesystem>
#include <fstream>
#include <system_error>

namespace xloop {

temp_dir::temp_dir(std::string const& prefix)
{
    std::string name =
        (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
    if (!mkdtemp(name.data())) {
        throw error{
            fmt::format("cannot make a directory {}: {}", name, std::strerror(errno))};
    }
    m_path = name;
}

temp_dir::~temp_dir()
{
    std::error_code ignored;
    std::filesystem::remove_all(m_path, ignored);
}

std::string temp_dir::write(std::string const& name, std::string const& text) const
{
    auto path = m_path + "/" + name;
    std::ofstream{path, std::ios::binary} << text;
    return path;
}

} // namespace xloop
