package io.datahike;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The shared conformance corpus (../shared/conformance, see its README) through the Java binding,
 * case for case as the C ABI's runner (tests/conformance/runner_capi.cc with driver.cc and
 * compare.cc) runs it, with the same expected failures (docs/conformance.md) and the same counts.
 */
class ConformanceTest {
  private static final Keyword OP = Keyword.of("op");
  private static final AtomicInteger STORE_COUNTER = new AtomicInteger();

  static Path conformanceDir() {
    String prop = System.getProperty("datahike.conformance.dir");
    if (prop != null && !prop.isEmpty()) return Paths.get(prop);
    String shared = System.getenv("DATAHIKE_SHARED_DIR");
    if (shared != null && !shared.isEmpty()) return Paths.get(shared, "conformance");
    return Paths.get("../../../shared/conformance");
  }

  static Set<String> expectedFailures() throws IOException {
    Set<String> ids = new TreeSet<>();
    for (String line : Files.readAllLines(Paths.get("../../docs/conformance.md"), StandardCharsets.UTF_8)) {
      if (!line.startsWith("- `")) continue;
      int end = line.indexOf('`', 3);
      if (end > 0) ids.add(line.substring(3, end));
    }
    return ids;
  }

  enum Outcome { PASSED, FAILED, NOT_RUNNABLE }

  static final class Result {
    final Outcome outcome;
    final String detail;

    Result(Outcome outcome, String detail) {
      this.outcome = outcome;
      this.detail = detail;
    }
  }

  static final class NotRunnable extends RuntimeException {
    NotRunnable(String why) {
      super(why);
    }
  }

  @Test
  void everyCaseAsTheCRunnerRunsIt() throws IOException {
    Path dir = conformanceDir();
    assertTrue(Files.isDirectory(dir), "no conformance directory " + dir.toAbsolutePath()
        + " (set -Ddatahike.conformance.dir or DATAHIKE_SHARED_DIR)");
    Set<String> expected = expectedFailures();
    List<Path> files;
    try (Stream<Path> s = Files.list(dir)) {
      files = s.filter(p -> p.toString().endsWith(".edn")).sorted().collect(Collectors.toList());
    }
    int totalPass = 0, totalFail = 0, totalExpected = 0, totalNr = 0;
    List<String> unexpected = new ArrayList<>();
    for (Path f : files) {
      Object cases = Edn.read(new String(Files.readAllBytes(f), StandardCharsets.UTF_8));
      int pass = 0, fail = 0, xfail = 0, nr = 0;
      for (Object c : (List<?>) cases) {
        Map<?, ?> m = (Map<?, ?>) c;
        Object idv = m.get(Keyword.of("id"));
        String id = idv instanceof String ? (String) idv : "?";
        Result r = runCase(m);
        switch (r.outcome) {
          case PASSED:
            pass++;
            if (expected.contains(id)) System.out.printf("  note: %s passes but is listed as expected to fail%n", id);
            break;
          case FAILED:
            if (expected.contains(id)) {
              xfail++;
            } else {
              fail++;
              unexpected.add(id);
              String d = r.detail;
              System.out.printf("  FAIL %s: %s%n", id, d.length() > 400 ? d.substring(0, 400) : d);
            }
            break;
          case NOT_RUNNABLE:
            nr++;
            break;
        }
      }
      System.out.printf("%-24s passed %3d  failed %3d  expected-failures %3d  not runnable %3d%n",
          f.getFileName(), pass, fail, xfail, nr);
      totalPass += pass;
      totalFail += fail;
      totalExpected += xfail;
      totalNr += nr;
    }
    System.out.printf("conformance (Java): %d runnable cases, %d not runnable yet, %d expected failures "
        + "(docs/conformance.md)%n", totalPass + totalFail + totalExpected, totalNr, totalExpected);
    System.out.printf("conformance (Java): %d passed, %d failed%n", totalPass, totalFail);
    assertEquals(List.of(), unexpected, "unexpected conformance failures");
    assertEquals(expected.size(), totalExpected, "every listed expected failure fails");
  }

  // ---- building databases (driver.cc's BuildDb / ApplyView, runner_capi.cc's backend) -----------

