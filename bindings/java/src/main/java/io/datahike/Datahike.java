package io.datahike;

import io.datahike.internal.DatahikeNative;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The entry points, in the shape of Datahike's Java API ({@code datahike.java.Datahike}):
 * <pre>{@code
 * Map<String, Object> cfg = Database.memory("app").build();
 * Datahike.createDatabase(cfg);
 * try (Connection conn = Datahike.connect(cfg)) {
 *   conn.transact(List.of(Map.of("name", "Alice", "age", 20)));
 *   Object people = Datahike.q("[:find ?n ?a :where [?e :name ?n] [?e :age ?a]]", conn.db());
 * }
 * }</pre>
 * A config is EDN text, a {@link DatabaseConfig} or a Map (String keys become keywords, and so do
 * String values that start with ':'). Errors throw {@link DatahikeException}.
 */
public final class Datahike {
  private Datahike() {}

  /** The library's version, "MAJOR.MINOR.PATCH". */
  public static String version() {
    NativeLoader.load();
    return Native.text(DatahikeNative.datahike_version());
  }

  /** Creates the database (and runs its :initial-tx); CONFLICT when it exists. */
  public static void createDatabase(Object config) {
    NativeLoader.load();
    byte[][] err = new byte[1][];
    Native.check(DatahikeNative.datahike_create_database(Native.utf8(Native.config(config)), err), err);
  }

  /** Deletes the database and its data; a database that does not exist is not an error. */
  public static void deleteDatabase(Object config) {
    NativeLoader.load();
    byte[][] err = new byte[1][];
    Native.check(DatahikeNative.datahike_delete_database(Native.utf8(Native.config(config)), err), err);
  }

  public static boolean databaseExists(Object config) {
    NativeLoader.load();
    int[] exists = new int[1];
    byte[][] err = new byte[1][];
    Native.check(DatahikeNative.datahike_database_exists(Native.utf8(Native.config(config)), exists, err), err);
    return exists[0] != 0;
  }

  /** Connects to an existing database (NOT_FOUND otherwise). Close the connection when done. */
  public static Connection connect(Object config) {
    NativeLoader.load();
    long[] out = new long[1];
    byte[][] err = new byte[1][];
    Native.check(DatahikeNative.datahike_connect(Native.utf8(Native.config(config)), out, err), err);
    return new Connection(out[0]);
  }

  /**
   * Runs a Datalog query (EDN text, or the query as data: a List, or the map form). The
   * {@link Database} values among the inputs bind, in order, to the query's $-sources (the implicit
   * $ when it has no :in); the other inputs bind the remaining :in positions in order, as Java
   * values (scalars, tuples, collections, relations, rule sets, collections of tuples). The result:
   * a Set of Lists for a relation, a List with aggregates, :with or :limit, a scalar (null when
   * nothing matched) for {@code [:find ?x .]}, a List for {@code [?x ...]} and {@code [?a ?b]}.
   */
  public static Object q(Object query, Object... inputs) {
    NativeLoader.load();
    byte[] queryText = Native.utf8(Native.form(query, "query"));
    List<Database> dbs = new ArrayList<>();
    List<Object> args = new ArrayList<>();
    for (Object in : inputs) {
      if (in instanceof Database) {
        dbs.add((Database) in);
      } else {
        args.add(in);
      }
    }
    byte[] argText = args.isEmpty() ? null : Native.utf8(Edn.writeData(args));
    long[] handles = new long[dbs.size()];
    int held = 0;
    try {
      for (; held < handles.length; held++) handles[held] = dbs.get(held).acquire();
      byte[][] out = new byte[1][];
      byte[][] err = new byte[1][];
      Native.check(DatahikeNative.datahike_q(queryText, handles, argText, Native.EDN, out, err), err);
      return Native.value(out);
    } finally {
      for (int i = 0; i < held; i++) dbs.get(i).release();
    }
  }

  /** {@link Connection#transact}. */
  public static TxReport transact(Connection conn, Object txData) {
    return conn.transact(txData);
  }

  /** {@link Connection#db}: the connection's latest value. */
  public static Database db(Connection conn) {
    return conn.db();
  }

  /** {@link Database#pull}. */
  public static Map<Object, Object> pull(Database db, Object pattern, Object eid) {
    return db.pull(pattern, eid);
  }

  /** {@link Database#pullMany}. */
  public static List<Map<Object, Object>> pullMany(Database db, Object pattern, Object eids) {
    return db.pullMany(pattern, eids);
  }

  /** {@link Database#entity}. */
  public static Map<Object, Object> entity(Database db, Object eid) {
    return db.entity(eid);
  }

  /** {@link Database#datoms}. */
  public static List<Datom> datoms(Database db, Object index, Object... components) {
    return db.datoms(index, components);
  }

  /** {@link Database#asOf}. */
  public static Database asOf(Database db, Object t) {
    return db.asOf(t);
  }

  /** {@link Database#since}. */
  public static Database since(Database db, Object t) {
    return db.since(t);
  }

  /** {@link Database#history}. */
  public static Database history(Database db) {
    return db.history();
  }

  /** A keyword, e.g. {@code Datahike.kw(":person/name")}. */
  public static Keyword kw(String text) {
    return Keyword.of(text);
  }
}
