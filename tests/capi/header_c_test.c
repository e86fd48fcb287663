/* Compiled as C11 with -pedantic: proves capi/include/datahike/datahike.h is valid C, and calls
 * every function of it once from C (the GoogleTest suite capi_test.cc covers the behaviour). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datahike/datahike.h"

static int failures = 0;

#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      ++failures;                                                              \
    }                                                                          \
  } while (0)

/* Checks a call succeeded and that its text result contains `want` (when given); frees it. */
static void expect_ok(datahike_status st, char* err, char* text, const char* want, int line) {
  if (st != DATAHIKE_OK) {
    fprintf(stderr, "line %d: status %s: %s\n", line, datahike_status_name(st), err ? err : "");
    ++failures;
  } else if (want != NULL && (text == NULL || strstr(text, want) == NULL)) {
    fprintf(stderr, "line %d: expected %s in %s\n", line, want, text ? text : "(null)");
    ++failures;
  }
  datahike_free(err);
  datahike_free(text);
}
/* The call's text result, if any, is in `out`; both `out` and `err` are freed and reset. */
#define EXPECT_OK(call, want)                   \
  do {                                          \
    datahike_status st_ = (call);               \
    expect_ok(st_, err, out, (want), __LINE__); \
    out = NULL;                                 \
    err = NULL;                                 \
  } while (0)

static int reports = 0;
static void on_report(const char* report, void* user) {
  CHECK(report != NULL && strstr(report, ":tx-data") != NULL);
  CHECK(user == &reports);
  ++*(int*)user;
}

static int db_reports = 0;
static datahike_db* kept = NULL;
static void on_report_dbs(const char* report, const datahike_db* before, const datahike_db* after,
                          void* user) {
  char* err = NULL;
  CHECK(report != NULL && strstr(report, ":tx-data") != NULL);
  CHECK(before != NULL && after != NULL && before != after);
  CHECK(user == &db_reports);
  datahike_db_release(&kept);
  CHECK(datahike_db_copy(after, &kept, &err) == DATAHIKE_OK && kept != NULL);
  datahike_free(err);
  ++*(int*)user;
}

