/* guardpage.h — where the guard's trampoline page lives.
 *
 * Under the guard (README, "The guard") every program socksify runs has a
 * seccomp filter that sends connect() and sends with a destination to the
 * supervisor, unless the system call was made from this one page: the
 * library maps it at a fixed address (the same in every process, whatever
 * ASLR does to libc) with a `syscall; ret` stub, and makes its own calls
 * through it. The filter knows only the address; the page's contents are
 * the library's business (preload/trampoline.c). */
#ifndef SOCKSIFY_GUARDPAGE_H
#define SOCKSIFY_GUARDPAGE_H

#include <stdint.h>

/* Page-aligned, inside the 47-bit user address space, far from where the
 * kernel puts anything by itself (mmap works downwards from the stack near
 * 0x7fff..., the program and its heap sit low). */
#define GUARD_PAGE_ADDR ((uint64_t)0x3c0c50c50000ULL)
#define GUARD_PAGE_SIZE 4096u

#endif
