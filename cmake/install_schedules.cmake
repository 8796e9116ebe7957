# Run by `cmake --install` (cmake/install.cmake): installs the crontab and the
# systemd units with /usr/local/bin replaced by the prefix's bin directory.
set(root "$ENV{DESTDIR}${CMAKE_INSTALL_PREFIX}")
set(bindir "${CMAKE_INSTALL_PREFIX}/bin")

function(install_rewritten source destination)
    file(READ "${source}" text)
    string(REPLACE "/usr/local/bin" "${bindir}" text "${text}")
    get_filename_component(name "${source}" NAME)
    file(MAKE_DIRECTORY "${destination}")
    file(WRITE "${destination}/${name}" "${text}")
    message(STATUS "Installing: ${destination}/${name}")
endfunction()

install_rewritten("${XLOOP_CRONTAB}" "${root}/${XLOOP_DATADIR}/xloop/cron")
foreach(unit ${XLOOP_UNITS})
    install_rewritten("${unit}" "${root}/${XLOOP_DATADIR}/xloop/systemd")
    install_rewritten("${unit}" "${root}/lib/systemd/system")
endforeach()
