package io.datahike;

import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/** One datom {@code [e a v tx added]}: entity id, attribute, value, transaction id, added flag. */
public final class Datom {
  private final long e;
  private final Object a;
  private final Object v;
  private final long tx;
  private final boolean added;

  public Datom(long e, Object a, Object v, long tx, boolean added) {
    this.e = e;
    this.a = a;
    this.v = v;
    this.tx = tx;
    this.added = added;
  }

  /** A datom from the library's row [e a v tx added]. */
  static Datom fromRow(Object row) {
    if (!(row instanceof List) || ((List<?>) row).size() != 5) {
      throw new DatahikeException(ErrorKind.INTERNAL, "Not a datom row: " + Edn.write(row), null);
    }
    List<?> r = (List<?>) row;
    return new Datom(((Number) r.get(0)).longValue(), r.get(1), r.get(2), ((Number) r.get(3)).longValue(),
        Boolean.TRUE.equals(r.get(4)));
  }

  public long e() {
    return e;
  }

  /** The attribute (a Keyword). */
  public Object a() {
    return a;
  }

  public Object v() {
    return v;
  }

  public long tx() {
    return tx;
  }

  public boolean added() {
    return added;
  }

  /** [e a v tx added] as an unmodifiable list. */
  public List<Object> toList() {
    return Collections.unmodifiableList(Arrays.asList(e, a, v, tx, added));
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof Datom)) return false;
    Datom d = (Datom) o;
    return e == d.e && tx == d.tx && added == d.added && Objects.equals(a, d.a) && Objects.equals(v, d.v);
  }

  @Override
  public int hashCode() {
    return Objects.hash(e, a, v, tx, added);
  }

  @Override
  public String toString() {
    return "#datahike/Datom " + Edn.write(toList());
  }
}
