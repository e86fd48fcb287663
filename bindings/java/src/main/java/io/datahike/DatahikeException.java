package io.datahike;

import java.util.Collections;
import java.util.Map;

/**
 * An error reported by Datahike (or by this binding, for misuse it detects itself: a closed
 * connection, a released database, a Java value with no EDN form). Unchecked. Built from the C
 * ABI's error map {@code {:error/kind :query/error :message "..." :data {...}}}: {@link #kind()}
 * is the :error/kind keyword, {@link #getMessage()} the message and {@link #data()} the data.
 */
public class DatahikeException extends RuntimeException {
  private final ErrorKind errorKind;
  private final Object data;

  public DatahikeException(ErrorKind kind, String message, Object data) {
    super(message);
    this.errorKind = kind;
    this.data = data;
  }

  public DatahikeException(ErrorKind kind, String message, Throwable cause) {
    super(message, cause);
    this.errorKind = kind;
    this.data = null;
  }

  /** The kind as an enum. */
  public ErrorKind errorKind() {
    return errorKind;
  }

  /** The :error/kind keyword, e.g. :schema/violation. */
  public Keyword kind() {
    return errorKind.keyword();
  }

  /** The error's :data (usually a Map; null when there is none). */
  public Object data() {
    return data;
  }

  /** The error's :data as a map (empty when it is not one). */
  @SuppressWarnings("unchecked")
  public Map<Object, Object> dataMap() {
    return data instanceof Map ? (Map<Object, Object>) data : Collections.emptyMap();
  }

  @Override
  public String toString() {
    return "DatahikeException[" + kind() + "]: " + getMessage();
  }

  /** Turns a failed call's status and error text (EDN, possibly null) into an exception. */
  static DatahikeException fromAbi(int status, String errorText) {
    ErrorKind kind = ErrorKind.ofStatus(status);
    if (errorText == null) return new DatahikeException(kind, "Datahike call failed (" + kind.keyword() + ")", null);
    try {
      Object parsed = Edn.read(errorText);
      if (parsed instanceof Map) {
        Map<?, ?> m = (Map<?, ?>) parsed;
        Object message = m.get(Keyword.of("message"));
        return new DatahikeException(kind, message instanceof String ? (String) message : errorText,
            m.get(Keyword.of("data")));
      }
    } catch (DatahikeException e) {
      // not EDN: keep the text as the message
    }
    return new DatahikeException(kind, errorText, null);
  }
}
