package io.datahike;

import java.util.Objects;

/** An EDN symbol such as {@code ?e}, {@code $} or {@code clojure.string/blank?}. Immutable. */
public final class Symbol {
  private final String text;

  private Symbol(String text) {
    this.text = text;
  }

  public static Symbol of(String text) {
    Objects.requireNonNull(text, "symbol text");
    if (text.isEmpty()) throw new IllegalArgumentException("empty symbol");
    return new Symbol(text);
  }

  /** "ns/name" or "name". */
  public String fullName() {
    return text;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Symbol && ((Symbol) o).text.equals(text);
  }

  @Override
  public int hashCode() {
    return text.hashCode() ^ 0x9e3779b9;
  }

  @Override
  public String toString() {
    return text;
  }
}
