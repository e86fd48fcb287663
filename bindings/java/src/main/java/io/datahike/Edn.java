package io.datahike;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.Collections;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * EDN text to Java values and back, as this binding exchanges them with the library.
 *
 * <p>Reading gives: nil → null, booleans → Boolean, integers → Long (BigInteger with {@code N} or
 * past 64 bits), floats → Double (BigDecimal with {@code M}), strings → String, characters →
 * Character, keywords → {@link Keyword}, symbols → {@link Symbol}, vectors → an unmodifiable List,
 * lists → {@link EdnList}, maps → an unmodifiable insertion-ordered Map, sets → an unmodifiable
 * insertion-ordered Set, {@code #inst} → {@link Date}, {@code #uuid} → {@link UUID}, {@code #bytes}
 * → byte[]. {@code #_}, {@code ;} comments, commas and {@code ##Inf}/{@code ##-Inf}/{@code ##NaN}
 * are understood. Malformed text throws {@link DatahikeException} of kind {@link ErrorKind#PARSE}.
 *
 * <p>Writing takes those types and also Integer/Short/Byte, Float, {@link Instant}, Object[],
 * any Map/List/Set/Collection and {@link Datom}; anything else throws {@link DatahikeException}
 * of kind {@link ErrorKind#MISUSE}.
 */
public final class Edn {
  private Edn() {}

  // ---- reading -------------------------------------------------------------------------------

  /** Reads exactly one value (surrounding whitespace and comments allowed). */
  public static Object read(String text) {
    Reader r = new Reader(text);
    r.skipSpace();
    if (r.pos >= text.length()) throw r.fail("no value in the text");
    Object v = r.readForm();
    r.skipSpace();
    if (r.pos < text.length()) throw r.fail("unexpected text after the value");
    return v;
  }

  private static final Object DISCARDED = new Object();
  private static final java.util.regex.Pattern FLOAT =
      java.util.regex.Pattern.compile("[+-]?\\d+(\\.\\d*)?([eE][+-]?\\d+)?");
  private static final java.util.regex.Pattern INTEGER = java.util.regex.Pattern.compile("-?\\d+");

  private static final class Reader {
    final String s;
    int pos;

    Reader(String s) {
      this.s = s;
    }

    DatahikeException fail(String why) {
      int line = 1, col = 1;
      for (int i = 0; i < Math.min(pos, s.length()); i++) {
        if (s.charAt(i) == '\n') {
          line++;
          col = 1;
        } else {
          col++;
        }
      }
      return new DatahikeException(ErrorKind.PARSE,
          "EDN parse error at line " + line + ", column " + col + ": " + why, null);
    }

    void skipSpace() {
      while (pos < s.length()) {
        char c = s.charAt(pos);
        if (c == ';') {
          while (pos < s.length() && s.charAt(pos) != '\n') pos++;
        } else if (Character.isWhitespace(c) || c == ',') {
          pos++;
        } else {
          return;
        }
      }
    }

    static boolean isDelimiter(char c) {
      return Character.isWhitespace(c) || c == ',' || c == '(' || c == ')' || c == '[' || c == ']'
          || c == '{' || c == '}' || c == '"' || c == ';';
    }

    String token() {
      int start = pos;
      while (pos < s.length() && !isDelimiter(s.charAt(pos))) pos++;
      return s.substring(start, pos);
    }

    /** The next form, skipping #_ discards. */
    Object readForm() {
      while (true) {
        skipSpace();
        if (pos >= s.length()) throw fail("unexpected end of text");
        Object v = readOne();
        if (v != DISCARDED) return v;
      }
    }

    Object readOne() {
      char c = s.charAt(pos);
      switch (c) {
        case '(':
          pos++;
          return EdnList.copyOf(readSeq(')'));
        case '[':
          pos++;
          return Collections.unmodifiableList(readSeq(']'));
        case '{': {
          pos++;
          List<Object> items = readSeq('}');
          if (items.size() % 2 != 0) throw fail("a map needs an even number of forms");
          Map<Object, Object> m = new LinkedHashMap<>();
          for (int i = 0; i < items.size(); i += 2) {
            if (m.containsKey(items.get(i))) throw fail("duplicate map key " + write(items.get(i)));
            m.put(items.get(i), items.get(i + 1));
          }
          return Collections.unmodifiableMap(m);
        }
        case ')':
        case ']':
        case '}':
          throw fail("unmatched '" + c + "'");
        case '"':
          return readString();
        case '\\':
          return readChar();
        case '#':
          return readDispatch();
        default:
          return readAtom();
      }
    }

    List<Object> readSeq(char close) {
      List<Object> items = new ArrayList<>();
      while (true) {
        skipSpace();
        if (pos >= s.length()) throw fail("missing '" + close + "'");
        if (s.charAt(pos) == close) {
          pos++;
          return items;
        }
        Object v = readOne();
        if (v != DISCARDED) items.add(v);
      }
    }

    String readString() {
      int start = pos;
      pos++; // opening quote
      StringBuilder b = new StringBuilder();
      while (true) {
        if (pos >= s.length()) {
          pos = start;
          throw fail("unterminated string");
        }
        char c = s.charAt(pos++);
        if (c == '"') return b.toString();
        if (c != '\\') {
          b.append(c);
          continue;
        }
        if (pos >= s.length()) throw fail("unterminated string escape");
        char e = s.charAt(pos++);
        switch (e) {
          case 't': b.append('\t'); break;
          case 'r': b.append('\r'); break;
          case 'n': b.append('\n'); break;
          case 'b': b.append('\b'); break;
          case 'f': b.append('\f'); break;
          case '\\': b.append('\\'); break;
          case '"': b.append('"'); break;
          case 'u': {
            if (pos + 4 > s.length()) throw fail("short \\u escape");
            b.append((char) hex4(s.substring(pos, pos + 4)));
            pos += 4;
            break;
          }
          default:
            pos--;
            throw fail("unknown string escape \\" + e);
        }
      }
    }

    int hex4(String h) {
      try {
        if (h.length() != 4) throw new NumberFormatException();
        return Integer.parseInt(h, 16);
      } catch (NumberFormatException e) {
        throw fail("bad \\u escape " + h);
      }
    }

    Character readChar() {
      pos++; // backslash
      if (pos >= s.length()) throw fail("a character needs a name after \\");
      int start = pos;
      pos += Character.charCount(s.codePointAt(pos));
      while (pos < s.length() && !isDelimiter(s.charAt(pos))) pos++;
      String t = s.substring(start, pos);
      if (t.codePointCount(0, t.length()) == 1) {
        if (t.length() != 1) throw fail("character outside the Basic Multilingual Plane: \\" + t);
        return t.charAt(0);
      }
      switch (t) {
        case "newline": return '\n';
        case "space": return ' ';
        case "tab": return '\t';
        case "return": return '\r';
        case "backspace": return '\b';
        case "formfeed": return '\f';
        default:
          if (t.length() == 5 && t.charAt(0) == 'u') return (char) hex4(t.substring(1));
          throw fail("unknown character \\" + t);
      }
    }

    Object readDispatch() {
      int hash = pos;
      pos++;
      if (pos >= s.length()) throw fail("unexpected end of text after #");
      char c = s.charAt(pos);
      if (c == '{') {
        pos++;
        Set<Object> set = new LinkedHashSet<>();
        for (Object v : readSeq('}')) {
          if (!set.add(v)) throw fail("duplicate set element " + write(v));
        }
        return Collections.unmodifiableSet(set);
      }
      if (c == '_') {
        pos++;
        readForm();
        return DISCARDED;
      }
      if (c == '#') {
        pos++;
        String t = token();
        switch (t) {
          case "Inf": return Double.POSITIVE_INFINITY;
          case "-Inf": return Double.NEGATIVE_INFINITY;
          case "NaN": return Double.NaN;
          default:
            pos = hash;
            throw fail("unknown symbolic value ##" + t);
        }
      }
      String tag = token();
      Object arg = readForm();
      switch (tag) {
        case "inst":
          if (!(arg instanceof String)) throw fail("#inst needs a string");
          return new Date(parseInstant((String) arg));
        case "uuid":
          if (!(arg instanceof String)) throw fail("#uuid needs a string");
          try {
            String u = (String) arg;
            if (u.length() != 36) throw new IllegalArgumentException();
            return UUID.fromString(u);
          } catch (IllegalArgumentException e) {
            throw fail("invalid #uuid \"" + arg + "\"");
          }
        case "bytes":
          if (!(arg instanceof String)) throw fail("#bytes needs a string");
          try {
            return Base64.getDecoder().decode((String) arg);
          } catch (IllegalArgumentException e) {
            throw fail("invalid #bytes base64");
          }
        default:
          pos = hash;
          throw fail("unknown tag #" + tag + " (supported: #inst, #uuid, #bytes)");
      }
    }

    // yyyy[-MM[-dd[Thh[:mm[:ss[.fff]]]]]][Z|±hh:mm], as Clojure's #inst reader takes it.
    long parseInstant(String t) {
      try {
        int[] i = {0};
        int sign = 1;
        if (t.startsWith("-") || t.startsWith("+")) {
          sign = t.charAt(0) == '-' ? -1 : 1;
          i[0] = 1;
        }
        int yStart = i[0];
        while (i[0] < t.length() && Character.isDigit(t.charAt(i[0]))) i[0]++;
        if (i[0] - yStart < 4) throw new IllegalArgumentException();
        int year = sign * Integer.parseInt(t.substring(yStart, i[0]));
        int month = 1, day = 1, hour = 0, minute = 0, second = 0, nanos = 0;
        int offsetSeconds = 0;
        if (next(t, i, '-')) {
          month = digits(t, i, 2);
          if (next(t, i, '-')) {
            day = digits(t, i, 2);
            if (next(t, i, 'T')) {
              hour = digits(t, i, 2);
              if (next(t, i, ':')) {
                minute = digits(t, i, 2);
                if (next(t, i, ':')) {
                  second = digits(t, i, 2);
                  if (next(t, i, '.')) {
                    int fs = i[0];
                    while (i[0] < t.length() && Character.isDigit(t.charAt(i[0]))) i[0]++;
                    String frac = t.substring(fs, i[0]);
                    if (frac.isEmpty()) throw new IllegalArgumentException();
                    frac = (frac + "000000000").substring(0, 9);
                    nanos = Integer.parseInt(frac);
                  }
                }
              }
            }
          }
        }
        if (i[0] < t.length()) {
          char o = t.charAt(i[0]);
          if (o == 'Z' || o == 'z') {
            i[0]++;
          } else if (o == '+' || o == '-') {
            i[0]++;
            int oh = digits(t, i, 2);
            if (!next(t, i, ':')) throw new IllegalArgumentException();
            int om = digits(t, i, 2);
            offsetSeconds = (o == '-' ? -1 : 1) * (oh * 3600 + om * 60);
          }
        }
        if (i[0] != t.length()) throw new IllegalArgumentException();
        LocalDateTime ldt = LocalDateTime.of(year, month, day, hour, minute, second, nanos);
        Instant inst = ldt.toInstant(ZoneOffset.ofTotalSeconds(offsetSeconds));
        return inst.toEpochMilli();
      } catch (RuntimeException e) {
        throw fail("invalid #inst \"" + t + "\"");
      }
    }

    static boolean next(String t, int[] i, char c) {
      if (i[0] < t.length() && t.charAt(i[0]) == c) {
        i[0]++;
        return true;
      }
      return false;
    }

    static int digits(String t, int[] i, int n) {
      if (i[0] + n > t.length()) throw new IllegalArgumentException();
      for (int k = 0; k < n; k++) {
        if (!Character.isDigit(t.charAt(i[0] + k))) throw new IllegalArgumentException();
      }
      int v = Integer.parseInt(t.substring(i[0], i[0] + n));
      i[0] += n;
      return v;
    }

    Object readAtom() {
      int start = pos;
      String t = token();
      if (t.isEmpty()) throw fail("unexpected '" + s.charAt(pos) + "'");
      char c = t.charAt(0);
      if (Character.isDigit(c) || ((c == '+' || c == '-') && t.length() > 1 && Character.isDigit(t.charAt(1)))) {
        return readNumber(t, start);
      }
      switch (t) {
        case "nil": return null;
        case "true": return Boolean.TRUE;
        case "false": return Boolean.FALSE;
        default:
          break;
      }
      if (c == ':') {
        String body = t.substring(1);
        if (body.isEmpty() || body.startsWith(":") || body.endsWith("/")) {
          pos = start;
          throw fail("invalid keyword " + t);
        }
        return Keyword.of(body);
      }
      return Symbol.of(t);
    }

    Object readNumber(String t, int start) {
      try {
        if (t.endsWith("N")) return new BigInteger(strip(t.substring(0, t.length() - 1)));
        if (t.endsWith("M")) return new BigDecimal(strip(t.substring(0, t.length() - 1)));
        if (t.indexOf('.') >= 0 || t.indexOf('e') >= 0 || t.indexOf('E') >= 0) {
          if (!FLOAT.matcher(t).matches()) throw new NumberFormatException();
          return Double.parseDouble(t);
        }
        try {
          return Long.parseLong(t); // takes a leading + or -, nothing but digits after it
        } catch (NumberFormatException e) {
          String d = strip(t);
          if (!INTEGER.matcher(d).matches()) throw e;
          return new BigInteger(d);
        }
      } catch (NumberFormatException e) {
        pos = start;
        throw fail("invalid number " + t);
      }
    }

    static String strip(String t) {
      return t.startsWith("+") ? t.substring(1) : t;
    }
  }

  // ---- writing -------------------------------------------------------------------------------

  /** The EDN text of a value (strings stay strings, map keys stay as they are). */
  public static String write(Object value) {
    StringBuilder b = new StringBuilder();
    print(value, b, false, false);
    return b.toString();
  }

  /**
   * The EDN text of data given by a Java caller: as {@link #write}, except that String map keys
   * become keywords ({@code Map.of("name", "Alice")} is {@code {:name "Alice"}}; a leading colon
   * is allowed), the convention of Datahike's Java API.
   */
  static String writeData(Object value) {
    StringBuilder b = new StringBuilder();
    print(value, b, true, false);
    return b.toString();
  }

  /** As {@link #writeData}, and String values starting with ':' become keywords (configs). */
  static String writeConfig(Object value) {
    StringBuilder b = new StringBuilder();
    print(value, b, true, true);
    return b.toString();
  }

  private static void print(Object v, StringBuilder b, boolean keywordKeys, boolean keywordStrings) {
    if (v == null) {
      b.append("nil");
    } else if (v instanceof String) {
      String s = (String) v;
      if (keywordStrings && s.length() > 1 && s.charAt(0) == ':') {
        b.append(Keyword.of(s));
      } else {
        printString(s, b);
      }
    } else if (v instanceof Keyword || v instanceof Symbol || v instanceof Boolean) {
      b.append(v);
    } else if (v instanceof Long || v instanceof Integer || v instanceof Short || v instanceof Byte) {
      b.append(((Number) v).longValue());
    } else if (v instanceof Double || v instanceof Float) {
      printDouble(((Number) v).doubleValue(), b);
    } else if (v instanceof BigInteger) {
      b.append(v).append('N');
    } else if (v instanceof BigDecimal) {
      b.append(v).append('M');
    } else if (v instanceof Character) {
      printChar((Character) v, b);
    } else if (v instanceof UUID) {
      b.append("#uuid \"").append(v).append('"');
    } else if (v instanceof Date) {
      printInstant(((Date) v).getTime(), b);
    } else if (v instanceof Instant) {
      printInstant(((Instant) v).toEpochMilli(), b);
    } else if (v instanceof byte[]) {
      b.append("#bytes \"").append(Base64.getEncoder().encodeToString((byte[]) v)).append('"');
    } else if (v instanceof Map) {
      b.append('{');
      boolean first = true;
      for (Map.Entry<?, ?> e : ((Map<?, ?>) v).entrySet()) {
        if (!first) b.append(' ');
        first = false;
        Object k = e.getKey();
        if (keywordKeys && k instanceof String && !((String) k).isEmpty()) {
          b.append(Keyword.of((String) k));
        } else {
          print(k, b, keywordKeys, keywordStrings);
        }
        b.append(' ');
        print(e.getValue(), b, keywordKeys, keywordStrings);
      }
      b.append('}');
    } else if (v instanceof EdnList) {
      printItems((EdnList) v, "(", ")", b, keywordKeys, keywordStrings);
    } else if (v instanceof Set) {
      printItems((Set<?>) v, "#{", "}", b, keywordKeys, keywordStrings);
    } else if (v instanceof Collection) {
      printItems((Collection<?>) v, "[", "]", b, keywordKeys, keywordStrings);
    } else if (v instanceof Object[]) {
      printItems(java.util.Arrays.asList((Object[]) v), "[", "]", b, keywordKeys, keywordStrings);
    } else if (v instanceof Datom) {
      printItems(((Datom) v).toList(), "[", "]", b, keywordKeys, keywordStrings);
    } else {
      throw new DatahikeException(ErrorKind.MISUSE,
          "No EDN form for a Java " + v.getClass().getName() + " (" + v + ")", null);
    }
  }

  private static void printItems(Collection<?> items, String open, String close, StringBuilder b,
      boolean keywordKeys, boolean keywordStrings) {
    b.append(open);
    boolean first = true;
    for (Object x : items) {
      if (!first) b.append(' ');
      first = false;
      print(x, b, keywordKeys, keywordStrings);
    }
    b.append(close);
  }

  private static void printDouble(double d, StringBuilder b) {
    if (Double.isNaN(d)) {
      b.append("##NaN");
    } else if (Double.isInfinite(d)) {
      b.append(d > 0 ? "##Inf" : "##-Inf");
    } else {
      b.append(Double.toString(d));
    }
  }

  private static void printString(String s, StringBuilder b) {
    b.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"': b.append("\\\""); break;
        case '\\': b.append("\\\\"); break;
        case '\n': b.append("\\n"); break;
        case '\t': b.append("\\t"); break;
        case '\r': b.append("\\r"); break;
        case '\b': b.append("\\b"); break;
        case '\f': b.append("\\f"); break;
        default:
          if (c < 0x20) {
            b.append(String.format("\\u%04x", (int) c));
          } else {
            b.append(c);
          }
      }
    }
    b.append('"');
  }

  private static void printChar(char c, StringBuilder b) {
    switch (c) {
      case '\n': b.append("\\newline"); break;
      case ' ': b.append("\\space"); break;
      case '\t': b.append("\\tab"); break;
      case '\r': b.append("\\return"); break;
      case '\b': b.append("\\backspace"); break;
      case '\f': b.append("\\formfeed"); break;
      default:
        if (c < 0x20 || Character.isSurrogate(c) || Character.isWhitespace(c)) {
          b.append(String.format("\\u%04x", (int) c));
        } else {
          b.append('\\').append(c);
        }
    }
  }

  private static void printInstant(long millis, StringBuilder b) {
    LocalDateTime t = LocalDateTime.ofEpochSecond(Math.floorDiv(millis, 1000L),
        (int) Math.floorMod(millis, 1000L) * 1_000_000, ZoneOffset.UTC);
    int year = t.getYear();
    b.append("#inst \"");
    if (year < 0) b.append('-');
    b.append(String.format("%04d-%02d-%02dT%02d:%02d:%02d.%03d-00:00\"", Math.abs(year),
        t.getMonthValue(), t.getDayOfMonth(), t.getHour(), t.getMinute(), t.getSecond(),
        t.getNano() / 1_000_000));
  }
}
