/* libdatahike: the C ABI of Datahike in C++, the product's stable contract (DESIGN.md section 7).
 *
 * Conventions
 *  1. Opaque handles only: datahike_conn (a connection to one database) and datahike_db (an
 *     immutable database value). Both are thread-safe: any thread may use them concurrently.
 *  2. Every fallible call returns a datahike_status (DATAHIKE_OK is 0) and takes `char** out_error`
 *     as its last argument. It sets *out_error to NULL on entry (a non-NULL *out_error is not
 *     freed: it is simply overwritten), and on failure to a NUL-terminated EDN map
 *         {:error/kind :query/error :message "..." :data {...}}
 *     whose :error/kind is the keyword datahike_status_name(status) names. Nothing is returned
 *     through the other out parameters on failure (they are set to NULL / 0). out_error may be NULL
 *     when the caller does not want the message.
 *  3. Every returned `char*` (results, reports, errors) is NUL-terminated UTF-8 owned by the caller
 *     and freed once with datahike_free. The strings (and the db handles) passed to a listener
 *     belong to the library and live only for the call.
 *  4. Release functions take `T**`, accept NULL (and a NULL *T), release the handle and set *T to
 *     NULL, so a second release through the same variable does nothing. A released connection
 *     handle is detected (every call with it fails with DATAHIKE_ERROR_MISUSE, a release does
 *     nothing); a db handle must not be used after its release.
 *  5. Query text, pull patterns and names (the index name, attribute, time point and configs) are
 *     always EDN. Data (tx-data, query arguments, entity ids, datom components, results,
 *     reports) is EDN or JSON as the datahike_format argument says. The JSON mapping: object keys
 *     become keywords ("name" or ":name" is :name); a string starting with ":" is a keyword
 *     (":db.type/string");
 *     a string starting with "\\:" is the literal string after the backslash; arrays are vectors.
 *     JSON output mirrors it: keywords print as ":ns/name" (map keys as "ns/name"), sets and
 *     lists as arrays, uuids as strings, instants as ISO-8601 strings. EDN output is exact.
 *  6. A NULL where a value is required (an argument or an out pointer) fails with
 *     DATAHIKE_ERROR_MISUSE; arguments documented as optional accept NULL. No input, however
 *     malformed, crashes the library: it fails with a status and an error map.
 *  7. A released signature never changes; new behaviour gets a new symbol.
 *
 * Example (error handling shown for the first call only):
 *     const char* cfg = "{:store {:backend :memory :id \"app\"}}";
 *     char* err = NULL;
 *     if (datahike_create_database(cfg, &err) != DATAHIKE_OK) {
 *       fprintf(stderr, "%s\n", err);
 *       datahike_free(err);
 *     }
 *     datahike_conn* conn = NULL;
 *     datahike_connect(cfg, &conn, &err);
 *     ...
 *     datahike_release(&conn);
 */
#ifndef DATAHIKE_DATAHIKE_H_
#define DATAHIKE_DATAHIKE_H_

#include <stddef.h>
#include <stdint.h>

