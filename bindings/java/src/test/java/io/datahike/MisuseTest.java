package io.datahike;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** Misuse gives a typed DatahikeException, never a crash. */
class MisuseTest {
  static Map<String, Object> freshConfig() {
    return Database.memory(UUID.randomUUID()).schemaFlexibility(SchemaFlexibility.READ).build();
  }

  @Test
  void closedConnection() {
    Map<String, Object> cfg = freshConfig();
    Datahike.createDatabase(cfg);
    Connection conn = Datahike.connect(cfg);
    conn.transact("[{:name \"A\"}]");
    Database db = conn.db();
    conn.close();
    conn.close(); // idempotent
    assertTrue(conn.isClosed());
    DatahikeException e = assertThrows(DatahikeException.class, () -> conn.transact("[{:name \"B\"}]"));
    assertEquals(ErrorKind.MISUSE, e.errorKind());
    assertEquals(Keyword.of("misuse"), e.kind());
    assertThrows(DatahikeException.class, conn::db);
    assertThrows(DatahikeException.class, () -> conn.listen(r -> {}));
    // Values taken before stay valid.
    assertEquals("A", db.q("[:find ?n . :where [_ :name ?n]]"));
    db.close();
    Datahike.deleteDatabase(cfg);
  }

  @Test
  void releasedDatabase() {
    Database db = Database.empty(null);
    db.close();
    db.close();
    DatahikeException e = assertThrows(DatahikeException.class, () -> db.q("[:find ?e :where [?e _ _]]"));
    assertEquals(ErrorKind.MISUSE, e.errorKind());
    assertThrows(DatahikeException.class, db::history);
    assertThrows(DatahikeException.class, () -> db.pull("[*]", 1L));
    assertThrows(DatahikeException.class, () -> Datahike.q("[:find ?e :where [?e _ _]]", db));
  }

  @Test
  void malformedEdn() {
    try (Database db = Database.empty(null)) {
      DatahikeException e = assertThrows(DatahikeException.class, () -> db.q("[:find ?e :where [?e"));
      assertEquals(ErrorKind.PARSE, e.errorKind());
      assertEquals(Keyword.of("parse/error"), e.kind());
      assertThrows(DatahikeException.class, () -> db.with("[{:name \"x\""));
      assertThrows(DatahikeException.class, () -> db.pull("[:name", 1L));
    }
    DatahikeException e = assertThrows(DatahikeException.class, () -> Edn.read("{:a"));
    assertEquals(ErrorKind.PARSE, e.errorKind());
    assertThrows(DatahikeException.class, () -> Edn.read("#foo 1"));
    assertThrows(DatahikeException.class, () -> Datahike.connect("{:store"));
  }

  @Test
  void wrongTypesAndBadArguments() {
    try (Database db = Database.empty(null)) {
      DatahikeException e = assertThrows(DatahikeException.class, () -> db.with(List.of(Map.of("name", new Object()))));
      assertEquals(ErrorKind.MISUSE, e.errorKind());
      assertThrows(DatahikeException.class, () -> db.asOf(new Object()));
      assertThrows(DatahikeException.class, () -> db.datoms(":nope"));
      assertThrows(DatahikeException.class, () -> Datahike.q(null, db));
      DatahikeException q = assertThrows(DatahikeException.class, () -> db.q("[:find ?e :in $ ?x :where [?e :a ?x]]"));
      assertEquals(ErrorKind.QUERY, q.errorKind());
      assertThrows(DatahikeException.class, () -> db.asOf(536870913L)); // no history in this value
    }
    // Schema violation with :data.
    Map<String, Object> cfg = Database.memory(UUID.randomUUID()).build();
    Datahike.createDatabase(cfg);
    try (Connection conn = Datahike.connect(cfg)) {
      DatahikeException e = assertThrows(DatahikeException.class, () -> conn.transact("[{:undeclared 1}]"));
      assertTrue(e.errorKind() == ErrorKind.SCHEMA || e.errorKind() == ErrorKind.TRANSACTION, e.toString());
      conn.transact("[{:db/ident :age :db/valueType :db.type/long :db/cardinality :db.cardinality/one}]");
      DatahikeException t = assertThrows(DatahikeException.class, () -> conn.transact(List.of(Map.of("age", "old"))));
      assertTrue(t.getMessage().length() > 0);
    } finally {
      Datahike.deleteDatabase(cfg);
    }
    assertEquals(ErrorKind.CONFLICT, assertThrows(DatahikeException.class, () -> {
      Map<String, Object> c = freshConfig();
      Datahike.createDatabase(c);
      try {
        Datahike.createDatabase(c);
      } finally {
        Datahike.deleteDatabase(c);
      }
    }).errorKind());
    assertEquals(ErrorKind.NOT_FOUND, assertThrows(DatahikeException.class,
        () -> Datahike.connect(freshConfig())).errorKind());
    assertEquals(ErrorKind.MISUSE, assertThrows(DatahikeException.class,
        () -> Datahike.connect("{:store {:backend :memory :id \"x\"} :bogus-key 1}")).errorKind());
  }
}
