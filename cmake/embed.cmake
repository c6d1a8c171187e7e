# vc_embed(OUT name files...): compiles web assets into the binary as a name -> bytes table,
# so the self-hosted server is one file with nothing to install beside it.
function(vc_embed out)
  set(script ${CMAKE_CURRENT_FUNCTION_LIST_DIR}/embed_files.cmake)
  string(REPLACE ";" "|" files "${ARGN}")
  add_custom_command(OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -DOUT=${out} "-DFILES=${files}" -P ${script}
    DEPENDS ${ARGN} ${script}
    COMMENT "Embedding web assets"
    VERBATIM)
endfunction()
