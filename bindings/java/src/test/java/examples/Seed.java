package examples;

import io.datahike.Connection;
import io.datahike.Database;
import io.datahike.Datahike;
import io.datahike.Edn;
import io.datahike.Keyword;
import io.datahike.SchemaFlexibility;
import io.datahike.TxReport;
import java.util.List;
import java.util.Map;

/** The seed example of the README in Java (the same steps and results as examples/c/seed.c). */
public final class Seed {
  static final String PEOPLE = "[:find ?e ?n ?a :where [?e :name ?n] [?e :age ?a]]";

  public static void main(String[] args) {
    Map<String, Object> cfg = Database.memory("seed").keepHistory(true)
        .schemaFlexibility(SchemaFlexibility.WRITE).build();
    Datahike.createDatabase(cfg);
    try (Connection conn = Datahike.connect(cfg)) {
      conn.transact(List.of(
          Map.of(":db/ident", Keyword.of("name"), ":db/valueType", Keyword.of("db.type/string"),
              ":db/cardinality", Keyword.of("db.cardinality/one")),
          Map.of(":db/ident", Keyword.of("age"), ":db/valueType", Keyword.of("db.type/long"),
              ":db/cardinality", Keyword.of("db.cardinality/one"))));
      try (TxReport report = conn.transact(List.of(Map.of("name", "Alice", "age", 20),
          Map.of("name", "Bob", "age", 30), Map.of("name", "Charlie", "age", 40), Map.of("age", 15)))) {
        System.out.println("transacted " + report.txData().size() + " datoms");
      }
      try (Database db = conn.db()) {
        System.out.println("people: " + Edn.write(Datahike.q(PEOPLE, db)));
      }
      conn.transact("[{:db/id 3 :age 25}]");
      try (Database db = conn.db(); Database history = db.history()) {
        System.out.println("after the update: " + Edn.write(Datahike.q(PEOPLE, db)));
        System.out.println("Alice's ages in the history view: "
            + Edn.write(Datahike.q("[:find ?a :where [?e :name \"Alice\"] [?e :age ?a]]", history)));
      }
    } finally {
      Datahike.deleteDatabase(cfg);
    }
  }
}
