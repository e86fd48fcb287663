package io.datahike;

import java.util.Objects;

/**
 * An EDN keyword such as {@code :name} or {@code :db/ident}. Immutable; equal when namespace and
 * name are equal; {@link #toString()} gives the EDN text ({@code ":ns/name"}).
 */
public final class Keyword implements Comparable<Keyword> {
  private final String namespace; // null when there is none
  private final String name;

  private Keyword(String namespace, String name) {
    this.namespace = namespace;
    this.name = name;
  }

  /** A keyword from its text, with or without the leading colon: "ns/name", ":name". */
  public static Keyword of(String text) {
    Objects.requireNonNull(text, "keyword text");
    String t = text.startsWith(":") ? text.substring(1) : text;
    if (t.isEmpty()) throw new IllegalArgumentException("empty keyword");
    int slash = t.indexOf('/');
    if (slash > 0 && slash < t.length() - 1) return new Keyword(t.substring(0, slash), t.substring(slash + 1));
    return new Keyword(null, t);
  }

  /** A keyword from a namespace (null for none) and a name. */
  public static Keyword of(String namespace, String name) {
    Objects.requireNonNull(name, "keyword name");
    return new Keyword(namespace == null || namespace.isEmpty() ? null : namespace, name);
  }

  /** The namespace, or null. */
  public String namespace() {
    return namespace;
  }

  public String name() {
    return name;
  }

  /** "ns/name" or "name", without the colon. */
  public String fullName() {
    return namespace == null ? name : namespace + "/" + name;
  }

  @Override
  public boolean equals(Object o) {
    if (this == o) return true;
    if (!(o instanceof Keyword)) return false;
    Keyword k = (Keyword) o;
    return name.equals(k.name) && Objects.equals(namespace, k.namespace);
  }

  @Override
  public int hashCode() {
    return 31 * Objects.hashCode(namespace) + name.hashCode() + 0x3c6ef372;
  }

  @Override
  public String toString() {
    return ":" + fullName();
  }

  /** Clojure's order: no namespace first, then by namespace, then by name. */
  @Override
  public int compareTo(Keyword o) {
    if (namespace == null || o.namespace == null) {
      if (namespace != o.namespace) return namespace == null ? -1 : 1;
    } else {
      int c = namespace.compareTo(o.namespace);
      if (c != 0) return c;
    }
    return name.compareTo(o.name);
  }
}