#if defined(_WIN32)
#if defined(DATAHIKE_BUILDING_LIBRARY)
#define DATAHIKE_EXPORT __declspec(dllexport)
#else
#define DATAHIKE_EXPORT __declspec(dllimport)
#endif
#else
#define DATAHIKE_EXPORT __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
extern "C" {
#endif

typedef struct datahike_conn datahike_conn; /* a connection to one branch of a database */
typedef struct datahike_db datahike_db;     /* an immutable database value */

typedef enum { DATAHIKE_FORMAT_EDN = 0, DATAHIKE_FORMAT_JSON = 1 } datahike_format;

/* One code per error kind; the :error/kind keyword of each is in parentheses. */
typedef enum {
  DATAHIKE_OK = 0,
  DATAHIKE_ERROR_PARSE = 1,       /* (:parse/error) malformed EDN or JSON text */
  DATAHIKE_ERROR_SCHEMA = 2,      /* (:schema/violation) schema violation, invalid schema change */
  DATAHIKE_ERROR_TRANSACTION = 3, /* (:transaction/error) invalid tx-data, failed cas, ... */
  DATAHIKE_ERROR_QUERY = 4,       /* (:query/error) invalid query, pattern or query input */
  DATAHIKE_ERROR_NOT_FOUND = 5,   /* (:not-found) database, entity or listener missing */
  DATAHIKE_ERROR_STORAGE = 6,     /* (:storage/error) storage I/O, corrupt data, no such backend */
  DATAHIKE_ERROR_CONFLICT = 7,    /* (:conflict) database exists, lock held elsewhere */
  DATAHIKE_ERROR_MISUSE = 8,      /* (:misuse) NULL argument, bad config, released handle */
  DATAHIKE_ERROR_INTERNAL = 9     /* (:internal) a bug, or out of memory */
} datahike_status;

/* The library's version, "MAJOR.MINOR.PATCH" (a static string). */
DATAHIKE_EXPORT const char* datahike_version(void);

/* The name of a status: "ok", or the :error/kind keyword of its errors without the colon
 * ("query/error", "not-found", ...); "unknown" for a value outside the enum. A static string. */
DATAHIKE_EXPORT const char* datahike_status_name(datahike_status status);

/* Frees a string returned by the library. NULL is a no-op. */
DATAHIKE_EXPORT void datahike_free(void* p);

/* ---- databases ------------------------------------------------------------------------------
 * config_edn is Datahike's config map, e.g. {:store {:backend :memory :id "app"}
 * :keep-history? true :schema-flexibility :write}; a config without :store gets a fresh in-memory
 * store. Unknown keys and wrong types fail with DATAHIKE_ERROR_MISUSE. */

/* Creates the database (and runs its :initial-tx). DATAHIKE_ERROR_CONFLICT when it exists. */
DATAHIKE_EXPORT datahike_status datahike_create_database(const char* config_edn, char** out_error);
/* Deletes the database and all its data; a database that does not exist is not an error. Open
 * connections to it fail with DATAHIKE_ERROR_MISUSE afterwards; db values taken before stay
 * valid. */
DATAHIKE_EXPORT datahike_status datahike_delete_database(const char* config_edn, char** out_error);
/* *out_exists = 1 when the database exists, else 0. */
DATAHIKE_EXPORT datahike_status datahike_database_exists(const char* config_edn, int* out_exists,
                                                         char** out_error);

/* ---- connections ----------------------------------------------------------------------------- */

/* Connects to an existing database (DATAHIKE_ERROR_NOT_FOUND otherwise). Release with
 * datahike_release. */
DATAHIKE_EXPORT datahike_status datahike_connect(const char* config_edn, datahike_conn** out_conn,
                                                 char** out_error);
/* Closes the connection and removes the listeners it registered; returns once no callback of them
 * runs any more and the storage the connection held is released. NULL-safe; sets *conn to NULL.
 * Db values taken from the connection stay valid. */
DATAHIKE_EXPORT void datahike_release(datahike_conn** conn);

/* Transacts tx_data (a vector of entity maps and [:db/add ...] forms, or Datahike's argument map
 * {:tx-data [...] :tx-meta {...}}) and, when out_report is not NULL, returns the tx report in fmt:
 *     {:tx-data [[e a v tx added] ...] :tempids {"a" 3, -1 4, :db/current-tx 536870914}
 *      :tx-meta {...} :db-before {:max-tx .. :max-eid ..} :db-after {:max-tx .. :max-eid ..}}
 * A failed transaction changes nothing. Transactions on one database are serialized. */
DATAHIKE_EXPORT datahike_status datahike_transact(datahike_conn* conn, const char* tx_data,
                                                  datahike_format fmt, char** out_report,
                                                  char** out_error);
/* As datahike_transact, and also returns the database values before and after the transaction as
 * new handles (release each with datahike_db_release). Each of out_report, out_db_before and
 * out_db_after may be NULL when that result is not wanted; on failure all of them are set to NULL
 * (those not NULL). */
DATAHIKE_EXPORT datahike_status datahike_transact_dbs(datahike_conn* conn, const char* tx_data,
                                                      datahike_format fmt, char** out_report,
                                                      datahike_db** out_db_before,
                                                      datahike_db** out_db_after,
                                                      char** out_error);

/* The connection's latest database value (Datahike's `db`; the name datahike_db is the type's, so
 * the function that DESIGN.md sketches as datahike_db is datahike_conn_db). Release with
 * datahike_db_release. */
DATAHIKE_EXPORT datahike_status datahike_conn_db(datahike_conn* conn, datahike_db** out_db,
                                                 char** out_error);

/* A listener receives the report of every later successful transaction on the database (through
 * any connection), in the format chosen at datahike_listen, on the transacting thread, after the
 * new value is published. `report` lives only for the call. The callback must not transact on the
 * same database (that would deadlock); it may call datahike_unlisten, even for itself. */
typedef void (*datahike_listener)(const char* report, void* user);

/* Registers `callback` (with `user` passed back to it); *out_key identifies it for unlisten. */
DATAHIKE_EXPORT datahike_status datahike_listen(datahike_conn* conn, datahike_listener callback,
                                                void* user, datahike_format fmt, int64_t* out_key,
                                                char** out_error);
/* A listener that also receives the database values before and after the transaction. Both
 * handles are borrowed: they belong to the library and are valid only for the call (take a
 * datahike_db_copy of one to keep it; never release them). The rest is as for datahike_listener. */
typedef void (*datahike_db_listener)(const char* report, const datahike_db* db_before,
                                     const datahike_db* db_after, void* user);

/* As datahike_listen, for a datahike_db_listener. Its key shares the key space of datahike_listen:
 * datahike_unlisten removes either kind. */
DATAHIKE_EXPORT datahike_status datahike_listen_dbs(datahike_conn* conn,
                                                    datahike_db_listener callback, void* user,
                                                    datahike_format fmt, int64_t* out_key,
                                                    char** out_error);
/* Removes a listener (of either kind) registered on this connection; once it returns the callback
 * is not running and is never called again. DATAHIKE_ERROR_NOT_FOUND for an unknown key. */
DATAHIKE_EXPORT datahike_status datahike_unlisten(datahike_conn* conn, int64_t key,
                                                  char** out_error);

/* ---- database values -------------------------------------------------------------------------
 * A datahike_db holds an immutable value: it never changes and stays valid after its connection is
 * released or its database deleted. Every function below returns a new handle or text; none changes
 * the handle it is given. */

/* The value as of time point t (a tx id such as 536870914 or an instant #inst "2024-01-01"): the
 * datoms of the transactions up to and including t. As in Datahike, this fails unless the db keeps
 * history. */
DATAHIKE_EXPORT datahike_status datahike_as_of(const datahike_db* db, const char* t_edn,
                                               datahike_db** out_db, char** out_error);
/* The datoms added after time point t (t_edn as for datahike_as_of). */
DATAHIKE_EXPORT datahike_status datahike_since(const datahike_db* db, const char* t_edn,
                                               datahike_db** out_db, char** out_error);
/* Every datom ever asserted or retracted (retractions with added = false). */
DATAHIKE_EXPORT datahike_status datahike_history(const datahike_db* db, datahike_db** out_db,
                                                 char** out_error);
/* A new handle to the same immutable value (cheap: nothing is copied but a reference). Release
 * each handle with datahike_db_release; either may be released first. */
DATAHIKE_EXPORT datahike_status datahike_db_copy(const datahike_db* db, datahike_db** out_db,
                                                 char** out_error);
/* NULL-safe; sets *db to NULL. */
DATAHIKE_EXPORT void datahike_db_release(datahike_db** db);

/* A database value with no storage and no connection, from a DataScript-style schema map
 * ({:aka {:db/cardinality :db.cardinality/many} :friend {:db/valueType :db.type/ref}}; NULL for
 * none); its schema attributes take no entity ids, so the first new entity is 1. config_edn is NULL
 * or a map of :schema-flexibility and :keep-history?; NULL means Datahike's storage-free default,
 * :schema-flexibility :read and :keep-history? false. */
DATAHIKE_EXPORT datahike_status datahike_empty_db(const char* schema_edn, const char* config_edn,
                                                  datahike_db** out_db, char** out_error);
/* Applies tx_data (as datahike_transact takes it) to a db value, giving a new value and, when
 * out_report is not NULL, its report (Datahike's with / db-with). No stored database changes. The
 * db must be a current value, not an as-of, since or history view. */
DATAHIKE_EXPORT datahike_status datahike_db_with(const datahike_db* db, const char* tx_data,
                                                 datahike_format fmt, datahike_db** out_db,
                                                 char** out_report, char** out_error);

/* ---- reading --------------------------------------------------------------------------------- */

/* Runs a Datalog query (EDN: vector form, map form, or the argument map {:query Q :limit n
 * :offset n}). The dbs bind, in order, to the first n_dbs $-sources of the query's :in (the
 * implicit $ when there is no :in); dbs may be NULL when n_dbs is 0. args is a vector (in fmt)
 * binding the remaining :in positions in order, or NULL for none: scalars, tuples, collections,
 * relations, rule sets (%; a vector of rules, or a string of EDN in JSON) and further $-sources
 * given as collections of tuples. The result in fmt: a set of tuples for a relation find (a vector
 * with aggregates, :with or :limit/:offset; maps instead of tuples with :keys/:strs/:syms), a
 * scalar (nil when nothing matched) for [:find ?x .], a vector for [?x ...] and [?a ?b]. JSON
 * prints sets as arrays. Up to 64 query texts are kept parsed per thread, so repeating a query is
 * cheaper. */
DATAHIKE_EXPORT datahike_status datahike_q(const char* query_edn, const datahike_db* const* dbs,
                                           size_t n_dbs, const char* args, datahike_format fmt,
                                           char** out_result, char** out_error);

/* Pulls pattern_edn ([:name {:friend [:name]}], [*], ...) for the entity eid (in fmt: an id, a
 * lookup ref [:name "Alice"] or an ident). The result is a map, or nil when nothing is found. */
DATAHIKE_EXPORT datahike_status datahike_pull(const datahike_db* db, const char* pattern_edn,
                                              const char* eid, datahike_format fmt,
                                              char** out_result, char** out_error);
/* Pulls the pattern for each entity of eids (a vector in fmt); as Datahike, entities for which
 * nothing is found are left out of the result vector. */
DATAHIKE_EXPORT datahike_status datahike_pull_many(const datahike_db* db, const char* pattern_edn,
                                                   const char* eids, datahike_format fmt,
                                                   char** out_result, char** out_error);
/* The entity eid (in fmt, as for datahike_pull) as a map of its attributes (touched: components
 * included, refs as {:db/id x}), or nil. */
DATAHIKE_EXPORT datahike_status datahike_entity(const datahike_db* db, const char* eid,
                                                datahike_format fmt, char** out_result,
                                                char** out_error);

/* Datoms of an index. index_edn is ":eavt", ":aevt" or ":avet"; components a vector in fmt of
 * leading components in that index's order ([e a v tx] for :eavt, [a e v tx] for :aevt, [a v e tx]
 * for :avet; entity positions accept lookup refs and idents), or NULL for none. The result is a
 * vector of [e a v tx added] in index order, as the db's view shows them. datoms returns the datoms
 * that match the components; seek_datoms runs from the components to the end of the index;
 * rseek_datoms from the components backwards to its start. */
DATAHIKE_EXPORT datahike_status datahike_datoms(const datahike_db* db, const char* index_edn,
                                                const char* components, datahike_format fmt,
                                                char** out_result, char** out_error);
DATAHIKE_EXPORT datahike_status datahike_seek_datoms(const datahike_db* db, const char* index_edn,
                                                     const char* components, datahike_format fmt,
                                                     char** out_result, char** out_error);
DATAHIKE_EXPORT datahike_status datahike_rseek_datoms(const datahike_db* db, const char* index_edn,
                                                      const char* components, datahike_format fmt,
                                                      char** out_result, char** out_error);
/* The AVET datoms of attribute attr_edn (":age") with start <= v <= end, as [e a v tx added];
 * start and end (values in fmt) may be NULL for an open end. The attribute must be indexed
 * (:db/index, :db/unique or a ref). */
DATAHIKE_EXPORT datahike_status datahike_index_range(const datahike_db* db, const char* attr_edn,
                                                     const char* start, const char* end,
                                                     datahike_format fmt, char** out_result,
                                                     char** out_error);

/* The schema as Datahike's `schema`: {:name {:db/ident :name :db/valueType :db.type/string
 * :db/cardinality :db.cardinality/one} ...}, user attributes only. */
DATAHIKE_EXPORT datahike_status datahike_schema(const datahike_db* db, datahike_format fmt,
                                                char** out_result, char** out_error);
/* The reverse schema as Datahike's `reverse-schema`: {:db/unique #{...} :db/index #{...}
 * :db.type/ref #{...} :db.cardinality/many #{...} ...}. */
DATAHIKE_EXPORT datahike_status datahike_reverse_schema(const datahike_db* db, datahike_format fmt,
                                                        char** out_result, char** out_error);

/* Counters of a db value, in fmt, computed when called (a scan of the datoms the value's view
 * shows):
 *   {:count n                  datoms the view shows (EAVT)
 *    :avet-count n             of them, datoms of AVET attributes (indexed, unique or ref)
 *    :per-attr-counts {:name n ...}   datoms per attribute
 *    :per-entity-counts {3 n ...}     datoms per entity
 *    :temporal-count n         retracted assertions and retractions kept for history (only when
 *    :temporal-avet-count n    the db keeps history; both of the whole db, whatever the view)
 *    :max-eid n :max-tx n      the basis: the highest entity and transaction ids used
 *    :transactions n}          transactions in this value's past (max-tx minus tx0)
 * The first six keys are those of Datahike's `metrics`. */
DATAHIKE_EXPORT datahike_status datahike_metrics(const datahike_db* db, datahike_format fmt,
                                                 char** out_result, char** out_error);

/* ---- branches and commits ---------------------------------------------------------------------
 * As in Datahike's datahike.versioning (DESIGN.md section 6). Every committed transaction is a
 * commit with a commit id (a uuid) and parent commit ids. A branch is a named head, a keyword;
 * :db is the default and cannot be deleted. A connection works on the branch of its config's
 * :branch key ({:store {...} :branch :feature}; :db when absent), which must exist. Branch names,
 * commit ids and parent collections are always EDN: :feature, #uuid "...", #{:feature #uuid "..."}.
 * Transact reports carry the new commit id in :tx-meta as :db/commitId. Unknown branches and
 * commits fail with DATAHIKE_ERROR_NOT_FOUND; a name that is not a keyword (or an id that is not a
 * uuid) with DATAHIKE_ERROR_MISUSE. */

/* The database's branch names as a set of keywords, e.g. #{:db :feature} (JSON: [":db", ...]). */
DATAHIKE_EXPORT datahike_status datahike_branches(datahike_conn* conn, datahike_format fmt,
                                                  char** out_result, char** out_error);
/* Datahike's branch!: creates the branch new_branch_edn (a keyword) whose head is from_edn, a branch
 * keyword or a commit uuid. DATAHIKE_ERROR_CONFLICT when new_branch exists. */
DATAHIKE_EXPORT datahike_status datahike_branch(datahike_conn* conn, const char* from_edn,
                                                const char* new_branch_edn, char** out_error);
/* Datahike's delete-branch!: removes the branch name; its commits stay readable by id
 * (datahike_commit_db). Deleting :db fails with DATAHIKE_ERROR_MISUSE. Connections to the deleted
 * branch fail with DATAHIKE_ERROR_NOT_FOUND afterwards. */
DATAHIKE_EXPORT datahike_status datahike_delete_branch(datahike_conn* conn, const char* branch_edn,
                                                       char** out_error);
/* Datahike's force-branch!: points branch_edn (created if needed) at a new commit of db, whose
 * parents are parents_edn, a non-empty collection of branch keywords (their heads) and commit
 * uuids. Like git reset --hard: the branch's former head is no longer its history. db must be a
 * current value (not an as-of, since or history view) of a database that still exists; a
 * datahike_db_with result is allowed. */
DATAHIKE_EXPORT datahike_status datahike_force_branch(const datahike_db* db, const char* branch_edn,
                                                      const char* parents_edn, char** out_error);
/* Datahike's merge!: transacts tx_data (as datahike_transact takes it) on the connection's branch
 * as one commit whose parents are the branch's head and parents_edn (a non-empty collection of
 * branch keywords and commit uuids). Bringing the parents' changes into tx_data is the caller's
 * part; the commit records the ancestry. out_report (optional) as for datahike_transact. */
DATAHIKE_EXPORT datahike_status datahike_merge(datahike_conn* conn, const char* parents_edn,
                                               const char* tx_data, datahike_format fmt,
                                               char** out_report, char** out_error);
/* The commit id of a db value, #uuid "..." (JSON: the uuid string), or nil (JSON null) when the
 * value is not a commit: as-of, since and history views, db_with results, empty_db values and
 * values of deleted databases. */
DATAHIKE_EXPORT datahike_status datahike_commit_id(const datahike_db* db, datahike_format fmt,
                                                   char** out_result, char** out_error);
/* The parent commit ids of a db value's commit, a set of uuids (empty for a database's first
 * commit; two or more for a merge), or nil when the value is not a commit. */
DATAHIKE_EXPORT datahike_status datahike_parent_commit_ids(const datahike_db* db,
                                                           datahike_format fmt, char** out_result,
                                                           char** out_error);
/* The head of a branch of the connection's database (Datahike's branch-as-db), read-only. */
DATAHIKE_EXPORT datahike_status datahike_branch_db(datahike_conn* conn, const char* branch_edn,
                                                   datahike_db** out_db, char** out_error);
/* The value of any commit of the connection's database by id (Datahike's commit-as-db). */
DATAHIKE_EXPORT datahike_status datahike_commit_db(datahike_conn* conn, const char* commit_id_edn,
                                                   datahike_db** out_db, char** out_error);
/* The commit ids reachable from a branch's head through parents, the head first, each once: a
 * vector of uuids (Datahike's branch-history, as ids). */
DATAHIKE_EXPORT datahike_status datahike_branch_history(datahike_conn* conn, const char* branch_edn,
                                                        datahike_format fmt, char** out_result,
                                                        char** out_error);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* DATAHIKE_DATAHIKE_H_ */
