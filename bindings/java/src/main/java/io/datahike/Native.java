package io.datahike;

import java.lang.ref.Cleaner;
import java.nio.charset.StandardCharsets;
import java.util.Date;
import java.time.Instant;

/** Small helpers around the SWIG layer (io.datahike.internal.DatahikeNative). */
final class Native {
  static final int EDN = 0;
  static final Cleaner CLEANER = Cleaner.create();

  private Native() {}

  static byte[] utf8(String s) {
    return s == null ? null : s.getBytes(StandardCharsets.UTF_8);
  }

  static String text(byte[] b) {
    return b == null ? null : new String(b, StandardCharsets.UTF_8);
  }

  /** Throws the call's error when status is not DATAHIKE_OK. */
  static void check(int status, byte[][] error) {
    if (status != 0) throw DatahikeException.fromAbi(status, text(error[0]));
  }

  /** The EDN value a call returned (nil when it returned nothing). */
  static Object value(byte[][] out) {
    return out[0] == null ? null : Edn.read(text(out[0]));
  }

  /** Config: EDN text, a DatabaseConfig, or a Map (String keys and ":x" strings as keywords). */
  static String config(Object config) {
    if (config == null) throw new DatahikeException(ErrorKind.MISUSE, "The config is null", null);
    if (config instanceof String) return (String) config;
    if (config instanceof DatabaseConfig) return ((DatabaseConfig) config).toEdn();
    return Edn.writeConfig(config);
  }

  /** Arguments that are EDN in Datahike (query, pattern, tx-data, eid): text as is, else data. */
  static String form(Object form, String what) {
    if (form instanceof String) return (String) form;
    if (form == null && what != null) {
      throw new DatahikeException(ErrorKind.MISUSE, "The " + what + " is null", null);
    }
    return Edn.writeData(form);
  }

  /** A time point: a tx id (Long), a Date or Instant, or EDN text. */
  static String timePoint(Object t) {
    if (t instanceof Number || t instanceof Date || t instanceof Instant || t instanceof String) {
      return t instanceof String ? (String) t : Edn.write(t);
    }
    throw new DatahikeException(ErrorKind.MISUSE,
        "A time point is a transaction id, a Date or an Instant, not " + (t == null ? "null" : t.getClass().getName()),
        null);
  }

  /** An index name: a Keyword, or a String with or without the colon. */
  static String index(Object index) {
    if (index instanceof Keyword) return index.toString();
    if (index instanceof String) return Keyword.of((String) index).toString();
    throw new DatahikeException(ErrorKind.MISUSE, "An index is :eavt, :aevt or :avet", null);
  }
}
