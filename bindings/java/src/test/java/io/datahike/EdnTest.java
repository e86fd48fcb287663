package io.datahike;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class EdnTest {
  @Test
  void readsEveryKind() {
    Object v = Edn.read("[nil true false 42 -7 +3 12345678901234567890 5N 1.5 -2e3 1.25M \"a\\tb\\u00e9\" \\a \\newline"
        + " :k :ns/k sym ns/sym (1 2) {:a 1} #{1} #inst \"2024-01-02T03:04:05.678-00:00\""
        + " #uuid \"00000000-0000-0000-0000-000000000001\" #bytes \"AQI=\" ##Inf ##NaN #_ ignored ; comment\n]");
    List<?> l = (List<?>) v;
    assertEquals(null, l.get(0));
    assertEquals(true, l.get(1));
    assertEquals(42L, l.get(3));
    assertEquals(-7L, l.get(4));
    assertEquals(3L, l.get(5));
    assertEquals(new BigInteger("12345678901234567890"), l.get(6));
    assertEquals(BigInteger.valueOf(5), l.get(7));
    assertEquals(1.5, l.get(8));
    assertEquals(-2000.0, l.get(9));
    assertEquals(new BigDecimal("1.25"), l.get(10));
    assertEquals("a\tbé", l.get(11));
    assertEquals('a', l.get(12));
    assertEquals('\n', l.get(13));
    assertEquals(Keyword.of("k"), l.get(14));
    assertEquals(Keyword.of("ns", "k"), l.get(15));
    assertEquals(Symbol.of("sym"), l.get(16));
    assertTrue(l.get(18) instanceof EdnList);
    assertEquals(List.of(1L, 2L), l.get(18));
    assertEquals(Map.of(Keyword.of("a"), 1L), l.get(19));
    assertEquals(Set.of(1L), l.get(20));
    assertEquals(new Date(1704164645678L), l.get(21));
    assertEquals(UUID.fromString("00000000-0000-0000-0000-000000000001"), l.get(22));
    assertEquals(Double.POSITIVE_INFINITY, l.get(24));
    assertEquals(26, l.size());
  }

  @Test
  void roundTrips() {
    String text = "[nil true 42 12345678901234567890N 1.5 1.25M \"q\\\"\\n\" \\a :ns/k sym (1 [2]) {:a #{1}}"
        + " #inst \"2024-01-02T03:04:05.678-00:00\" #uuid \"00000000-0000-0000-0000-000000000001\" #bytes \"AQI=\" ##-Inf]";
    assertEquals(text, Edn.write(Edn.read(text)));
    assertEquals(":ns/name", Keyword.of(":ns/name").toString());
    assertEquals(Keyword.of("ns/name"), Keyword.of(":ns/name"));
    assertEquals(Keyword.of("ns/name").hashCode(), Keyword.of("ns", "name").hashCode());
    assertEquals("{:name \"Alice\"}", Edn.writeData(Map.of("name", "Alice")));
    assertEquals("{\"name\" \"Alice\"}", Edn.write(Map.of("name", "Alice")));
    assertEquals("{:backend :memory}", Edn.writeConfig(Map.of("backend", ":memory")));
    assertEquals("#inst \"1970-01-01T00:00:00.001-00:00\"", Edn.write(java.time.Instant.ofEpochMilli(1)));
    assertEquals("😀", Edn.read(Edn.write("😀")));
  }

  @Test
  void malformedTextIsAParseError() {
    for (String bad : new String[] {"", "[1 2", "{:a}", "\"open", "#foo 1", "#uuid \"x\"", "#inst \"2024-13-01\"",
        "1.2.3", ":", "}", "#{1 1}", "\\nope", "[1] 2"}) {
      DatahikeException e = assertThrows(DatahikeException.class, () -> Edn.read(bad), bad);
      assertEquals(ErrorKind.PARSE, e.errorKind(), bad);
    }
    assertEquals(ErrorKind.MISUSE, assertThrows(DatahikeException.class, () -> Edn.write(new Object())).errorKind());
  }
}
