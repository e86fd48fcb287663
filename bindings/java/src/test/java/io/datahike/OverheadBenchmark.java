package io.datahike;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.datahike.internal.DatahikeNative;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * The cost of the Java layer on one small query, the same data and queries as bench/bench_capi.cc
 * (1000 people, name "p<i>", age i % 100): Datahike.q with Java values in and out, and the bare
 * SWIG call (EDN bytes in and out) that shows what JNI alone adds to datahike_q.
 * Runs only with -Ddatahike.bench=true (mvn test -Dtest=OverheadBenchmark -Ddatahike.bench=true).
 */
class OverheadBenchmark {
  static final String SCHEMA = "{:name {:db/unique :db.unique/identity} :age {:db/index true}}";

  static double microsPerOp(Runnable op) {
    for (int i = 0; i < 20_000; i++) op.run(); // warm-up (JIT)
    double[] runs = new double[7];
    for (int r = 0; r < runs.length; r++) {
      int n = 20_000;
      long t0 = System.nanoTime();
      for (int i = 0; i < n; i++) op.run();
      runs[r] = (System.nanoTime() - t0) / 1000.0 / n;
    }
    Arrays.sort(runs);
    return runs[runs.length / 2];
  }

  @Test
  void smallQueryFromJava() {
    assumeTrue(Boolean.getBoolean("datahike.bench"), "set -Ddatahike.bench=true to run");
    StringBuilder tx = new StringBuilder("[");
    for (int i = 0; i < 1000; i++) tx.append("{:name \"p").append(i).append("\" :age ").append(i % 100).append('}');
    tx.append(']');
    try (Database empty = Database.empty(SCHEMA); TxReport r = empty.with(tx.toString())) {
      Database db = r.dbAfter();
      Object[][] cases = {
          {"scalar-by-unique", "[:find ?a . :in $ ?n :where [?e :name ?n] [?e :age ?a]]", new Object[] {"p42"}, "[\"p42\"]"},
          {"tuples-by-index", "[:find ?e ?n :in $ ?a :where [?e :age ?a] [?e :name ?n]]", new Object[] {7L}, "[7]"},
          {"count-range", "[:find (count ?e) . :where [?e :age ?a] [(< ?a 3)]]", new Object[] {}, null},
      };
      System.out.printf("%-18s %14s %16s%n", "query", "Java q us/op", "JNI call us/op");
      for (Object[] c : cases) {
        String query = (String) c[1];
        Object[] inputs = (Object[]) c[2];
        Object[] all = new Object[inputs.length + 1];
        all[0] = db;
        System.arraycopy(inputs, 0, all, 1, inputs.length);
        Supplier<Object> q = () -> Datahike.q(query, all);
        double java = microsPerOp(() -> q.get());
        byte[] qb = query.getBytes(StandardCharsets.UTF_8);
        byte[] ab = c[3] == null ? null : ((String) c[3]).getBytes(StandardCharsets.UTF_8);
        long h = db.acquire();
        double jni;
        try {
          long[] dbs = {h};
          jni = microsPerOp(() -> {
            byte[][] out = new byte[1][];
            byte[][] err = new byte[1][];
            if (DatahikeNative.datahike_q(qb, dbs, ab, 0, out, err) != 0) throw new IllegalStateException();
          });
        } finally {
          db.release();
        }
        System.out.printf("%-18s %14.2f %16.2f   result %s%n", c[0], java, jni, Edn.write(q.get()));
      }
    }
  }
}
