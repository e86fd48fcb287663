package io.datahike;

/** Datahike's :schema-flexibility: :write checks every attribute against the schema, :read does not. */
public enum SchemaFlexibility {
  /** Schema on read: attributes need no schema entry. */
  READ,
  /** Schema on write (Datahike's default): every attribute must be in the schema. */
  WRITE;

  public Keyword keyword() {
    return this == READ ? Keyword.of("read") : Keyword.of("write");
  }
}
