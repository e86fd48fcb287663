package io.datahike;

import io.datahike.internal.DatahikeNative;
import java.lang.ref.Cleaner;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * A connection to one database (one branch of it), from {@link Datahike#connect}. Thread-safe:
 * transactions through any number of threads are serialized by the library. {@link #close()}
 * (idempotent) returns once the storage the connection held is released and none of its listeners
 * runs any more; database values taken from it stay valid. A Cleaner closes a connection that
 * becomes unreachable, as a backstop. A closed connection throws {@link DatahikeException} of kind
 * {@link ErrorKind#MISUSE}.
 */
public final class Connection implements AutoCloseable {
  private final NativeRef ref;
  private final Cleaner.Cleanable cleanable;
  private final Set<Long> listeners;

  Connection(long handle) {
    Set<Long> ids = ConcurrentHashMap.newKeySet();
    this.listeners = ids;
    this.ref = new NativeRef("connection", handle, h -> {
      DatahikeNative.datahike_release(h);
      for (Long id : ids) ListenerBridge.unregister(id);
      ids.clear();
    });
    this.cleanable = Native.CLEANER.register(this, ref);
  }

  /** The latest database value (Datahike's {@code @conn}). */
  public Database db() {
    long h = ref.acquire();
    try {
      long[] out = new long[1];
      byte[][] err = new byte[1][];
      Native.check(DatahikeNative.datahike_conn_db(h, out, err), err);
      return new Database(out[0]);
    } finally {
      ref.release();
    }
  }

  /**
   * Transacts tx-data: a List of entity maps and [:db/add ...] forms (String map keys are
   * keywords), Datahike's argument map {:tx-data [...] :tx-meta {...}}, or EDN text. A failed
   * transaction changes nothing and throws.
   */
  public TxReport transact(Object txData) {
    byte[] tx = Native.utf8(Native.form(txData, "tx-data"));
    long h = ref.acquire();
    try {
      byte[][] report = new byte[1][];
      long[] before = new long[1];
      long[] after = new long[1];
      byte[][] err = new byte[1][];
      Native.check(DatahikeNative.datahike_transact_dbs(h, tx, Native.EDN, report, before, after, err), err);
      return TxReport.of(Native.text(report[0]), new Database(before[0]), new Database(after[0]));
    } finally {
      ref.release();
    }
  }

  /** Transacts tx-data with transaction metadata (a Map, attached to the transaction entity). */
  public TxReport transact(Object txData, Map<?, ?> txMeta) {
    Map<Object, Object> arg = new LinkedHashMap<>();
    arg.put(Keyword.of("tx-data"), txData instanceof String ? Edn.read((String) txData) : txData);
    arg.put(Keyword.of("tx-meta"), txMeta);
    return transact((Object) arg);
  }

  /**
   * Calls listener with the report of every later successful transaction on the database (on the
   * transacting thread, after the new value is published; dbBefore and dbAfter are set). The
   * listener must not transact on the same database. Returns the key for {@link #unlisten}.
   */
  public long listen(Consumer<TxReport> listener) {
    if (listener == null) throw new DatahikeException(ErrorKind.MISUSE, "The listener is null", null);
    long id = ListenerBridge.register(listener);
    long h;
    try {
      h = ref.acquire();
    } catch (DatahikeException e) {
      ListenerBridge.unregister(id);
      throw e;
    }
    try {
      long[] key = new long[1];
      byte[][] err = new byte[1][];
      int status = DatahikeNative.datahike_listen_dbs(h, id, Native.EDN, key, err);
      if (status != 0) ListenerBridge.unregister(id);
      Native.check(status, err);
      listeners.add(id);
      keys.put(key[0], id);
      return key[0];
    } finally {
      ref.release();
    }
  }

  private final Map<Long, Long> keys = new ConcurrentHashMap<>();

  /** Removes a listener; once this returns it is not running and is never called again. */
  public void unlisten(long key) {
    long h = ref.acquire();
    try {
      byte[][] err = new byte[1][];
      Native.check(DatahikeNative.datahike_unlisten(h, key, err), err);
      Long id = keys.remove(key);
      if (id != null) {
        listeners.remove(id);
        ListenerBridge.unregister(id);
      }
    } finally {
      ref.release();
    }
  }

  /** Idempotent. */
  @Override
  public void close() {
    cleanable.clean();
  }

  public boolean isClosed() {
    return ref.isClosed();
  }
}
