/* path_kind.c — see path_kind.h. */
#define _POSIX_C_SOURCE 200809L
#include "path_kind.h"

#include <errno.h>
#include <stddef.h>
#include <sys/stat.h>

const char *slm_mode_kind(unsigned mode)
{
    if (S_ISREG(mode))
        return "a regular file";
    if (S_ISDIR(mode))
        return "a directory";
    if (S_ISCHR(mode))
        return "a character device";
    if (S_ISBLK(mode))
        return "a block device";
    if (S_ISFIFO(mode))
        return "a named pipe";
    if (S_ISSOCK(mode))
        return "a socket";
    return "not a regular file";
}

const char *slm_path_kind(const char *path)
{
    struct stat sb;
    if (stat(path, &sb) != 0)
        return errno == ENOENT ? NULL : "unreadable";
    return slm_mode_kind(sb.st_mode);
}