  static Database buildDb(Map<?, ?> c, Object schemaOverride, boolean hasSchemaOverride, Object txOverride,
      boolean hasTxOverride) {
    Object tx = hasTxOverride ? txOverride : c.get(Keyword.of("tx"));
    Object cfg = c.get(Keyword.of("config"));
    if (cfg != null) {
      Map<Object, Object> config = new LinkedHashMap<>((Map<?, ?>) cfg);
      Map<Object, Object> store = new LinkedHashMap<>();
      store.put(Keyword.of("backend"), Keyword.of("memory"));
      store.put(Keyword.of("id"), "conformance-java-" + STORE_COUNTER.getAndIncrement());
      config.put(Keyword.of("store"), store);
      return buildStored(Edn.write(config), tx);
    }
    Object schema = hasSchemaOverride ? schemaOverride : c.get(Keyword.of("schema"));
    return buildStoreless(schema, c.get(Keyword.of("db-config")), tx);
  }

  static Database buildStoreless(Object schema, Object dbConfig, Object txs) {
    Database db = Database.empty(schema == null ? null : Edn.write(schema),
        dbConfig == null ? null : Edn.write(dbConfig));
    if (txs instanceof Collection) {
      for (Object t : (Collection<?>) txs) {
        try (TxReport r = db.with(Edn.write(t))) {
          Database next = r.dbAfter().copy();
          db.close();
          db = next;
        }
      }
    }
    return db;
  }

  static Database buildStored(String cfg, Object txs) {
    Datahike.createDatabase(cfg);
    DatahikeException failure = null;
    Database db = null;
    try (Connection conn = Datahike.connect(cfg)) {
      if (txs instanceof Collection) {
        for (Object t : (Collection<?>) txs) conn.transact(Edn.write(t)).close();
      }
      db = conn.db();
    } catch (DatahikeException e) {
      failure = e;
    }
    try {
      Datahike.deleteDatabase(cfg);
    } catch (DatahikeException e) {
      if (failure == null) failure = e;
    }
    if (failure != null) {
      if (db != null) db.close();
      throw failure;
    }
    return db;
  }

  static Database applyView(Database db, Map<?, ?> c) {
    Object view = c.get(Keyword.of("view"));
    if (view == null) return db;
    List<?> items = (List<?>) view;
    String kind = ((Keyword) items.get(0)).fullName();
    Object t = items.size() > 1 ? items.get(1) : null;
    switch (kind) {
      case "as-of":
        return db.asOf(Edn.write(t));
      case "since":
        return db.since(Edn.write(t));
      case "history":
        return db.history();
      default:
        throw new IllegalStateException("unknown view " + Edn.write(view));
    }
  }

  // ---- running a case (driver.cc's RunCase) ------------------------------------------------------

  static final Set<String> OPS = Set.of("datoms", "seek-datoms", "rseek-datoms", "index-range", "transact",
      "entity", "q", "pull", "pull-many");

  static String opOf(Map<?, ?> c) {
    Object op = c.get(OP);
    return op instanceof Keyword ? ((Keyword) op).fullName() : "";
  }

  static boolean runnable(Map<?, ?> c) {
    String op = opOf(c);
    if (!OPS.contains(op)) return false;
    if (op.equals("transact")) {
      Object expect = c.get(Keyword.of("expect"));
      if (expect instanceof Map && ((Map<?, ?>) expect).containsKey(Keyword.of("db-after"))) {
        String nop = opOf((Map<?, ?>) ((Map<?, ?>) expect).get(Keyword.of("db-after")));
        if (!OPS.contains(nop) || nop.equals("transact")) return false;
      }
    }
    return true;
  }

  static Object runQuery(List<Database> dbs, Map<?, ?> c) {
    Object inputs = c.get(Keyword.of("inputs"));
    List<Object> all = new ArrayList<>(dbs);
    if (inputs instanceof Collection) all.addAll((Collection<?>) inputs);
    // The query as the case wrote it (EDN text, exact), the inputs as data.
    return Datahike.q(Edn.write(c.get(Keyword.of("query"))), all.toArray());
  }

  static Object runRead(Database db, Map<?, ?> c) {
    String op = opOf(c);
    Object index = c.get(Keyword.of("index"));
    Object comps = c.get(Keyword.of("components"));
    Object[] components = comps instanceof Collection ? ((Collection<?>) comps).toArray() : new Object[0];
    switch (op) {
      case "q":
        return runQuery(List.of(db), c);
      case "datoms":
        return rows(db.datoms(index, components));
      case "seek-datoms":
        return rows(db.seekDatoms(index, components));
      case "rseek-datoms":
        return rows(db.rseekDatoms(index, components));
      case "index-range":
        return rows(db.indexRange(c.get(Keyword.of("attrid")), c.get(Keyword.of("start")), c.get(Keyword.of("end"))));
      case "entity":
        return db.entity(Edn.write(c.get(Keyword.of("eid"))));
      case "pull":
        return db.pull(Edn.write(c.get(Keyword.of("pattern"))), Edn.write(c.get(Keyword.of("eid"))));
      case "pull-many":
        return db.pullMany(Edn.write(c.get(Keyword.of("pattern"))), Edn.write(c.get(Keyword.of("eids"))));
      default:
        throw new NotRunnable("op " + op);
    }
  }

