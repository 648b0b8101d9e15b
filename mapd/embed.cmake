# Writes the file IN as a C string constant `mapd_openapi_json` into OUT.
file(READ ${IN} hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
file(WRITE ${OUT} "/* Generated from openapi.json by embed.cmake. */\nconst char mapd_openapi_json[] = {${bytes}0x00};\n")
