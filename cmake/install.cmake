# What `cmake --install` and the Debian package put under the prefix:
#   bin/xloop-*                            stripped (tools/CMakeLists.txt)
#   share/man/man1/xloop-*.1               from each tool's --help (help2man)
#   share/xloop/xloop.example.yaml, xloop.env.example, cron/, systemd/
#   share/doc/xloop/README.md
#   lib/systemd/system/xloop-*.{service,timer}   where systemd looks (never enabled)
#   lib/sysusers.d/xloop.conf              the xloop system user the units run as
include(GNUInstallDirs)

set(XLOOP_TOOLS build-weights learn-replies migrate plan scrape-metrics validate)

find_program(HELP2MAN help2man)
if(HELP2MAN)
    set(XLOOP_MAN_PAGES "")
    foreach(tool ${XLOOP_TOOLS})
        set(page ${CMAKE_BINARY_DIR}/man/xloop-${tool}.1)
        add_custom_command(
            OUTPUT ${page}
            COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/man
            COMMAND ${HELP2MAN} --no-info --no-discard-stderr
                    --name "xloop: the ${tool} job of the learning loop"
                    --output ${page} $<TARGET_FILE:xloop-${tool}>
            DEPENDS xloop-${tool}
            COMMENT "Man page of xloop-${tool}")
        list(APPEND XLOOP_MAN_PAGES ${page})
    endforeach()
    add_custom_target(man ALL DEPENDS ${XLOOP_MAN_PAGES})
    install(FILES ${XLOOP_MAN_PAGES} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
else()
    message(WARNING "help2man not found: no man pages (scripts/setup installs it)")
endif()

install(FILES ${PROJECT_SOURCE_DIR}/xloop.example.yaml
              ${PROJECT_SOURCE_DIR}/cron/systemd/xloop.env.example
        DESTINATION ${CMAKE_INSTALL_DATADIR}/xloop)
install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(FILES ${PROJECT_SOURCE_DIR}/cmake/xloop.sysusers
        DESTINATION lib/sysusers.d RENAME xloop.conf)

# The crontab and the units name /usr/local/bin (a source install's default);
# they are installed naming the prefix they are installed under, which for
# the package is /usr (CPack runs this with its own prefix).
file(GLOB XLOOP_UNITS ${PROJECT_SOURCE_DIR}/cron/systemd/*.service
     ${PROJECT_SOURCE_DIR}/cron/systemd/*.timer)
install(CODE "
    set(XLOOP_UNITS \"${XLOOP_UNITS}\")
    set(XLOOP_CRONTAB \"${PROJECT_SOURCE_DIR}/cron/xloop.crontab\")
    set(XLOOP_DATADIR \"${CMAKE_INSTALL_DATADIR}\")
    include(\"${PROJECT_SOURCE_DIR}/cmake/install_schedules.cmake\")")

# The Debian package: `cpack -G DEB` in the build directory (scripts/package).
set(CPACK_PACKAGE_NAME xloop)
set(CPACK_PACKAGE_VENDOR xloop)
set(CPACK_PACKAGE_CONTACT "xloop maintainers <xloop@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "learning loop of an autonomous X account (PostgreSQL, cron)")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_GENERATOR DEB)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT) # xloop_<version>_amd64.deb
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON) # Depends from dpkg-shlibdeps
set(CPACK_DEBIAN_PACKAGE_DEPENDS "systemd | adduser")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "postgresql")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${PROJECT_SOURCE_DIR}/cmake/debian/postinst)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
