/* vmchild.c — vfork() and clone(): children that share the program's memory.
 *
 * A vfork child (or a clone() child with CLONE_VM and not CLONE_THREAD) runs
 * in the parent's memory with descriptors of its own, so its hooks must
 * leave the parent's table alone (fdreg_in_vfork_child()). Telling such a
 * child apart takes a getpid() on every socket() and close(); these two
 * hooks set fdreg_vm_shared, for the rest of the process's life, and go on
 * to libc's, so a process that never makes such a child asks nothing.
 *
 * They are a few instructions of assembly: a vfork child returns through
 * its caller's stack frame, which the parent then returns through again,
 * so nothing may be pushed between the program and libc. Each stores the
 * byte and jumps to libc's own entry (__vfork, __clone), with the stack and
 * every argument register as the program left them. The byte is in our
 * memory before the child exists: the child sees it, and so does the
 * parent after it.
 *
 * Not seen: children made by glibc itself (posix_spawn, system, popen: they
 * run none of our hooks before their exec), and by a raw system call
 * (syscall(SYS_clone), inline assembly): see the README's Limits. On other
 * architectures than x86-64 the byte is set at load: every socket() and
 * close() asks, as before. */
#include "fdreg.h"

#if defined(__x86_64__)

/* clone(fn, stack, flags, arg, ...): flags is the third argument (edx). */
__asm__(".text\n"
	".globl vfork\n"
	".type vfork, @function\n"
	"vfork:\n"
	"	movb $1, fdreg_vm_shared(%rip)\n"
	"	jmp __vfork@PLT\n"
	".size vfork, .-vfork\n"
	".globl clone\n"
	".type clone, @function\n"
	"clone:\n"
	"	testl $0x100, %edx\n" /* CLONE_VM */
	"	jz 1f\n"
	"	testl $0x10000, %edx\n" /* CLONE_THREAD */
	"	jnz 1f\n"
	"	movb $1, fdreg_vm_shared(%rip)\n"
	"1:	jmp __clone@PLT\n"
	".size clone, .-clone\n");

#else

__attribute__((constructor)) static void vmchild_unknown(void)
{
	fdreg_note_vm_shared();
}

#endif