  static List<Object> rows(List<Datom> datoms) {
    List<Object> r = new ArrayList<>();
    for (Datom d : datoms) r.add(d.toList());
    return r;
  }

  static boolean readMatches(Map<?, ?> c, Object expected, Object actual) {
    String op = opOf(c);
    boolean ordered = Boolean.TRUE.equals(c.get(Keyword.of("ordered")));
    if (op.equals("entity") || op.equals("pull") || op.equals("pull-many")) return Compare.valuesMatch(expected, actual);
    if (op.equals("q")) {
      if (expected == null) return actual == null || (Compare.isCollection(actual) && ((Collection<?>) actual).isEmpty());
      if (expected instanceof Set && Compare.isCollection(actual)) {
        return Compare.collectionMatches(expected, Compare.dedupe((Collection<?>) actual), false);
      }
      if (Compare.isCollection(expected)) return Compare.collectionMatches(expected, actual, ordered);
      return Compare.valuesMatch(expected, actual);
    }
    return Compare.datomRowsMatch(expected, actual, ordered);
  }

  static boolean messageMatches(Object expectError, DatahikeException e) {
    return !(expectError instanceof String) || String.valueOf(e.getMessage()).contains((String) expectError);
  }

  static Result runCase(Map<?, ?> c) {
    if (!runnable(c)) return new Result(Outcome.NOT_RUNNABLE, "op");
    Object expectError = c.get(Keyword.of("expect-error"));
    boolean expectsError = c.containsKey(Keyword.of("expect-error"));
    String op = opOf(c);
    List<Database> held = new ArrayList<>();
    try {
      if (op.equals("transact")) {
        Database db = buildDb(c, null, false, null, false);
        held.add(db);
        db = applyView(db, c);
        held.add(db);
        Object txData = c.get(Keyword.of("tx-data"));
        try (TxReport r = db.with(Edn.write(txData))) {
          if (expectsError) return new Result(Outcome.FAILED, "expected an error, the transaction succeeded");
          Map<?, ?> expect = (Map<?, ?>) c.get(Keyword.of("expect"));
          Map<Object, Object> report = r.asMap();
          if (expect.containsKey(Keyword.of("tx-data"))) {
            Object got = report.get(Keyword.of("tx-data"));
            if (!Compare.txDataMatches(expect.get(Keyword.of("tx-data")), got)) {
              return new Result(Outcome.FAILED, "tx-data " + Edn.write(got));
            }
          }
          if (expect.containsKey(Keyword.of("tempids"))) {
            Object got = report.get(Keyword.of("tempids"));
            if (!Compare.tempidsMatch(expect.get(Keyword.of("tempids")), got)) {
              return new Result(Outcome.FAILED, "tempids " + Edn.write(got));
            }
          }
          if (expect.containsKey(Keyword.of("db-after"))) {
            Map<?, ?> nested = (Map<?, ?>) expect.get(Keyword.of("db-after"));
            Object got = runRead(r.dbAfter(), nested);
            if (!readMatches(nested, nested.get(Keyword.of("expect")), got)) {
              return new Result(Outcome.FAILED, "db-after " + Edn.write(got));
            }
          }
          return new Result(Outcome.PASSED, "");
        } catch (DatahikeException e) {
          if (!expectsError) return new Result(Outcome.FAILED, "error: " + e.getMessage());
          if (!messageMatches(expectError, e)) return new Result(Outcome.FAILED, "wrong error: " + e.getMessage());
          return new Result(Outcome.PASSED, "");
        }
      }
      Object got;
      Object dbs = c.get(Keyword.of("dbs"));
      if (dbs != null && op.equals("q")) {
        List<Database> all = new ArrayList<>();
        for (Object d : (Collection<?>) dbs) {
          Map<?, ?> dm = (Map<?, ?>) d;
          Database built = buildDb(c, dm.get(Keyword.of("schema")), true, dm.get(Keyword.of("tx")), true);
          held.add(built);
          Database viewed = applyView(built, c);
          held.add(viewed);
          all.add(viewed);
        }
        got = runQuery(all, c);
      } else {
        Database db = buildDb(c, null, false, null, false);
        held.add(db);
        db = applyView(db, c);
        held.add(db);
        got = runRead(db, c);
      }
      if (expectsError) return new Result(Outcome.FAILED, "expected an error, got " + Edn.write(got));
      if (!readMatches(c, c.get(Keyword.of("expect")), got)) return new Result(Outcome.FAILED, "got " + Edn.write(got));
      return new Result(Outcome.PASSED, "");
    } catch (NotRunnable n) {
      return new Result(Outcome.NOT_RUNNABLE, n.getMessage());
    } catch (DatahikeException e) {
      if (expectsError) {
        if (!messageMatches(expectError, e)) return new Result(Outcome.FAILED, "wrong error: " + e.getMessage());
        return new Result(Outcome.PASSED, "");
      }
      return new Result(Outcome.FAILED, "error: " + e.getMessage());
    } catch (RuntimeException e) {
      return new Result(Outcome.FAILED, "exception: " + e);
    } finally {
      for (Database d : held) d.close();
    }
  }

