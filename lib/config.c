/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * INI configuration over libinih, with the line of every key kept so
 * that each error can say "file:line: [section] key: problem".
 *
 * inih's handler is not told the line number, so the text is fed to
 * ini_parse_stream() through a reader that hands out one physical line
 * per call and counts them: when the handler runs, the reader's count is
 * the line of the key. The reader also records section headers (so
 * sections without keys are still listed, in file order) and refuses
 * what inih would otherwise silently change: lines too long for its
 * buffer, and section or key names it would truncate.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ini.h>

#include "metroprobe/config.h"
#include "metroprobe/mp_time.h"

/* inih's fixed buffers for a section and a key name (ini.c MAX_SECTION,
 * MAX_NAME): longer names would be cut without a word. */
#define CFG_MAX_NAME      49
/* Largest file read (a config, not a data set). */
#define CFG_MAX_FILE      (4u << 20)

struct cfg_entry {
	char *section;
	char *key;
	char *value;
	unsigned line;
};

struct cfg_section {
	char *name;
	unsigned line;
};

struct mp_config {
	char *path;
	struct cfg_entry *entries;
	size_t n_entries, cap_entries;
	struct cfg_section *sections;
	size_t n_sections, cap_sections;
};

struct cfg_parse {
	struct mp_config *c;
	const char *pos;
	const char *end;
	unsigned line;          /* line the reader handed out last */
	bool line_indented;     /* that line starts with blank space */
	int err;                /* first error, 0 if none */
	unsigned err_line;
	char *errbuf;
	size_t errlen;
};

