package io.datahike;

import java.util.function.LongConsumer;

/**
 * A native handle shared by the threads that use it: each call takes it with {@link #acquire()}
 * and gives it back with {@link #release()}; {@link #close()} marks it closed at once and frees it
 * when the last call in flight gives it back, so closing on one thread never frees a handle another
 * thread is still inside. Also the Cleaner action of its owner.
 */
final class NativeRef implements Runnable {
  private final String what;
  private final LongConsumer free;
  private long handle;
  private int users;
  private boolean closed;

  NativeRef(String what, long handle, LongConsumer free) {
    this.what = what;
    this.handle = handle;
    this.free = free;
  }

  long acquire() {
    synchronized (this) {
      if (closed) throw new DatahikeException(ErrorKind.MISUSE, "The " + what + " is closed", null);
      users++;
      return handle;
    }
  }

  void release() {
    long toFree = 0;
    synchronized (this) {
      if (--users == 0 && closed) {
        toFree = handle;
        handle = 0;
      }
    }
    if (toFree != 0) free.accept(toFree);
  }

  /** Idempotent. */
  void close() {
    long toFree = 0;
    synchronized (this) {
      if (closed) return;
      closed = true;
      if (users == 0) {
        toFree = handle;
        handle = 0;
      }
    }
    if (toFree != 0) free.accept(toFree);
  }

  synchronized boolean isClosed() {
    return closed;
  }

  @Override
  public void run() {
    close();
  }
}
