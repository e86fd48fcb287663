package io.datahike;

import io.datahike.internal.DatahikeNative;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * The target of the native listener trampolines (datahike.i): the library calls
 * {@link #dispatchDbs} on the transacting thread with the id given at registration, the report's
 * EDN bytes and two borrowed db handles, which are copied before the call returns.
 */
final class ListenerBridge {
  private static final Map<Long, Consumer<TxReport>> LISTENERS = new ConcurrentHashMap<>();
  private static final AtomicLong NEXT_ID = new AtomicLong(1);

  private ListenerBridge() {}

  static long register(Consumer<TxReport> listener) {
    long id = NEXT_ID.getAndIncrement();
    LISTENERS.put(id, listener);
    return id;
  }

  static void unregister(long id) {
    LISTENERS.remove(id);
  }

  /** Called from native code (a listener without db values). */
  static void dispatch(long id, byte[] report) {
    dispatchDbs(id, report, 0, 0);
  }

  /** Called from native code. */
  static void dispatchDbs(long id, byte[] report, long dbBefore, long dbAfter) {
    Consumer<TxReport> listener = LISTENERS.get(id);
    if (listener == null) return;
    try {
      Database before = dbBefore == 0 ? null : copy(dbBefore);
      Database after = dbAfter == 0 ? null : copy(dbAfter);
      listener.accept(TxReport.of(Native.text(report), before, after));
    } catch (Throwable t) {
      // An exception must not unwind into the library: report it as an uncaught exception.
      Thread.UncaughtExceptionHandler h = Thread.currentThread().getUncaughtExceptionHandler();
      if (h != null) h.uncaughtException(Thread.currentThread(), t);
    }
  }

  private static Database copy(long borrowed) {
    long[] out = new long[1];
    byte[][] err = new byte[1][];
    Native.check(DatahikeNative.datahike_db_copy(borrowed, out, err), err);
    return new Database(out[0]);
  }
}
