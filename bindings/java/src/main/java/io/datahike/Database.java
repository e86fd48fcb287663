package io.datahike;

import io.datahike.internal.DatahikeNative;
import java.lang.ref.Cleaner;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * An immutable database value: what a connection held at one moment, or a view of it (as-of,
 * since, history), or a storage-free value from {@link #empty}. Any thread may read it at any
 * time; it never changes, and stays valid after its connection is closed.
 *
 * <p>A value holds a native handle: {@link #close()} releases it at once (idempotent; calls in
 * flight on other threads finish first), and a Cleaner releases it when the value becomes
 * unreachable, as a backstop. A closed value throws {@link DatahikeException} of kind
 * {@link ErrorKind#MISUSE}.
 *
 * <p>The static factories {@link #memory}, {@link #file}, {@link #leveldb} and {@link #custom}
 * start config builders, as in Datahike's Java API.
 */
public final class Database implements AutoCloseable {
  private final NativeRef ref;
  private final Cleaner.Cleanable cleanable;

  Database(long handle) {
    this.ref = new NativeRef("database value", handle, DatahikeNative::datahike_db_release);
    this.cleanable = Native.CLEANER.register(this, ref);
  }

  // ---- config builders ------------------------------------------------------------------------

  /** A config for an in-memory database with this :id. */
  public static DatabaseConfig memory(String id) {
    return DatabaseConfig.memory(id);
  }

  /** A config for an in-memory database with this :id. */
  public static DatabaseConfig memory(UUID id) {
    return DatabaseConfig.memory(id);
  }

  /** A config for a :file store at path. */
  public static DatabaseConfig file(String path) {
    return DatabaseConfig.withPath("file", path);
  }

  /** A config for a :leveldb store at path. */
  public static DatabaseConfig leveldb(String path) {
    return DatabaseConfig.withPath("leveldb", path);
  }

  /** A config with this :store map (String keys; ":x" strings are keywords). */
  public static DatabaseConfig custom(Map<String, Object> store) {
    return new DatabaseConfig(store);
  }

  // ---- storage-free values --------------------------------------------------------------------

  /** A storage-free empty value with a DataScript-style schema map (a Map, EDN text or null). */
  public static Database empty(Object schema) {
    return empty(schema, null);
  }

  /**
   * A storage-free empty value; config is null or a map of :schema-flexibility and
   * :keep-history? (null: :read, no history).
   */
  public static Database empty(Object schema, Object config) {
    NativeLoader.load();
    long[] out = new long[1];
    byte[][] err = new byte[1][];
    String s = schema == null ? null : Native.form(schema, "schema");
    String c = config == null ? null : Native.config(config);
    Native.check(DatahikeNative.datahike_empty_db(Native.utf8(s), Native.utf8(c), out, err), err);
    return new Database(out[0]);
  }

  // ---- views ----------------------------------------------------------------------------------

  /** The value as of time point t (a tx id, a Date or Instant, or EDN text); needs history. */
  public Database asOf(Object t) {
    byte[] tp = Native.utf8(Native.timePoint(t));
    long h = ref.acquire();
    try {
      long[] out = new long[1];
      byte[][] err = new byte[1][];
      Native.check(DatahikeNative.datahike_as_of(h, tp, out, err), err);
      return new Database(out[0]);
    } finally {
      ref.release();
    }
  }

  /** The datoms added after time point t. */
  public Database since(Object t) {
    byte[] tp = Native.utf8(Native.timePoint(t));
    long h = ref.acquire();
    try {
      long[] out = new long[1];
      byte[][] err = new byte[1][];
      Native.check(DatahikeNative.datahike_since(h, tp, out, err), err);
      return new Database(out[0]);
    } finally {
      ref.release();
    }
  }

  /** Every datom ever asserted or retracted. */
  public Database history() {
    long h = ref.acquire();
    try {
      long[] out = new long[1];
      byte[][] err = new byte[1][];
      Native.check(DatahikeNative.datahike_history(h, out, err), err);
      return new Database(out[0]);
    } finally {
      ref.release();
    }
  }

  /** Datahike's with: tx-data applied to this value, giving a report whose dbAfter is the new value. */
  public TxReport with(Object txData) {
    byte[] tx = Native.utf8(Native.form(txData, "tx-data"));
    long h = ref.acquire();
    try {
      long[] out = new long[1];
      byte[][] report = new byte[1][];
      byte[][] err = new byte[1][];
      Native.check(DatahikeNative.datahike_db_with(h, tx, Native.EDN, out, report, err), err);
      Database after = new Database(out[0]);
      return TxReport.of(Native.text(report[0]), copy(), after);
    } finally {
      ref.release();
    }
  }

  /** Another handle to this same value, released independently. */
  public Database copy() {
    long h = ref.acquire();
    try {
      long[] out = new long[1];
      byte[][] err = new byte[1][];
      Native.check(DatahikeNative.datahike_db_copy(h, out, err), err);
      return new Database(out[0]);
    } finally {
      ref.release();
    }
  }

  // ---- reading --------------------------------------------------------------------------------

  /** {@link Datahike#q} with this value as the first database. */
  public Object q(Object query, Object... inputs) {
    Object[] all = new Object[inputs.length + 1];
    all[0] = this;
    System.arraycopy(inputs, 0, all, 1, inputs.length);
    return Datahike.q(query, all);
  }

  /** The pattern pulled for eid (an id, a lookup ref, an ident, or EDN text); null when nothing is found. */
  @SuppressWarnings("unchecked")
  public Map<Object, Object> pull(Object pattern, Object eid) {
    byte[] p = Native.utf8(Native.form(pattern, "pattern"));
    byte[] e = Native.utf8(Native.form(eid, "entity id"));
    return (Map<Object, Object>) read((h, out, err) -> DatahikeNative.datahike_pull(h, p, e, Native.EDN, out, err));
  }

  /** The pattern pulled for each of eids; entities with nothing found are left out. */
  @SuppressWarnings("unchecked")
  public List<Map<Object, Object>> pullMany(Object pattern, Object eids) {
    byte[] p = Native.utf8(Native.form(pattern, "pattern"));
    byte[] e = Native.utf8(Native.form(eids, "entity ids"));
    return (List<Map<Object, Object>>) read(
        (h, out, err) -> DatahikeNative.datahike_pull_many(h, p, e, Native.EDN, out, err));
  }

  /** The entity's attributes as a map (refs as {:db/id x}), or null. */
  @SuppressWarnings("unchecked")
  public Map<Object, Object> entity(Object eid) {
    byte[] e = Native.utf8(Native.form(eid, "entity id"));
    return (Map<Object, Object>) read((h, out, err) -> DatahikeNative.datahike_entity(h, e, Native.EDN, out, err));
  }

  /** The datoms of an index (:eavt, :aevt, :avet) matching the leading components. */
  public List<Datom> datoms(Object index, Object... components) {
    byte[] i = Native.utf8(Native.index(index));
    byte[] c = Native.utf8(Edn.writeData(Arrays.asList(components)));
    return datomList(read((h, out, err) -> DatahikeNative.datahike_datoms(h, i, c, Native.EDN, out, err)));
  }

  /** The datoms of an index from the components to its end. */
  public List<Datom> seekDatoms(Object index, Object... components) {
    byte[] i = Native.utf8(Native.index(index));
    byte[] c = Native.utf8(Edn.writeData(Arrays.asList(components)));
    return datomList(read((h, out, err) -> DatahikeNative.datahike_seek_datoms(h, i, c, Native.EDN, out, err)));
  }

  /** The datoms of an index from the components backwards to its start. */
  public List<Datom> rseekDatoms(Object index, Object... components) {
    byte[] i = Native.utf8(Native.index(index));
    byte[] c = Native.utf8(Edn.writeData(Arrays.asList(components)));
    return datomList(read((h, out, err) -> DatahikeNative.datahike_rseek_datoms(h, i, c, Native.EDN, out, err)));
  }

  /** The AVET datoms of an indexed attribute with start <= v <= end (null for an open end). */
  public List<Datom> indexRange(Object attr, Object start, Object end) {
    byte[] a = Native.utf8(attr instanceof String ? Keyword.of((String) attr).toString() : Edn.write(attr));
    byte[] s = start == null ? null : Native.utf8(Edn.writeData(start));
    byte[] e = end == null ? null : Native.utf8(Edn.writeData(end));
    return datomList(read((h, out, err) -> DatahikeNative.datahike_index_range(h, a, s, e, Native.EDN, out, err)));
  }

  /** The schema: attribute to its definition, user attributes only. */
  @SuppressWarnings("unchecked")
  public Map<Object, Object> schema() {
    return (Map<Object, Object>) read((h, out, err) -> DatahikeNative.datahike_schema(h, Native.EDN, out, err));
  }

  /** The reverse schema: property (:db/unique, :db/index, ...) to the set of its attributes. */
  @SuppressWarnings("unchecked")
  public Map<Object, Object> reverseSchema() {
    return (Map<Object, Object>) read((h, out, err) -> DatahikeNative.datahike_reverse_schema(h, Native.EDN, out, err));
  }

  /** Counters of this value (:count, :per-attr-counts, :max-tx, ...). */
  @SuppressWarnings("unchecked")
  public Map<Object, Object> metrics() {
    return (Map<Object, Object>) read((h, out, err) -> DatahikeNative.datahike_metrics(h, Native.EDN, out, err));
  }

  /** The commit id of this value, or null when it is not a commit (views, with results, empty values). */
  public UUID commitId() {
    Object id = read((h, out, err) -> DatahikeNative.datahike_commit_id(h, Native.EDN, out, err));
    return id instanceof UUID ? (UUID) id : null;
  }

  // ---- lifetime -------------------------------------------------------------------------------

  /** Releases the native handle (idempotent). */
  @Override
  public void close() {
    cleanable.clean();
  }

  public boolean isClosed() {
    return ref.isClosed();
  }

  /** The native handle, held for the duration of a call (Datahike.q). */
  long acquire() {
    return ref.acquire();
  }

  void release() {
    ref.release();
  }

  @FunctionalInterface
  private interface Call {
    int run(long handle, byte[][] out, byte[][] err);
  }

  private Object read(Call call) {
    long h = ref.acquire();
    try {
      byte[][] out = new byte[1][];
      byte[][] err = new byte[1][];
      Native.check(call.run(h, out, err), err);
      return Native.value(out);
    } finally {
      ref.release();
    }
  }

  private static List<Datom> datomList(Object rows) {
    if (!(rows instanceof List)) return Collections.emptyList();
    List<Datom> datoms = new ArrayList<>(((List<?>) rows).size());
    for (Object row : (List<?>) rows) datoms.add(Datom.fromRow(row));
    return Collections.unmodifiableList(datoms);
  }
}
