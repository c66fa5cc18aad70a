# install_check.cmake — ctest cli_install: `cmake --install` of the build tree
# into a fresh prefix (and with DESTDIR) puts the binary, the libraries and the
# public headers where CMake's install rules say, and the installed slm runs.
#   cmake -DBUILD=<build dir> -DSCRATCH=<empty dir to use> -P install_check.cmake
if(NOT BUILD OR NOT SCRATCH)
  message(FATAL_ERROR "usage: cmake -DBUILD=dir -DSCRATCH=dir -P install_check.cmake")
endif()
include(GNUInstallDirs)
file(REMOVE_RECURSE ${SCRATCH})

function(check_tree root)
  foreach(f ${CMAKE_INSTALL_BINDIR}/slm
            ${CMAKE_INSTALL_LIBDIR}/libslm_engine.a ${CMAKE_INSTALL_LIBDIR}/libslm_kernels.a
            ${CMAKE_INSTALL_INCLUDEDIR}/slm/slm.h ${CMAKE_INSTALL_INCLUDEDIR}/slm/chat_template.h
            ${CMAKE_INSTALL_INCLUDEDIR}/slm/conversation.h)
    if(NOT EXISTS ${root}/${f})
      message(FATAL_ERROR "cmake --install did not install ${root}/${f}")
    endif()
  endforeach()
  execute_process(COMMAND ${root}/${CMAKE_INSTALL_BINDIR}/slm --version
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out)
  if(NOT rc EQUAL 0 OR NOT out MATCHES "^slm [0-9]")
    message(FATAL_ERROR "installed slm --version: exit ${rc}, output '${out}'")
  endif()
endfunction()

# --prefix
execute_process(COMMAND ${CMAKE_COMMAND} --install ${BUILD} --prefix ${SCRATCH}/prefix
                RESULT_VARIABLE rc OUTPUT_QUIET)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "cmake --install --prefix failed: ${rc}")
endif()
check_tree(${SCRATCH}/prefix)

# DESTDIR (packagers' staging root) in front of the prefix
execute_process(COMMAND ${CMAKE_COMMAND} -E env DESTDIR=${SCRATCH}/stage
                        ${CMAKE_COMMAND} --install ${BUILD} --prefix /opt/slm
                RESULT_VARIABLE rc OUTPUT_QUIET)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "DESTDIR cmake --install failed: ${rc}")
endif()
check_tree(${SCRATCH}/stage/opt/slm)
file(REMOVE_RECURSE ${SCRATCH})
message(STATUS "install rules: binary, libraries and headers installed under a prefix and DESTDIR")
