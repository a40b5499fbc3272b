/* shellmode.h — `socksify --shell on|off` and `socksify show`: the shell
 * code that turns socksify on or off for the rest of an interactive shell,
 * and the report of whether it is on. */
#ifndef SOCKSIFY_SHELLMODE_H
#define SOCKSIFY_SHELLMODE_H

#include <stdio.h>

/* Print to out the POSIX sh code (bash, zsh, dash) that preloads library
 * into every command the shell runs from now on, under one session whose
 * id is the shell's PID ($$) and random_hex. Refuses (prints nothing to
 * out, says why on stderr) when $SOCKSIFY_PROXY holds a password, which
 * would then sit in the shell's environment. Returns 0 or 1. */
int shellmode_on(FILE *out, const char *library, const char *random_hex);

/* Print to out the code that undoes shellmode_on(): the library leaves
 * LD_PRELOAD, the variables it exported are unset. Returns 0. */
int shellmode_off(FILE *out);

/* Say on out whether socksify is on in the calling shell (its environment
 * reached us): shell mode, or a shell started by `socksify bash` (the
 * library in LD_PRELOAD). Returns 0 when on, 1 when off. */
int shellmode_show(FILE *out);

#endif
