/*
 * path_kind.h — what a path is, in words, for messages that would otherwise
 * say "missing" about a directory, a device or a dangling link.
 */
#ifndef SLM_PATH_KIND_H
#define SLM_PATH_KIND_H

/* "a directory", "a regular file", "a character device", ...; NULL when the
 * path does not exist (stat fails with ENOENT); "unreadable" for other stat
 * failures (permissions, a file used as a directory, a symlink loop). */
const char *slm_path_kind(const char *path);

/* The same words for a stat() st_mode already in hand. */
const char *slm_mode_kind(unsigned mode);

#endif