  // ---- comparison (compare.cc) -------------------------------------------------------------------

  static final class Compare {
    private Compare() {}

    static boolean isNumber(Object v) {
      return v instanceof Long || v instanceof BigInteger || v instanceof Double || v instanceof BigDecimal
          || v instanceof Integer || v instanceof Float;
    }

    static boolean isFloating(Object v) {
      return v instanceof Double || v instanceof Float;
    }

    static boolean isSequential(Object v) {
      return v instanceof List;
    }

    static boolean isCollection(Object v) {
      return v instanceof List || v instanceof Set;
    }

    static BigDecimal decimal(Object v) {
      if (v instanceof BigDecimal) return (BigDecimal) v;
      if (v instanceof BigInteger) return new BigDecimal((BigInteger) v);
      return BigDecimal.valueOf(((Number) v).longValue());
    }

    static boolean valuesMatch(Object expected, Object actual) {
      if (isNumber(expected) && isNumber(actual)) {
        if (isFloating(expected) || isFloating(actual)) {
          double x = ((Number) expected).doubleValue(), y = ((Number) actual).doubleValue();
          if (Double.isNaN(x) || Double.isNaN(y)) return Double.isNaN(x) && Double.isNaN(y);
          double scale = Math.max(Math.abs(x), Math.abs(y));
          return Math.abs(x - y) <= 1e-9 * Math.max(scale, 1e-300) || x == y;
        }
        return decimal(expected).compareTo(decimal(actual)) == 0;
      }
      if (isSequential(expected) && isSequential(actual)) {
        List<?> a = (List<?>) expected, b = (List<?>) actual;
        if (a.size() != b.size()) return false;
        for (int i = 0; i < a.size(); i++) {
          if (!valuesMatch(a.get(i), b.get(i))) return false;
        }
        return true;
      }
      if (expected instanceof Set && actual instanceof Set) {
        return multisetMatches(new ArrayList<>((Set<?>) expected), new ArrayList<>((Set<?>) actual), false);
      }
      if (expected instanceof Map && actual instanceof Map) {
        Map<?, ?> a = (Map<?, ?>) expected, b = (Map<?, ?>) actual;
        if (a.size() != b.size()) return false;
        for (Map.Entry<?, ?> e : a.entrySet()) {
          Object key = findKey(b, e.getKey());
          if (key == MISSING || !valuesMatch(e.getValue(), b.get(key))) return false;
        }
        return true;
      }
      return equal(expected, actual);
    }

    private static final Object MISSING = new Object();

    /** The key of m equal to k (Clojure's equality: 1 and 1N are one key). */
    static Object findKey(Map<?, ?> m, Object k) {
      if (m.containsKey(k)) return k;
      for (Object key : m.keySet()) {
        if (equal(k, key)) return key;
      }
      return MISSING;
    }

    /** Clojure's =, as the engine's Equal: integers across kinds, not integers and doubles. */
    static boolean equal(Object a, Object b) {
      if (a == null || b == null) return a == b;
      boolean ia = a instanceof Long || a instanceof BigInteger || a instanceof Integer;
      boolean ib = b instanceof Long || b instanceof BigInteger || b instanceof Integer;
      if (ia && ib) return decimal(a).compareTo(decimal(b)) == 0;
      if (isFloating(a) && isFloating(b)) {
        double x = ((Number) a).doubleValue(), y = ((Number) b).doubleValue();
        return x == y || (Double.isNaN(x) && Double.isNaN(y));
      }
      if (a instanceof BigDecimal && b instanceof BigDecimal) return ((BigDecimal) a).compareTo((BigDecimal) b) == 0;
      if (a instanceof List && b instanceof List) {
        List<?> x = (List<?>) a, y = (List<?>) b;
        if (x.size() != y.size()) return false;
        for (int i = 0; i < x.size(); i++) {
          if (!equal(x.get(i), y.get(i))) return false;
        }
        return true;
      }
      if (a instanceof Set && b instanceof Set) {
        return multisetMatches(new ArrayList<>((Set<?>) a), new ArrayList<>((Set<?>) b), true);
      }
      if (a instanceof Map && b instanceof Map) {
        Map<?, ?> x = (Map<?, ?>) a, y = (Map<?, ?>) b;
        if (x.size() != y.size()) return false;
        for (Map.Entry<?, ?> e : x.entrySet()) {
          Object key = findKey(y, e.getKey());
          if (key == MISSING || !equal(e.getValue(), y.get(key))) return false;
        }
        return true;
      }
      if (a instanceof byte[] && b instanceof byte[]) return Arrays.equals((byte[]) a, (byte[]) b);
      return a.equals(b);
    }

