package io.datahike;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * The report of a transaction: the datoms it added and retracted, the entity ids its tempids got,
 * its :tx-meta, and the database values before and after it. Closing a report releases both
 * values (they are also released when unreachable).
 */
public final class TxReport implements AutoCloseable {
  private static final Keyword TX_DATA = Keyword.of("tx-data");
  private static final Keyword TEMPIDS = Keyword.of("tempids");
  private static final Keyword TX_META = Keyword.of("tx-meta");

  private final Map<Object, Object> report;
  private final List<Datom> txData;
  private final Database dbBefore;
  private final Database dbAfter;

  private TxReport(Map<Object, Object> report, Database dbBefore, Database dbAfter) {
    this.report = report;
    List<Datom> datoms = new ArrayList<>();
    Object rows = report.get(TX_DATA);
    if (rows instanceof List) {
      for (Object row : (List<?>) rows) datoms.add(Datom.fromRow(row));
    }
    this.txData = Collections.unmodifiableList(datoms);
    this.dbBefore = dbBefore;
    this.dbAfter = dbAfter;
  }

  @SuppressWarnings("unchecked")
  static TxReport of(String reportEdn, Database dbBefore, Database dbAfter) {
    Object r = Edn.read(reportEdn);
    return new TxReport(r instanceof Map ? (Map<Object, Object>) r : Collections.emptyMap(), dbBefore, dbAfter);
  }

  /** The datoms of the transaction (with the :db/txInstant datom). */
  public List<Datom> txData() {
    return txData;
  }

  /** Tempid (a String, a negative Long, or :db/current-tx) to entity id. */
  @SuppressWarnings("unchecked")
  public Map<Object, Object> tempids() {
    Object t = report.get(TEMPIDS);
    return t instanceof Map ? (Map<Object, Object>) t : Collections.emptyMap();
  }

  /** The entity id a tempid got, or null. */
  public Long tempid(Object tempid) {
    Object id = tempids().get(tempid);
    return id instanceof Number ? ((Number) id).longValue() : null;
  }

  /** The transaction's :tx-meta (with :db/commitId). */
  @SuppressWarnings("unchecked")
  public Map<Object, Object> txMeta() {
    Object m = report.get(TX_META);
    return m instanceof Map ? (Map<Object, Object>) m : Collections.emptyMap();
  }

  /** The database value before the transaction (null where the library gave none). */
  public Database dbBefore() {
    return dbBefore;
  }

  /** The database value after the transaction (null where the library gave none). */
  public Database dbAfter() {
    return dbAfter;
  }

  /** The whole report map as the library returned it (:db-before/:db-after are the bases). */
  public Map<Object, Object> asMap() {
    return report;
  }

  @Override
  public void close() {
    if (dbBefore != null) dbBefore.close();
    if (dbAfter != null) dbAfter.close();
  }

  @Override
  public String toString() {
    return Edn.write(report);
  }
}
