# Collects every .cc under `dir` except main files into `out`.
# CONFIGURE_DEPENDS makes a new source file trigger a re-glob on the next build.
function(embedps_sources out dir)
  file(GLOB_RECURSE srcs CONFIGURE_DEPENDS ${dir}/*.cc)
  list(FILTER srcs EXCLUDE REGEX ".*/main\\.cc$")
  set(${out} ${srcs} PARENT_SCOPE)
endfunction()
