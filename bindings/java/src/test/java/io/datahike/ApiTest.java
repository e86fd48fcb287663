package io.datahike;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class ApiTest {
  static final String PEOPLE = "[:find ?e ?n ?a :where [?e :name ?n] [?e :age ?a]]";
  static final Object SCHEMA = Edn.read("[{:db/ident :name :db/valueType :db.type/string :db/cardinality :db.cardinality/one}"
      + " {:db/ident :age :db/valueType :db.type/long :db/cardinality :db.cardinality/one}]");

  Map<String, Object> cfg;
  Connection conn;

  @BeforeEach
  void open() {
    cfg = Database.memory(UUID.randomUUID()).keepHistory(true).schemaFlexibility(SchemaFlexibility.WRITE).build();
    Datahike.createDatabase(cfg);
    conn = Datahike.connect(cfg);
  }

  @AfterEach
  void close() {
    conn.close();
    Datahike.deleteDatabase(cfg);
  }

  static List<Object> row(Object... xs) {
    return List.of(xs);
  }

  @Test
  void seedExampleOfTheReadme() {
    conn.transact(SCHEMA);
    try (TxReport report = conn.transact(List.of(Map.of("name", "Alice", "age", 20), Map.of("name", "Bob", "age", 30),
        Map.of("name", "Charlie", "age", 40), Map.of("age", 15)))) {
      assertEquals(8, report.txData().size()); // 7 datoms and the :db/txInstant
      assertEquals(536870914L, report.txData().get(0).tx());
      assertNotNull(report.dbBefore());
      assertNotNull(report.dbAfter());
      assertEquals(Set.of(), Datahike.q(PEOPLE, report.dbBefore()));
      assertEquals(Set.of(row(3L, "Alice", 20L), row(4L, "Bob", 30L), row(5L, "Charlie", 40L)),
          Datahike.q(PEOPLE, report.dbAfter()));
    }
    try (Database db = conn.db()) {
      Object people = Datahike.q(PEOPLE, db);
      assertEquals(Set.of(row(3L, "Alice", 20L), row(4L, "Bob", 30L), row(5L, "Charlie", 40L)), people);
      assertEquals("#{[3 \"Alice\" 20] [4 \"Bob\" 30] [5 \"Charlie\" 40]}",
          Edn.write(Edn.read(Edn.write(new java.util.TreeSet<List<Object>>(
              (a, b) -> Long.compare((Long) a.get(0), (Long) b.get(0))) {{ addAll((Set<List<Object>>) people); }}))));
    }
    conn.transact("[{:db/id 3 :age 25}]");
    try (Database db = conn.db(); Database history = db.history()) {
      assertEquals(Set.of(row(3L, "Alice", 25L), row(4L, "Bob", 30L), row(5L, "Charlie", 40L)), Datahike.q(PEOPLE, db));
      assertEquals(Set.of(row(20L, 536870914L, true), row(20L, 536870915L, false), row(25L, 536870915L, true)),
          Datahike.q("[:find ?a ?tx ?added :where [3 :age ?a ?tx ?added]]", history));
    }
  }

  @Test
  void historyViews() {
    conn.transact(SCHEMA);
    long tx1 = conn.transact("[{:name \"Alice\" :age 20}]").txData().get(0).tx();
    Date between = new Date();
    conn.transact("[[:db/add 3 :age 21]]");
    try (Database db = conn.db()) {
      try (Database asOf = db.asOf(tx1)) {
        assertEquals(20L, asOf.q("[:find ?a . :where [3 :age ?a]]"));
      }
      try (Database since = db.since(tx1)) {
        assertEquals(Set.of(row(21L)), since.q("[:find ?a :where [?e :age ?a]]"));
      }
      try (Database asOfInst = db.asOf(between.toInstant())) {
        assertNotNull(asOfInst.q("[:find ?a . :where [3 :age ?a]]"));
      }
      try (Database h = db.history()) {
        List<Datom> ages = h.datoms(":eavt", 3L, Keyword.of("age"));
        assertEquals(3, ages.size());
        assertEquals(2, ages.stream().filter(Datom::added).count());
      }
      assertEquals(Map.of(Keyword.of("name"), "Alice", Keyword.of("age"), 21L), db.pull("[:name :age]", 3L));
      assertEquals(Map.of(Keyword.of("db/id"), 3L, Keyword.of("name"), "Alice", Keyword.of("age"), 21L), db.entity(3L));
      assertEquals(List.of(Map.of(Keyword.of("name"), "Alice")), db.pullMany("[:name]", List.of(3L, 99L)));
      assertEquals(Map.of(Keyword.of("name"), "Alice"), db.pull(List.of(Keyword.of("name")), 3L));
      assertNull(db.pull("[:name]", 99L));
    }
  }

  @Test
  void javaValuesInAndOut() {
    conn.transact("[{:db/ident :v/any :db/valueType :db.type/string :db/cardinality :db.cardinality/one}]");
    try (Database db = Database.empty(null)) {
      UUID u = UUID.randomUUID();
      Date d = new Date(1700000000123L);
      List<Object> tx = List.of(Map.of("db/id", -1L, "s", "hé 🙂 \"q\"\n", "l", 42L, "dbl", 1.5, "b", true,
          "kw", Keyword.of("a/b"), "u", u, "inst", d, "bi", new BigInteger("123456789012345678901234567890"),
          "bd", new BigDecimal("1.25")));
      try (TxReport r = db.with(tx)) {
        long e = r.tempid(-1L);
        Map<Object, Object> got = r.dbAfter().entity(e);
        assertEquals("hé 🙂 \"q\"\n", got.get(Keyword.of("s")));
        assertEquals(42L, got.get(Keyword.of("l")));
        assertEquals(1.5, got.get(Keyword.of("dbl")));
        assertEquals(true, got.get(Keyword.of("b")));
        assertEquals(Keyword.of(":a/b"), got.get(Keyword.of("kw")));
        assertEquals(":a/b", got.get(Keyword.of("kw")).toString());
        assertEquals(u, got.get(Keyword.of("u")));
        assertEquals(d, got.get(Keyword.of("inst")));
        assertEquals(new BigInteger("123456789012345678901234567890"), got.get(Keyword.of("bi")));
        assertEquals(new BigDecimal("1.25"), got.get(Keyword.of("bd")));
        assertEquals(Instant.ofEpochMilli(1700000000123L).toEpochMilli(),
            ((Date) Datahike.q("[:find ?i . :in $ ?x :where [?e :inst ?x] [?e :inst ?i]]", r.dbAfter(),
                Instant.ofEpochMilli(1700000000123L))).getTime());
      }
    }
  }

  @Test
  void listenersGetReportsWithDbValues() {
    conn.transact(SCHEMA);
    List<TxReport> seen = new CopyOnWriteArrayList<>();
    long key = conn.listen(seen::add);
    conn.transact("[{:name \"Dora\" :age 50}]");
    assertEquals(1, seen.size());
    TxReport r = seen.get(0);
    assertEquals(Set.of(row("Dora")), Datahike.q("[:find ?n :where [?e :name ?n]]", r.dbAfter()));
    assertEquals(Set.of(), Datahike.q("[:find ?n :where [?e :name ?n]]", r.dbBefore()));
    conn.unlisten(key);
    conn.transact("[{:name \"Eve\" :age 51}]");
    assertEquals(1, seen.size());
    DatahikeException e = org.junit.jupiter.api.Assertions.assertThrows(DatahikeException.class, () -> conn.unlisten(key));
    assertEquals(ErrorKind.NOT_FOUND, e.errorKind());
    // A listener that throws does not disturb the transaction.
    conn.listen(rep -> {
      throw new IllegalStateException("listener failure");
    });
    Thread.UncaughtExceptionHandler old = Thread.currentThread().getUncaughtExceptionHandler();
    List<Throwable> caught = new ArrayList<>();
    Thread.currentThread().setUncaughtExceptionHandler((t, x) -> caught.add(x));
    try {
      conn.transact("[{:name \"Fay\" :age 52}]");
    } finally {
      Thread.currentThread().setUncaughtExceptionHandler(old);
    }
    assertEquals(1, caught.size());
    try (Database db = conn.db()) {
      assertEquals(3L, db.q("[:find (count ?e) . :where [?e :name]]"));
    }
  }

  @Test
  void configBuilderAndLifecycle() {
    Map<String, Object> c = Database.memory("cfg-test").keepHistory(false).schemaFlexibility(SchemaFlexibility.READ).build();
    assertFalse(Datahike.databaseExists(c));
    Datahike.createDatabase(c);
    assertTrue(Datahike.databaseExists(c));
    try (Connection cn = Datahike.connect(c)) {
      cn.transact(List.of(Map.of("anything", "goes")));
      try (Database db = cn.db()) {
        assertEquals("goes", db.q("[:find ?v . :where [_ :anything ?v]]"));
      }
    }
    Datahike.deleteDatabase(c);
    assertFalse(Datahike.databaseExists(c));
    assertEquals("{:keep-history? true :store {:backend :memory :id \"x\"}}",
        Database.memory("x").keepHistory(true).toEdn());
    assertTrue(Datahike.version().matches("\\d+\\.\\d+\\.\\d+"));
  }
}