static void
set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Keeps the first error of a parse (by line). */
static void
parse_err(struct cfg_parse *st, int rc, unsigned line, const char *fmt, ...)
{
	va_list ap;

	if (st->err != 0 && st->err_line <= line)
		return;
	st->err = rc;
	st->err_line = line;
	if (st->errbuf == NULL || st->errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(st->errbuf, st->errlen, fmt, ap);
	va_end(ap);
}

static const struct cfg_entry *
find_entry(const struct mp_config *c, const char *section, const char *key)
{
	if (c == NULL || section == NULL || key == NULL)
		return NULL;
	for (size_t i = 0; i < c->n_entries; i++)
		if (strcmp(c->entries[i].section, section) == 0 &&
		    strcmp(c->entries[i].key, key) == 0)
			return &c->entries[i];
	return NULL;
}

static bool
has_section(const struct mp_config *c, const char *name)
{
	for (size_t i = 0; i < c->n_sections; i++)
		if (strcmp(c->sections[i].name, name) == 0)
			return true;
	return false;
}

static int
add_section(struct mp_config *c, const char *name, size_t len, unsigned line)
{
	char *copy;

	copy = strndup(name, len);
	if (copy == NULL)
		return -ENOMEM;
	if (has_section(c, copy)) {
		/* a repeated header continues the same section */
		free(copy);
		return 0;
	}
	if (c->n_sections == c->cap_sections) {
		size_t cap = c->cap_sections ? 2 * c->cap_sections : 8;
		struct cfg_section *s = realloc(c->sections, cap * sizeof(*s));

		if (s == NULL) {
			free(copy);
			return -ENOMEM;
		}
		c->sections = s;
		c->cap_sections = cap;
	}
	c->sections[c->n_sections].name = copy;
	c->sections[c->n_sections].line = line;
	c->n_sections++;
	return 0;
}

static const char *
skip_blank(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	return p;
}

/* Looks at one physical line as inih will (ini.c ini_parse_stream). */
static void
inspect_line(struct cfg_parse *st, const char *p, const char *end)
{
	const char *start = skip_blank(p, end);
	const char *stop;

	while (end > start && (end[-1] == '\n' || end[-1] == '\r' ||
			       end[-1] == ' ' || end[-1] == '\t'))
		end--;
	st->line_indented = start > p && start < end;
	if (start == end || *start == ';' || *start == '#')
		return;
	if (*start == '[') {
		stop = memchr(start + 1, ']', (size_t)(end - start - 1));
		if (stop == NULL)
			return;         /* inih reports the syntax error */
		if (stop - start - 1 > CFG_MAX_NAME) {
			parse_err(st, -EINVAL, st->line,
				  "%s:%u: section name longer than %d "
				  "characters", st->c->path, st->line,
				  CFG_MAX_NAME);
			return;
		}
		if (add_section(st->c, start + 1, (size_t)(stop - start - 1),
				st->line) != 0)
			parse_err(st, -ENOMEM, st->line, "%s:%u: out of memory",
				  st->c->path, st->line);
		return;
	}
	/* key = value (or key: value): the key ends at the first = or : */
	stop = start;
	while (stop < end && *stop != '=' && *stop != ':')
		stop++;
	if (stop == end || st->line_indented)
		return;
	while (stop > start && (stop[-1] == ' ' || stop[-1] == '\t'))
		stop--;
	if (stop - start > CFG_MAX_NAME)
		parse_err(st, -EINVAL, st->line,
			  "%s:%u: key '%.*s...' longer than %d characters",
			  st->c->path, st->line, CFG_MAX_NAME, start,
			  CFG_MAX_NAME);
}

/* fgets-like: one physical line per call, counted. */
static char *
cfg_reader(char *str, int num, void *stream)
{
	struct cfg_parse *st = stream;
	const char *nl;
	size_t line_len, n;

	if (st->pos >= st->end || num < 2)
		return NULL;
	nl = memchr(st->pos, '\n', (size_t)(st->end - st->pos));
	line_len = nl ? (size_t)(nl - st->pos) + 1 :
			(size_t)(st->end - st->pos);
	st->line++;
	n = line_len;
	if (n > (size_t)num - 1) {
		parse_err(st, -EINVAL, st->line,
			  "%s:%u: line longer than %d characters",
			  st->c->path, st->line, num - 3);
		n = (size_t)num - 1;
	}
	memcpy(str, st->pos, n);
	str[n] = '\0';
	inspect_line(st, st->pos, st->pos + line_len);
	st->pos += line_len;
	return str;
}

static int
cfg_handler(void *user, const char *section, const char *name,
	    const char *value)
{
	struct cfg_parse *st = user;
	struct mp_config *c = st->c;
	const struct cfg_entry *prev;
	struct cfg_entry *e;

	if (name[0] == '\0') {
		parse_err(st, -EINVAL, st->line, "%s:%u: [%s] key name is "
			  "empty", c->path, st->line, section);
		return 1;
	}
	prev = find_entry(c, section, name);
	if (prev != NULL) {
		const struct cfg_entry *last = &c->entries[c->n_entries - 1];

		/*
		 * inih reads an indented line after a key as more of that
		 * key's value (multi-line values, as Python's configparser).
		 * Refused: an indented "key = value" would silently vanish.
		 */
		if (st->line_indented && prev == last)
			parse_err(st, -EINVAL, st->line,
				  "%s:%u: [%s] %s: indented line continues "
				  "the value of the key on line %u; remove "
				  "the indentation", c->path, st->line,
				  section, name, prev->line);
		else
			parse_err(st, -EINVAL, st->line,
				  "%s:%u: [%s] %s: duplicate key (first set "
				  "on line %u)", c->path, st->line, section,
				  name, prev->line);
		return 1;
	}
	if (c->n_entries == c->cap_entries) {
		size_t cap = c->cap_entries ? 2 * c->cap_entries : 32;
		struct cfg_entry *ne = realloc(c->entries, cap * sizeof(*ne));

		if (ne == NULL)
			goto nomem;
		c->entries = ne;
		c->cap_entries = cap;
	}
	e = &c->entries[c->n_entries];
	e->section = strdup(section);
	e->key = strdup(name);
	e->value = strdup(value ? value : "");
	e->line = st->line;
	if (e->section == NULL || e->key == NULL || e->value == NULL) {
		free(e->section);
		free(e->key);
		free(e->value);
		goto nomem;
	}
	c->n_entries++;
	return 1;
nomem:
	parse_err(st, -ENOMEM, st->line, "%s:%u: out of memory", c->path,
		  st->line);
	return 1;
}

void
mp_config_free(struct mp_config *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->n_entries; i++) {
		free(c->entries[i].section);
		free(c->entries[i].key);
		free(c->entries[i].value);
	}
	for (size_t i = 0; i < c->n_sections; i++)
		free(c->sections[i].name);
	free(c->entries);
	free(c->sections);
	free(c->path);
	free(c);
}

static int
parse_text(const char *text, size_t len, const char *name,
	   struct mp_config **out, char *err, size_t errlen)
{
	struct cfg_parse st = { 0 };
	struct mp_config *c;
	int rc;