    /** One-to-one matching under valuesMatch (or equal when exact). */
    static boolean multisetMatches(List<?> expected, List<?> actual, boolean exact) {
      if (expected.size() != actual.size()) return false;
      boolean[] used = new boolean[actual.size()];
      for (Object e : expected) {
        boolean found = false;
        for (int i = 0; i < actual.size(); i++) {
          if (!used[i] && (exact ? equal(e, actual.get(i)) : valuesMatch(e, actual.get(i)))) {
            used[i] = true;
            found = true;
            break;
          }
        }
        if (!found) return false;
      }
      return true;
    }

    /** The elements of c without duplicates (as the C runner's Value::Set of the items). */
    static Set<Object> dedupe(Collection<?> c) {
      List<Object> kept = new ArrayList<>();
      for (Object x : c) {
        boolean dup = false;
        for (Object k : kept) {
          if (equal(k, x)) {
            dup = true;
            break;
          }
        }
        if (!dup) kept.add(x);
      }
      return new java.util.LinkedHashSet<>(kept);
    }

    static boolean collectionMatches(Object expected, Object actual, boolean ordered) {
      if (!isCollection(expected) || !isCollection(actual)) return valuesMatch(expected, actual);
      if (ordered && isSequential(expected) && isSequential(actual)) return valuesMatch(expected, actual);
      return multisetMatches(new ArrayList<>((Collection<?>) expected), new ArrayList<>((Collection<?>) actual), false);
    }

    static boolean rowPrefixMatches(Object expected, Object actual) {
      if (!isSequential(expected) || !isSequential(actual)) return false;
      List<?> e = (List<?>) expected, a = (List<?>) actual;
      if (e.size() > a.size()) return false;
      for (int i = 0; i < e.size(); i++) {
        if (!valuesMatch(e.get(i), a.get(i))) return false;
      }
      return true;
    }

    static boolean datomRowsMatch(Object expected, Object actual, boolean ordered) {
      if (!isCollection(expected) || !isCollection(actual)) return false;
      List<?> e = new ArrayList<>((Collection<?>) expected), a = new ArrayList<>((Collection<?>) actual);
      if (e.size() != a.size()) return false;
      if (ordered) {
        for (int i = 0; i < e.size(); i++) {
          if (!rowPrefixMatches(e.get(i), a.get(i))) return false;
        }
        return true;
      }
      boolean[] used = new boolean[a.size()];
      for (Object x : e) {
        boolean found = false;
        for (int i = 0; i < a.size(); i++) {
          if (!used[i] && rowPrefixMatches(x, a.get(i))) {
            used[i] = true;
            found = true;
            break;
          }
        }
        if (!found) return false;
      }
      return true;
    }

    static boolean txDataMatches(Object expectedSet, Object actualTxData) {
      List<Object> actual = new ArrayList<>();
      for (Object row : (Collection<?>) actualTxData) {
        List<?> r = (List<?>) row;
        if (r.get(1) instanceof Keyword && ((Keyword) r.get(1)).fullName().equals("db/txInstant")) continue;
        actual.add(Arrays.asList(r.get(0), r.get(1), r.get(2), r.get(4)));
      }
      if (!isCollection(expectedSet)) return false;
      return multisetMatches(new ArrayList<>((Collection<?>) expectedSet), actual, false);
    }

    static boolean tempidsMatch(Object expected, Object actual) {
      if (!(expected instanceof Map) || !(actual instanceof Map)) return false;
      Map<Object, Object> rest = new LinkedHashMap<>();
      for (Map.Entry<?, ?> e : ((Map<?, ?>) actual).entrySet()) {
        if (e.getKey() instanceof Keyword && ((Keyword) e.getKey()).fullName().equals("db/current-tx")) continue;
        rest.put(e.getKey(), e.getValue());
      }
      return valuesMatch(expected, rest);
    }
  }
}
