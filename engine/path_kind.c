/* path_kind.c — see path_kind.h. */
#define _POSIX_C_SOURCE 200809L
#include "path_kind.h"

#include <errno.h>
#include <stddef.h>
#include <sys/stat.h>

const char *slm_path_kind(const char *path)
{
    struct stat sb;
    if (stat(path, &sb) != 0)
        return errno == ENOENT ? NULL : "unreadable";
    if (S_ISREG(sb.st_mode))
        return "a regular file";
    if (S_ISDIR(sb.st_mode))
        return "a directory";
    if (S_ISCHR(sb.st_mode))
        return "a character device";
    if (S_ISBLK(sb.st_mode))
        return "a block device";
    if (S_ISFIFO(sb.st_mode))
        return "a named pipe";
    if (S_ISSOCK(sb.st_mode))
        return "a socket";
    return "not a regular file";
}
