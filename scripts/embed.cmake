# Turn a text file into a C array (IN -> OUT), for the served spec.
file(READ "${IN}" hex HEX)
string(LENGTH "${hex}" n)
math(EXPR len "${n} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," body "${hex}")
string(REGEX REPLACE "(0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,)" "\\1\n" body "${body}")
file(WRITE "${OUT}" "/* generated from openapi.yaml; do not edit */\n#include <stddef.h>\nextern const char openapi_yaml[];\nextern const size_t openapi_yaml_len;\nconst char openapi_yaml[] = {\n${body}0x00};\nconst size_t openapi_yaml_len = ${len};\n")
