# vc_embed(OUT files... [NAMESPACE ns HEADER header]): compiles files into the binary as a
# name -> bytes table, so the program is one file with nothing to install beside it. OUT
# defines `std::optional<std::string_view> ns::find_asset(std::string_view name)`, declared
# in HEADER, where a file's name is "/" and its file name ("/index.html"). The defaults,
# NAMESPACE web and HEADER web/assets.hpp, are the web assets.
function(vc_embed out)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "NAMESPACE;HEADER" "")
  if(NOT arg_NAMESPACE)
    set(arg_NAMESPACE web)
  endif()
  if(NOT arg_HEADER)
    set(arg_HEADER web/assets.hpp)
  endif()
  set(script ${CMAKE_CURRENT_FUNCTION_LIST_DIR}/embed_files.cmake)
  string(REPLACE ";" "|" files "${arg_UNPARSED_ARGUMENTS}")
  get_filename_component(out_name ${out} NAME)
  add_custom_command(OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -DOUT=${out} "-DFILES=${files}" -DNAMESPACE=${arg_NAMESPACE}
      -DHEADER=${arg_HEADER} -P ${script}
    DEPENDS ${arg_UNPARSED_ARGUMENTS} ${script}
    COMMENT "Embedding ${out_name}"
    VERBATIM)
endfunction()