int main(void) {
  const char* cfg = "{:store {:backend :memory :id \"header-c-test\"} :schema-flexibility :read}";
  char *err = NULL, *out = NULL;
  int exists = -1;
  int64_t key = 0, db_key = 0;
  datahike_conn* conn = NULL;
  datahike_db *db = NULL, *view = NULL, *empty = NULL, *with = NULL, *before = NULL, *after = NULL,
              *copy = NULL;
  const datahike_db* dbs[1];

  CHECK(strcmp(datahike_version(), "") != 0);
  CHECK(strcmp(datahike_status_name(DATAHIKE_OK), "ok") == 0);
  CHECK(strcmp(datahike_status_name(DATAHIKE_ERROR_QUERY), "query/error") == 0);

  EXPECT_OK(datahike_create_database(cfg, &err), NULL);
  EXPECT_OK(datahike_database_exists(cfg, &exists, &err), NULL);
  CHECK(exists == 1);
  EXPECT_OK(datahike_connect(cfg, &conn, &err), NULL);
  EXPECT_OK(datahike_listen(conn, on_report, &reports, DATAHIKE_FORMAT_EDN, &key, &err), NULL);
  EXPECT_OK(datahike_transact(conn, "[{:name \"Ivan\" :age 20}]", DATAHIKE_FORMAT_EDN, &out, &err),
            ":tempids");
  EXPECT_OK(datahike_transact(conn, "[{\"name\": \"Oleg\", \"age\": 30}]", DATAHIKE_FORMAT_JSON,
                              NULL, &err),
            NULL);
  CHECK(reports == 2);
  EXPECT_OK(datahike_unlisten(conn, key, &err), NULL);

  EXPECT_OK(datahike_conn_db(conn, &db, &err), NULL);
  dbs[0] = db;
  EXPECT_OK(datahike_q("[:find ?n . :in $ ?a :where [?e :age ?a] [?e :name ?n]]", dbs, 1, "[30]",
                       DATAHIKE_FORMAT_EDN, &out, &err),
            "\"Oleg\"");
  EXPECT_OK(datahike_pull(db, "[:name]", "1", DATAHIKE_FORMAT_JSON, &out, &err),
            "{\"name\":\"Ivan\"}");
  EXPECT_OK(datahike_pull_many(db, "[:age]", "[1 2]", DATAHIKE_FORMAT_EDN, &out, &err),
            "[{:age 20} {:age 30}]");
  EXPECT_OK(datahike_entity(db, "2", DATAHIKE_FORMAT_EDN, &out, &err), ":name \"Oleg\"");
  EXPECT_OK(datahike_datoms(db, ":eavt", "[1 :age]", DATAHIKE_FORMAT_EDN, &out, &err),
            "[[1 :age 20 536870913 true]]");
  EXPECT_OK(datahike_seek_datoms(db, ":eavt", "[2]", DATAHIKE_FORMAT_EDN, &out, &err),
            "[2 :age 30");
  EXPECT_OK(datahike_rseek_datoms(db, ":eavt", "[1 :name]", DATAHIKE_FORMAT_EDN, &out, &err),
            "[1 :name \"Ivan\"");
  EXPECT_OK(datahike_schema(db, DATAHIKE_FORMAT_EDN, &out, &err), "{");
  EXPECT_OK(datahike_reverse_schema(db, DATAHIKE_FORMAT_EDN, &out, &err), "{");
  EXPECT_OK(datahike_metrics(db, DATAHIKE_FORMAT_EDN, &out, &err), ":count 6");

  EXPECT_OK(datahike_as_of(db, "536870913", &view, &err), NULL);
  dbs[0] = view;
  EXPECT_OK(datahike_q("[:find (count ?e) . :where [?e :name]]", dbs, 1, NULL, DATAHIKE_FORMAT_EDN,
                       &out, &err),
            "1");
  datahike_db_release(&view);
  EXPECT_OK(datahike_since(db, "536870913", &view, &err), NULL);
  datahike_db_release(&view);
  EXPECT_OK(datahike_history(db, &view, &err), NULL);
  datahike_db_release(&view);
  CHECK(view == NULL);

  EXPECT_OK(datahike_empty_db("{:friend {:db/valueType :db.type/ref}}", NULL, &empty, &err), NULL);
  EXPECT_OK(datahike_db_with(empty, "[{:db/id -1 :name \"A\" :friend -2} {:db/id -2 :name \"B\"}]",
                             DATAHIKE_FORMAT_EDN, &with, &out, &err),
            ":tempids");
  EXPECT_OK(datahike_pull(with, "[:name {:friend [:name]}]", "1", DATAHIKE_FORMAT_EDN, &out, &err),
            "{:name \"A\", :friend {:name \"B\"}}");
  EXPECT_OK(datahike_index_range(with, ":friend", "1", NULL, DATAHIKE_FORMAT_EDN, &out, &err),
            "[[1 :friend 2 536870913 true]]");

  /* Transactions returning their db values, listeners receiving them, copies of handles. */
  EXPECT_OK(datahike_listen_dbs(conn, on_report_dbs, &db_reports, DATAHIKE_FORMAT_EDN, &db_key,
                                &err),
            NULL);
  EXPECT_OK(datahike_transact_dbs(conn, "[{:name \"Petr\" :age 40}]", DATAHIKE_FORMAT_EDN, &out,
                                  &before, &after, &err),
            ":db-after");
  CHECK(before != NULL && after != NULL);
  CHECK(db_reports == 1 && kept != NULL);
  dbs[0] = before;
  EXPECT_OK(datahike_q("[:find (count ?e) . :where [?e :name]]", dbs, 1, NULL,
                       DATAHIKE_FORMAT_EDN, &out, &err),
            "2");
  dbs[0] = kept;
  EXPECT_OK(datahike_q("[:find (count ?e) . :where [?e :name]]", dbs, 1, NULL,
                       DATAHIKE_FORMAT_EDN, &out, &err),
            "3");
  EXPECT_OK(datahike_db_copy(after, &copy, &err), NULL);
  datahike_db_release(&after);
  dbs[0] = copy;
  EXPECT_OK(datahike_q("[:find (count ?e) . :where [?e :name]]", dbs, 1, NULL,
                       DATAHIKE_FORMAT_EDN, &out, &err),
            "3");
  datahike_db_release(&before);
  EXPECT_OK(datahike_unlisten(conn, db_key, &err), NULL);
  EXPECT_OK(datahike_transact_dbs(conn, "[[:db/retractEntity 3]]", DATAHIKE_FORMAT_EDN, NULL,
                                  NULL, NULL, &err),
            NULL);
  CHECK(db_reports == 1);
  /* Misuse: a NULL (released) db handle; a failed transaction returns no handles. */
  CHECK(datahike_db_copy(after, &view, &err) == DATAHIKE_ERROR_MISUSE);
  CHECK(view == NULL && err != NULL && strstr(err, "db is NULL") != NULL);
  datahike_free(err);
  err = NULL;
  before = after = copy; /* not NULL on entry: must be cleared */
  CHECK(datahike_transact_dbs(conn, "[[:db/add]]", DATAHIKE_FORMAT_EDN, NULL, &before, &after,
                              &err) != DATAHIKE_OK);
  CHECK(before == NULL && after == NULL && err != NULL);
  datahike_free(err);
  err = NULL;
  datahike_db_release(&copy);
  datahike_db_release(&kept);

  /* Branches and commits. */
  EXPECT_OK(datahike_branch(conn, ":db", ":feature", &err), NULL);
  EXPECT_OK(datahike_branches(conn, DATAHIKE_FORMAT_EDN, &out, &err), ":feature");
  EXPECT_OK(datahike_commit_id(db, DATAHIKE_FORMAT_EDN, &out, &err), "#uuid");
  EXPECT_OK(datahike_parent_commit_ids(db, DATAHIKE_FORMAT_JSON, &out, &err), "[");
  EXPECT_OK(datahike_merge(conn, "#{:feature}", "[]", DATAHIKE_FORMAT_EDN, &out, &err),
            ":db/commitId");
  EXPECT_OK(datahike_branch_history(conn, ":db", DATAHIKE_FORMAT_EDN, &out, &err), "[#uuid");
  EXPECT_OK(datahike_branch_db(conn, ":feature", &view, &err), NULL);
  datahike_db_release(&view);
  EXPECT_OK(datahike_force_branch(db, ":forced", "[:db]", &err), NULL);
  EXPECT_OK(datahike_delete_branch(conn, ":feature", &err), NULL);
  CHECK(datahike_commit_db(conn, "#uuid \"00000000-0000-4000-8000-000000000000\"", &view, &err) ==
        DATAHIKE_ERROR_NOT_FOUND);
  CHECK(view == NULL && err != NULL);
  datahike_free(err);
  err = NULL;

  /* Values outside the enums, legal in C: a misuse error naming the format, and "unknown". */
  CHECK(strcmp(datahike_status_name((datahike_status)42), "unknown") == 0);
  CHECK(strcmp(datahike_status_name((datahike_status)-1), "unknown") == 0);
  CHECK(datahike_schema(db, (datahike_format)7, &out, &err) == DATAHIKE_ERROR_MISUSE);
  CHECK(out == NULL && err != NULL && strstr(err, "format 7 is neither") != NULL);
  datahike_free(err);
  err = NULL;
  CHECK(datahike_transact(conn, "[]", (datahike_format)-3, NULL, &err) == DATAHIKE_ERROR_MISUSE);
  CHECK(err != NULL && strstr(err, "format -3 is neither") != NULL);
  datahike_free(err);
  err = NULL;

  /* A failure: a status, an error map, and nothing in the out parameter. */
  out = (char*)1;
  CHECK(datahike_q("[:find ?x :where", NULL, 0, NULL, DATAHIKE_FORMAT_EDN, &out, &err) ==
        DATAHIKE_ERROR_PARSE);
  CHECK(out == NULL);
  CHECK(err != NULL && strstr(err, "{:error/kind :parse/error") == err);
  datahike_free(err);
  err = NULL;

  datahike_db_release(&with);
  datahike_db_release(&empty);
  datahike_db_release(&db);
  datahike_db_release(&db); /* NULL-safe */
  datahike_release(&conn);
  datahike_release(&conn);
  CHECK(conn == NULL);
  datahike_release(NULL);
  datahike_db_release(NULL);
  datahike_free(NULL);
  EXPECT_OK(datahike_delete_database(cfg, &err), NULL);

  if (failures == 0) printf("header_c_test: all checks passed\n");
  return failures == 0 ? 0 : 1;
}