	if (memchr(text, '\0', len) != NULL) {
		set_err(err, errlen, "%s: contains a NUL byte (not a text "
			"file?)", name);
		return -EINVAL;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL || (c->path = strdup(name)) == NULL) {
		free(c);
		set_err(err, errlen, "%s: out of memory", name);
		return -ENOMEM;
	}
	st.c = c;
	st.pos = text;
	st.end = text + len;
	st.errbuf = err;
	st.errlen = errlen;
	rc = ini_parse_stream(cfg_reader, &st, cfg_handler, &st);
	if (rc == -2) {
		parse_err(&st, -ENOMEM, 0, "%s: out of memory", name);
	} else if (rc > 0) {
		parse_err(&st, -EINVAL, (unsigned)rc,
			  "%s:%d: syntax error: expected '[section]' or "
			  "'key = value'", name, rc);
	} else if (rc < 0) {
		parse_err(&st, -EIO, 0, "%s: cannot parse", name);
	}
	if (st.err != 0) {
		mp_config_free(c);
		return st.err;
	}
	*out = c;
	return 0;
}

int
mp_config_load_string(const char *text, const char *name,
		      struct mp_config **out, char *err, size_t errlen)
{
	if (name == NULL)
		name = "<string>";
	if (text == NULL || out == NULL) {
		set_err(err, errlen, "%s: no text", name);
		return -EINVAL;
	}
	return parse_text(text, strlen(text), name, out, err, errlen);
}

int
mp_config_load(const char *path, struct mp_config **out,
	       char *err, size_t errlen)
{
	FILE *f;
	char *text;
	size_t len;
	int rc;

	if (path == NULL || out == NULL) {
		set_err(err, errlen, "config: no file name");
		return -EINVAL;
	}
	f = fopen(path, "r");
	if (f == NULL) {
		rc = -errno;
		set_err(err, errlen, "%s: cannot open: %s", path,
			strerror(errno));
		return rc;
	}
	text = malloc(CFG_MAX_FILE + 1);
	if (text == NULL) {
		fclose(f);
		set_err(err, errlen, "%s: out of memory", path);
		return -ENOMEM;
	}
	len = fread(text, 1, CFG_MAX_FILE + 1, f);
	if (ferror(f)) {
		rc = errno ? -errno : -EIO;
		set_err(err, errlen, "%s: cannot read: %s", path,
			strerror(-rc));
		fclose(f);
		free(text);
		return rc;
	}
	fclose(f);
	if (len > CFG_MAX_FILE) {
		set_err(err, errlen, "%s: larger than %u bytes", path,
			CFG_MAX_FILE);
		free(text);
		return -EFBIG;
	}
	rc = parse_text(text, len, path, out, err, errlen);
	free(text);
	return rc;
}

const char *
mp_config_get(const struct mp_config *c, const char *section, const char *key)
{
	const struct cfg_entry *e = find_entry(c, section, key);

	return e ? e->value : NULL;
}

unsigned
mp_config_line(const struct mp_config *c, const char *section,
	       const char *key)
{
	const struct cfg_entry *e = find_entry(c, section, key);

	return e ? e->line : 0;
}

const char *
mp_config_path(const struct mp_config *c)
{
	return c ? c->path : NULL;
}

