# VC_SANITIZE: AddressSanitizer + UndefinedBehaviorSanitizer on everything, failing hard on any report.
if(VC_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined -fno-sanitize-recover=all)
endif()
