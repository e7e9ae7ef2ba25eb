/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * INI configuration (libinih) with typed getters. Every error message
 * names the file, the line and the key:
 *   "probe.ini:12: [session.ab] rate_pps: 'fast' is not a number"
 *
 * Sections may repeat a prefix with a name: [session.a-to-b],
 * [token.ops], [sla.default] ... mp_config_sections() iterates them.
 *
 * Syntax is inih's: "key = value" or "key: value", comments on lines
 * starting with ';' or '#', and after " ;" inside a line. Keys before any
 * header are in section "". Refused at load, with file and line: a
 * duplicate key in a section (a repeated [header] continues the same
 * section), an indented line after a key (inih would append it to that
 * key's value), lines longer than 197 characters, section or key names
 * longer than 49 characters (inih would cut them), an empty key name,
 * NUL bytes. Names and values are case-sensitive; booleans are not.
 */
#ifndef METROPROBE_CONFIG_H
#define METROPROBE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mp_config;

/* Loads a file. Returns 0, or -errno / -EINVAL with a message in err
 * (unreadable file, syntax error with its line, duplicate key). */
int mp_config_load(const char *path, struct mp_config **out,
		   char *err, size_t errlen);
/* Same from a string (name is used in messages). */
int mp_config_load_string(const char *text, const char *name,
			  struct mp_config **out, char *err, size_t errlen);
void mp_config_free(struct mp_config *c);

/* Raw value or NULL. */
const char *mp_config_get(const struct mp_config *c, const char *section,
			  const char *key);
/* Line of a key (0 if absent). */
unsigned mp_config_line(const struct mp_config *c, const char *section,
			const char *key);

/*
 * Typed getters: when the key is absent *out = def and 0 is returned;
 * when present but invalid, -EINVAL with a message in err.
 */
int mp_config_get_string(const struct mp_config *c, const char *section,
			 const char *key, const char *def, const char **out,
			 char *err, size_t errlen);
int mp_config_get_u64(const struct mp_config *c, const char *section,
		      const char *key, uint64_t def, uint64_t min, uint64_t max,
		      uint64_t *out, char *err, size_t errlen);
int mp_config_get_double(const struct mp_config *c, const char *section,
			 const char *key, double def, double *out,
			 char *err, size_t errlen);
int mp_config_get_bool(const struct mp_config *c, const char *section,
		       const char *key, bool def, bool *out,
		       char *err, size_t errlen);
/* Duration with unit ("3s", "500ms"; see mp_time_parse_duration). */
int mp_config_get_duration(const struct mp_config *c, const char *section,
			   const char *key, uint64_t def_ns, uint64_t *out_ns,
			   char *err, size_t errlen);

/*
 * Calls fn for each section whose name equals prefix or starts with
 * "prefix." (name = the part after the dot, or "" for the bare prefix),
 * in file order. Stops and returns fn's value when it is non-zero.
 */
typedef int (*mp_config_section_fn)(const struct mp_config *c,
				    const char *section, const char *name,
				    void *arg);
int mp_config_sections(const struct mp_config *c, const char *prefix,
		       mp_config_section_fn fn, void *arg);

/*
 * Rejects keys a program does not know: for every key in `section`
 * that is not in the NULL-terminated list `known`, returns -EINVAL with
 * "file:line: [section] key: unknown key".
 */
int mp_config_check_keys(const struct mp_config *c, const char *section,
			 const char *const *known, char *err, size_t errlen);

const char *mp_config_path(const struct mp_config *c);

#endif
