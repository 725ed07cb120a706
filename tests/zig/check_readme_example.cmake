# Checks that the Zig READMEs show bindings/zig/examples/hello.zig verbatim in a ```zig block,
# so the example `zig build test` compiles and runs is the one readers copy.
#   cmake -DEXAMPLE=<hello.zig> -DREADME=<bindings/zig/README.md> [-DTOP_README=<README.md>]
#         -P check_readme_example.cmake
# README must show it; TOP_README must show it once it has a ```zig block (its Zig section).
file(READ "${EXAMPLE}" example)
foreach(file IN ITEMS "${README}" "${TOP_README}")
  if(file STREQUAL "")
    continue()
  endif()
  file(READ "${file}" text)
  string(FIND "${text}" "```zig\n${example}```" at)
  if(at EQUAL -1)
    string(FIND "${text}" "```zig" any)
    if(file STREQUAL TOP_README AND any EQUAL -1)
      message(STATUS "${file} has no Zig example yet: not checked")
      continue()
    endif()
    message(FATAL_ERROR "${file} does not contain ${EXAMPLE} verbatim in a ```zig block.\n"
      "Edit them together: the README's example is what `zig build test` compiles and runs.")
  endif()
  message(STATUS "${file} shows ${EXAMPLE} verbatim")
endforeach()
