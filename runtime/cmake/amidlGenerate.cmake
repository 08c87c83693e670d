# amidlGenerate.cmake - the build step of amidl_generate (amidlConfig.cmake):
#   cmake -P amidlGenerate.cmake AMIDL STAMP DEPFILE LIST ARGS...
# runs `AMIDL --write-if-changed -MF DEPFILE -MT STAMP ARGS...`, then asks
# `AMIDL --print-outputs ARGS...` whether the IDL now writes other files than
# the ones CMake was configured with (LIST): if so it writes the new list
# into LIST (which CMake watches: the next build configures again) and
# fails, saying so; otherwise it touches STAMP.
set(i 0)
while(i LESS CMAKE_ARGC AND NOT CMAKE_ARGV${i} STREQUAL "-P")
  math(EXPR i "${i} + 1")
endwhile()
math(EXPR i "${i} + 2")
set(args)
while(i LESS CMAKE_ARGC)
  list(APPEND args "${CMAKE_ARGV${i}}")
  math(EXPR i "${i} + 1")
endwhile()
list(POP_FRONT args amidl stamp depfile outlist)

execute_process(COMMAND "${amidl}" --write-if-changed -MF "${depfile}" -MT "${stamp}" ${args} RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "amidl failed (exit status ${rc})")
endif()
execute_process(COMMAND "${amidl}" --print-outputs ${args} OUTPUT_VARIABLE now RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "amidl --print-outputs failed (exit status ${rc})")
endif()
file(READ "${outlist}" was)
if(NOT now STREQUAL was)
  file(WRITE "${outlist}" "${now}")
  string(REPLACE "\n" " " now "${now}")
  message(FATAL_ERROR "amidl now writes ${now}(the IDL changed what it generates): build again, CMake configures again and compiles them")
endif()
file(TOUCH "${stamp}")
