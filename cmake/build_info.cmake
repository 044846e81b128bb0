# Writes build_info.hpp at every build, not only at configure time, so a run
# record's git_commit names the source the binary was built from even in an
# incremental build directory. configure_file leaves the file untouched when
# nothing changed, so an unchanged commit rebuilds nothing.
# In: SRC (source root), OUT (header path), VERSION, BUILD_TYPE.
execute_process(COMMAND git rev-parse --short=12 HEAD
  WORKING_DIRECTORY ${SRC} OUTPUT_VARIABLE VTMM_GIT_COMMIT
  OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
if(NOT VTMM_GIT_COMMIT)
  set(VTMM_GIT_COMMIT "unknown")
endif()
# A tree with uncommitted changes is not the commit it names.
execute_process(COMMAND git status --porcelain --untracked-files=no
  WORKING_DIRECTORY ${SRC} OUTPUT_VARIABLE dirty
  OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
if(dirty)
  string(APPEND VTMM_GIT_COMMIT "-dirty")
endif()
set(PROJECT_VERSION ${VERSION})
set(CMAKE_BUILD_TYPE ${BUILD_TYPE})
configure_file(${SRC}/vtmm/core/build_info.hpp.in ${OUT} @ONLY)
