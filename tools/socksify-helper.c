/* socksify-helper — the wrapper's checks that need C:
 *
 *   socksify-helper check      load the configuration exactly as the library
 *                              will (same environment), report any error as
 *                              "socksify: FILE:LINE: reason", exit 1 on error
 *   socksify-helper elf PATH   exit 0 when PATH can take the preload (a
 *                              dynamically linked ELF of our own class and
 *                              machine, or not ELF at all, e.g. a script);
 *                              otherwise say why and exit 1
 *   socksify-helper version    print the version
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

static int check_config(void)
{
	struct config *cfg = malloc(sizeof(*cfg));
	struct config_env env = {
		.conf_file = getenv("SOCKSIFY_CONF"),
		.proxy_url = getenv("SOCKSIFY_PROXY"),
		.log_level = getenv("SOCKSIFY_LOG"),
		.xdg_config_home = getenv("XDG_CONFIG_HOME"),
		.home = getenv("HOME"),
	};
	int rc;

	if (!cfg) {
		fprintf(stderr, "socksify: out of memory\n");
		return 1;
	}
	rc = config_load(cfg, &env);
	if (rc < 0 || !cfg->valid)
		fprintf(stderr, "socksify: %s\n", cfg->error);
	else if (cfg->world_readable_secret)
		fprintf(stderr,
			"socksify: warning: %s holds a proxy password and "
			"other users can read it (chmod 600 it)\n",
			cfg->source);
	rc = (rc < 0 || !cfg->valid) ? 1 : 0;
	free(cfg);
	return rc;
}

/* The identity bytes that must match ours: class, byte order, machine. */
struct elf_identity {
	unsigned char class, data;
	uint16_t machine;
	int has_interp;
};

static int read_phdrs64(int fd, const Elf64_Ehdr *eh, struct elf_identity *id)
{
	for (unsigned i = 0; i < eh->e_phnum; i++) {
		Elf64_Phdr ph;
		off_t at = (off_t)eh->e_phoff + (off_t)i * eh->e_phentsize;

		if (pread(fd, &ph, sizeof(ph), at) != (ssize_t)sizeof(ph))
			return -1;
		if (ph.p_type == PT_INTERP)
			id->has_interp = 1;
	}
	return 0;
}

/* Read the identity of an ELF file. Returns 1 for ELF, 0 for not ELF,
 * -1 when unreadable. Only 64-bit program headers are walked: a 32-bit file
 * is refused on its class alone (this build is 64-bit). */
static int elf_identify(const char *path, struct elf_identity *id)
{
	Elf64_Ehdr eh;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;
	int rc = 1;

	if (fd < 0)
		return -1;
	memset(id, 0, sizeof(*id));
	n = pread(fd, &eh, sizeof(eh), 0);
	if (n < EI_NIDENT || memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0) {
		close(fd);
		return 0;
	}
	id->class = eh.e_ident[EI_CLASS];
	id->data = eh.e_ident[EI_DATA];
	if (id->class == ELFCLASS64 && n == (ssize_t)sizeof(eh)) {
		id->machine = eh.e_machine;
		if (read_phdrs64(fd, &eh, id) < 0)
			rc = -1;
	}
	close(fd);
	return rc;
}

static int check_elf(const char *path)
{
	struct elf_identity prog, self;
	int rc = elf_identify(path, &prog);

	if (rc <= 0)
		return 0; /* a script, or unreadable: exec will tell */
	if (elf_identify("/proc/self/exe", &self) != 1)
		return 0;
	if (prog.class != self.class || prog.data != self.data ||
	    prog.machine != self.machine) {
		fprintf(stderr,
			"socksify: %s is built for another architecture than "
			"this socksify; the loader would skip the preload and "
			"its traffic would go direct; refusing\n",
			path);
		return 1;
	}
	if (!prog.has_interp) {
		fprintf(stderr,
			"socksify: %s is statically linked: socksify cannot "
			"see its network calls and its traffic would go direct; "
			"refusing\n",
			path);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "check") == 0)
		return check_config();
	if (argc == 3 && strcmp(argv[1], "elf") == 0)
		return check_elf(argv[2]);
	if (argc == 2 && strcmp(argv[1], "version") == 0) {
		printf("socksify %s\n", SOCKSIFY_VERSION);
		return 0;
	}
	fprintf(stderr, "usage: socksify-helper check | elf PATH | version\n");
	return 2;
}
