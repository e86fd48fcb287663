package io.datahike;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;

/**
 * A builder of Datahike config maps, in the shape of Datahike's Java API:
 * <pre>{@code
 * Map<String, Object> cfg = Database.memory("app").keepHistory(true)
 *     .schemaFlexibility(SchemaFlexibility.WRITE).build();
 * }</pre>
 * {@link #build()} gives a map with String keys (turned into keywords when passed to
 * {@link Datahike}) and {@link Keyword} values where the config has keywords; {@link #toEdn()}
 * gives the EDN text.
 */
public final class DatabaseConfig {
  private final Map<String, Object> store;
  private final Map<String, Object> options = new LinkedHashMap<>();

  DatabaseConfig(Map<String, Object> store) {
    this.store = new LinkedHashMap<>(store);
  }

  static DatabaseConfig memory(Object id) {
    Map<String, Object> store = new LinkedHashMap<>();
    store.put("backend", Keyword.of("memory"));
    store.put("id", id instanceof UUID ? id : String.valueOf(id));
    return new DatabaseConfig(store);
  }

  static DatabaseConfig withPath(String backend, String path) {
    Map<String, Object> store = new LinkedHashMap<>();
    store.put("backend", Keyword.of(backend));
    store.put("path", path);
    return new DatabaseConfig(store);
  }

  /** :keep-history? (Datahike's default: true). */
  public DatabaseConfig keepHistory(boolean keep) {
    options.put("keep-history?", keep);
    return this;
  }

  /** :schema-flexibility (Datahike's default: :write). */
  public DatabaseConfig schemaFlexibility(SchemaFlexibility mode) {
    options.put("schema-flexibility", mode.keyword());
    return this;
  }

  /** :initial-tx, transacted when the database is created: Java tx-data or its EDN text. */
  public DatabaseConfig initialTx(Object txData) {
    options.put("initial-tx", txData instanceof String ? Edn.read((String) txData) : txData);
    return this;
  }

  /** :name. */
  public DatabaseConfig name(String name) {
    options.put("name", name);
    return this;
  }

  /** :branch, the branch a connection works on (:db when absent). */
  public DatabaseConfig branch(String branch) {
    options.put("branch", Keyword.of(branch));
    return this;
  }

  /** Any other config key (String, without the colon) and value. */
  public DatabaseConfig option(String key, Object value) {
    options.put(key, value);
    return this;
  }

  /** The config map: the options and :store. */
  public Map<String, Object> build() {
    Map<String, Object> m = new LinkedHashMap<>(options);
    m.put("store", new LinkedHashMap<>(store));
    return m;
  }

  /** The config as EDN text. */
  public String toEdn() {
    return Edn.writeConfig(build());
  }

  @Override
  public String toString() {
    return toEdn();
  }
}
