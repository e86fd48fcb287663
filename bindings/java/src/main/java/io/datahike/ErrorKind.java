package io.datahike;

/** The kinds of error the library reports, one per status code of the C ABI. */
public enum ErrorKind {
  /** Malformed EDN text (also raised by this binding's own EDN reader). */
  PARSE(1, "parse/error"),
  /** A schema violation or an invalid schema change. */
  SCHEMA(2, "schema/violation"),
  /** Invalid tx-data, a failed cas, a unique conflict... */
  TRANSACTION(3, "transaction/error"),
  /** An invalid query, pull pattern or query input. */
  QUERY(4, "query/error"),
  /** A database, entity or listener that does not exist. */
  NOT_FOUND(5, "not-found"),
  /** Storage I/O, corrupt data, an unknown backend. */
  STORAGE(6, "storage/error"),
  /** The database exists, or a lock is held elsewhere. */
  CONFLICT(7, "conflict"),
  /** A bad config or argument, a closed connection or released database, a wrong Java type. */
  MISUSE(8, "misuse"),
  /** A bug, or out of memory. */
  INTERNAL(9, "internal");

  private final int status;
  private final Keyword keyword;

  ErrorKind(int status, String keyword) {
    this.status = status;
    this.keyword = Keyword.of(keyword);
  }

  /** The C ABI's datahike_status code. */
  public int status() {
    return status;
  }

  /** The :error/kind keyword, e.g. :query/error. */
  public Keyword keyword() {
    return keyword;
  }

  /** The kind of a status code; INTERNAL for a code this binding does not know. */
  public static ErrorKind ofStatus(int status) {
    for (ErrorKind k : values()) {
      if (k.status == status) return k;
    }
    return INTERNAL;
  }
}