/* "file:line: [section] key: '<value>' <problem>" */
static int
value_err(const struct mp_config *c, const struct cfg_entry *e,
	  char *err, size_t errlen, const char *fmt, ...)
{
	char what[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	set_err(err, errlen, "%s:%u: [%s] %s: '%s' %s", c->path, e->line,
		e->section, e->key, e->value, what);
	return -EINVAL;
}

int
mp_config_get_string(const struct mp_config *c, const char *section,
		     const char *key, const char *def, const char **out,
		     char *err, size_t errlen)
{
	const struct cfg_entry *e = find_entry(c, section, key);

	(void)err;
	(void)errlen;
	*out = e ? e->value : def;
	return 0;
}

int
mp_config_get_u64(const struct mp_config *c, const char *section,
		  const char *key, uint64_t def, uint64_t min, uint64_t max,
		  uint64_t *out, char *err, size_t errlen)
{
	const struct cfg_entry *e = find_entry(c, section, key);
	const char *p;
	uint64_t v = 0;

	if (e == NULL) {
		*out = def;
		return 0;
	}
	p = e->value;
	if (*p == '\0')
		return value_err(c, e, err, errlen,
				 "is not a non-negative integer");
	for (; *p != '\0'; p++) {
		unsigned d;

		if (*p < '0' || *p > '9')
			return value_err(c, e, err, errlen,
					 "is not a non-negative integer");
		d = (unsigned)(*p - '0');
		if (v > (UINT64_MAX - d) / 10)
			return value_err(c, e, err, errlen,
					 "is out of range %llu..%llu",
					 (unsigned long long)min,
					 (unsigned long long)max);
		v = v * 10 + d;
	}
	if (v < min || v > max)
		return value_err(c, e, err, errlen,
				 "is out of range %llu..%llu",
				 (unsigned long long)min,
				 (unsigned long long)max);
	*out = v;
	return 0;
}

int
mp_config_get_double(const struct mp_config *c, const char *section,
		     const char *key, double def, double *out,
		     char *err, size_t errlen)
{
	const struct cfg_entry *e = find_entry(c, section, key);
	char *endp;
	double v;

	if (e == NULL) {
		*out = def;
		return 0;
	}
	errno = 0;
	v = strtod(e->value, &endp);
	if (endp == e->value || *endp != '\0' ||
	    isspace((unsigned char)e->value[0]))
		return value_err(c, e, err, errlen, "is not a number");
	if (errno == ERANGE)
		return value_err(c, e, err, errlen,
				 "is out of range for a double");
	if (!isfinite(v))
		return value_err(c, e, err, errlen, "is not a finite number");
	*out = v;
	return 0;
}

int
mp_config_get_bool(const struct mp_config *c, const char *section,
		   const char *key, bool def, bool *out,
		   char *err, size_t errlen)
{
	static const char *const yes[] = { "true", "yes", "on", "1" };
	static const char *const no[] = { "false", "no", "off", "0" };
	const struct cfg_entry *e = find_entry(c, section, key);

	if (e == NULL) {
		*out = def;
		return 0;
	}
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(e->value, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(e->value, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return value_err(c, e, err, errlen,
			 "is not a boolean (true/false, yes/no, on/off, "
			 "1/0)");
}

int
mp_config_get_duration(const struct mp_config *c, const char *section,
		       const char *key, uint64_t def_ns, uint64_t *out_ns,
		       char *err, size_t errlen)
{
	const struct cfg_entry *e = find_entry(c, section, key);

	if (e == NULL) {
		*out_ns = def_ns;
		return 0;
	}
	if (mp_time_parse_duration(e->value, out_ns) != 0)
		return value_err(c, e, err, errlen,
				 "is not a duration (an integer with a unit: "
				 "ns, us, ms, s, m, h, d; e.g. 500ms)");
	return 0;
}

int
mp_config_sections(const struct mp_config *c, const char *prefix,
		   mp_config_section_fn fn, void *arg)
{
	size_t plen;

	if (c == NULL || prefix == NULL || fn == NULL)
		return -EINVAL;
	plen = strlen(prefix);
	for (size_t i = 0; i < c->n_sections; i++) {
		const char *s = c->sections[i].name;
		const char *name;
		int rc;

		if (strncmp(s, prefix, plen) != 0)
			continue;
		if (s[plen] == '\0')
			name = "";
		else if (s[plen] == '.')
			name = s + plen + 1;
		else
			continue;
		rc = fn(c, s, name, arg);
		if (rc != 0)
			return rc;
	}
	return 0;
}

int
mp_config_check_keys(const struct mp_config *c, const char *section,
		     const char *const *known, char *err, size_t errlen)
{
	if (c == NULL || section == NULL || known == NULL)
		return -EINVAL;
	for (size_t i = 0; i < c->n_entries; i++) {
		const struct cfg_entry *e = &c->entries[i];
		bool ok = false;

		if (strcmp(e->section, section) != 0)
			continue;
		for (size_t k = 0; known[k] != NULL; k++) {
			if (strcmp(e->key, known[k]) == 0) {
				ok = true;
				break;
			}
		}
		if (!ok) {
			set_err(err, errlen, "%s:%u: [%s] %s: unknown key",
				c->path, e->line, e->section, e->key);
			return -EINVAL;
		}
	}
	return 0;
}
