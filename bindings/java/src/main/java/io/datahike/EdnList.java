package io.datahike;

import java.util.AbstractList;
import java.util.Arrays;
import java.util.List;
import java.util.RandomAccess;

/**
 * An EDN list {@code (a b c)}: an immutable {@link List} that prints with parentheses (every other
 * List prints as a vector). Equal to any List with the same elements, as Clojure's lists and
 * vectors are equal.
 */
public final class EdnList extends AbstractList<Object> implements RandomAccess {
  private final Object[] items;

  private EdnList(Object[] items) {
    this.items = items;
  }

  public static EdnList of(Object... items) {
    return new EdnList(items.clone());
  }

  public static EdnList copyOf(List<?> items) {
    return new EdnList(items.toArray());
  }

  @Override
  public Object get(int index) {
    return items[index];
  }

  @Override
  public int size() {
    return items.length;
  }

  @Override
  public Object[] toArray() {
    return Arrays.copyOf(items, items.length);
  }
}
