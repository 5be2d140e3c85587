// Read by the compiler before each gap file (GAP_CFLAGS in the Makefile):
// the preprocessor features gap files may not use. __has_include and
// `#pragma GCC dependency` open a file without including it, so the
// compiler's list of the files it read would not show them: they could
// tell a gap file whether a path exists on the grading machine.
#pragma GCC system_header
#pragma GCC poison __has_include __has_include_next dependency
