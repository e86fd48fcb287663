package io.datahike;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/** Many readers on held db values while a writer transacts: readers see whole transactions only. */
class ThreadTest {
  static final int BATCH = 10;
  static final int TRANSACTIONS = 60;
  static final int READERS = 6;

  @Test
  void readersSeeWholeTransactionsOnly() throws Exception {
    Map<String, Object> cfg = Database.memory(UUID.randomUUID()).schemaFlexibility(SchemaFlexibility.READ).build();
    Datahike.createDatabase(cfg);
    try (Connection conn = Datahike.connect(cfg)) {
      AtomicBoolean done = new AtomicBoolean();
      ConcurrentLinkedQueue<String> problems = new ConcurrentLinkedQueue<>();
      List<Thread> readers = new ArrayList<>();
      int[] reads = new int[READERS];
      for (int r = 0; r < READERS; r++) {
        final int me = r;
        Thread t = new Thread(() -> {
          try {
            while (!done.get()) {
              try (Database db = conn.db()) {
                long count = count(db);
                if (count % BATCH != 0) problems.add("partial transaction seen: " + count + " entities");
                // Per batch, all or none of its entities.
                Object perBatch = db.q("[:find ?b (count ?e) :where [?e :batch ?b]]");
                for (Object row : (Iterable<?>) perBatch) {
                  long n = (Long) ((List<?>) row).get(1);
                  if (n != BATCH) problems.add("batch " + row + " incomplete");
                }
                // A held value never changes while the writer goes on.
                Thread.yield();
                if (count(db) != count) problems.add("a held value changed");
                reads[me]++;
              }
            }
          } catch (Throwable e) {
            problems.add("reader failed: " + e);
          }
        });
        readers.add(t);
        t.start();
      }
      for (int i = 0; i < TRANSACTIONS; i++) {
        List<Object> tx = new ArrayList<>();
        for (int j = 0; j < BATCH; j++) tx.add(Map.of("batch", (long) i, "n", (long) j));
        conn.transact(tx).close();
      }
      done.set(true);
      for (Thread t : readers) t.join(60_000);
      assertTrue(problems.isEmpty(), problems.toString());
      for (int r = 0; r < READERS; r++) assertTrue(reads[r] > 0, "reader " + r + " read nothing");
      try (Database db = conn.db()) {
        assertEquals((long) TRANSACTIONS * BATCH, count(db));
      }
    } finally {
      Datahike.deleteDatabase(cfg);
    }
  }

  @Test
  void closingADatabaseWhileOthersUseItIsSafe() throws Exception {
    Database db = Database.empty(null).with("[{:name \"a\"} {:name \"b\"}]").dbAfter();
    List<Thread> threads = new ArrayList<>();
    ConcurrentLinkedQueue<String> problems = new ConcurrentLinkedQueue<>();
    for (int i = 0; i < 4; i++) {
      Thread t = new Thread(() -> {
        for (int k = 0; k < 2000; k++) {
          try {
            Object n = db.q("[:find (count ?e) . :where [?e :name]]");
            if (!Long.valueOf(2).equals(n)) problems.add("got " + n);
          } catch (DatahikeException e) {
            if (e.errorKind() != ErrorKind.MISUSE) problems.add(e.toString());
            return;
          }
        }
      });
      threads.add(t);
      t.start();
    }
    Thread.sleep(5);
    db.close();
    for (Thread t : threads) t.join(60_000);
    assertTrue(problems.isEmpty(), problems.toString());
  }

  static long count(Database db) {
    Object n = db.q("[:find (count ?e) . :where [?e :n]]");
    return n == null ? 0 : (Long) n;
  }
}
