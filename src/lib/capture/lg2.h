/*
 * lib/capture/lg2.h — the libgit2 functions code capture, code diff and
 * checkout call, loaded on first use (util/dl.h) so that the commands that
 * never look at a repository do not pay for libgit2 and what it links
 * (mbedtls, libssh2, krb5, ...) at start-up.
 *
 * An entry point runs lg2_load() before any other call: 0 when libgit2 is
 * there (the library is also initialised: git_libgit2_init, balanced by
 * lg2.libgit2_shutdown() at the end of the entry point as before), or the
 * cairn error "cannot load libgit2 (libgit2.so.1.5): ...".  Then
 * lg2.repository_open_ext(...) is git_repository_open_ext(...) with its own
 * prototype.  A function the code starts calling goes into LG2_FUNCS.
 *
 * Thread-safety: lg2_load() is safe from any thread; the table is read-only
 * once loaded.
 */
#ifndef CAIRN_LIB_CAPTURE_LG2_H
#define CAIRN_LIB_CAPTURE_LG2_H

#include <git2.h>

#include "util/dl.h"

#define LG2_FUNCS(X)                                                                               \
	X(attr_get)                                                                                \
	X(attr_value)                                                                              \
	X(blob_filter)                                                                             \
	X(blob_filter_options_init)                                                                \
	X(blob_free)                                                                               \
	X(blob_lookup)                                                                             \
	X(blob_rawcontent)                                                                         \
	X(blob_rawsize)                                                                            \
	X(buf_dispose)                                                                             \
	X(commit_create)                                                                           \
	X(commit_free)                                                                             \
	X(commit_id)                                                                               \
	X(commit_tree)                                                                             \
	X(config_free)                                                                             \
	X(config_get_bool)                                                                         \
	X(config_get_string)                                                                       \
	X(config_iterator_free)                                                                    \
	X(config_iterator_new)                                                                     \
	X(config_next)                                                                             \
	X(config_set_string)                                                                       \
	X(diff_options_init)                                                                       \
	X(error_clear)                                                                             \
	X(error_last)                                                                              \
	X(filter_list_free)                                                                        \
	X(filter_list_load)                                                                        \
	X(ignore_add_rule)                                                                         \
	X(index_add)                                                                               \
	X(index_add_bypath)                                                                        \
	X(index_free)                                                                              \
	X(index_get_bypath)                                                                        \
	X(index_write)                                                                             \
	X(index_write_tree)                                                                        \
	X(libgit2_init)                                                                            \
	X(libgit2_shutdown)                                                                        \
	X(odb_exists)                                                                              \
	X(odb_free)                                                                                \
	X(odb_read_header)                                                                         \
	X(odb_write)                                                                               \
	X(oid_fromstr)                                                                             \
	X(oid_tostr)                                                                               \
	X(patch_free)                                                                              \
	X(patch_from_buffers)                                                                      \
	X(patch_to_buf)                                                                            \
	X(reference_free)                                                                          \
	X(reference_is_branch)                                                                     \
	X(reference_lookup)                                                                        \
	X(reference_name_is_valid)                                                                 \
	X(reference_peel)                                                                          \
	X(reference_shorthand)                                                                     \
	X(reference_symbolic_target)                                                               \
	X(reference_type)                                                                          \
	X(repository_config)                                                                       \
	X(repository_config_snapshot)                                                              \
	X(repository_free)                                                                         \
	X(repository_head)                                                                         \
	X(repository_head_detached)                                                                \
	X(repository_index)                                                                        \
	X(repository_init)                                                                         \
	X(repository_is_bare)                                                                      \
	X(repository_odb)                                                                          \
	X(repository_open_ext)                                                                     \
	X(repository_path)                                                                         \
	X(repository_set_head)                                                                     \
	X(repository_set_head_detached)                                                            \
	X(repository_workdir)                                                                      \
	X(signature_free)                                                                          \
	X(signature_new)                                                                           \
	X(status_byindex)                                                                          \
	X(status_list_entrycount)                                                                  \
	X(status_list_free)                                                                        \
	X(status_list_new)                                                                         \
	X(status_options_init)                                                                     \
	X(tree_entry_bypath)                                                                       \
	X(tree_entry_filemode)                                                                     \
	X(tree_entry_free)                                                                         \
	X(tree_entry_id)                                                                           \
	X(tree_entry_name)                                                                         \
	X(tree_entry_type)                                                                         \
	X(tree_free)                                                                               \
	X(tree_id)                                                                                 \
	X(tree_lookup)                                                                             \
	X(tree_walk)

#define LG2_SLOT(f) DL_SLOT(git_, f)
struct lg2_api {
	LG2_FUNCS(LG2_SLOT)
};
#undef LG2_SLOT

extern struct lg2_api lg2;

/* Load libgit2 and call git_libgit2_init: 0, or CAIRN_ERROR (error set). */
int lg2_load(void);

#endif
