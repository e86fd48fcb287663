package io.datahike;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;

/**
 * Loads the native libraries (libdatahike_jni, the SWIG wrapper, and libdatahike.so.0, the engine
 * it links) once per class loader, trying in order:
 * <ol>
 *   <li>the directory named by the system property {@code datahike.native.dir};
 *   <li>the copies inside the jar (io/datahike/native/), extracted to a temporary directory;
 *   <li>{@code System.loadLibrary("datahike_jni")}, i.e. {@code java.library.path} (libdatahike.so.0
 *       found by the dynamic linker).
 * </ol>
 * When all fail, an {@link UnsatisfiedLinkError} names each attempt and why it failed; every later
 * call throws the same explanation again.
 */
public final class NativeLoader {
  static final String JNI_LIBRARY = "datahike_jni";
  static final String ENGINE_FILE = "libdatahike.so.0";
  private static final String RESOURCE_DIR = "/io/datahike/native/";

  private static volatile boolean loaded;
  private static String failure;

  private NativeLoader() {}

  /** Loads the libraries if that has not happened yet. */
  public static void load() {
    if (loaded) return;
    synchronized (NativeLoader.class) {
      if (loaded) return;
      if (failure != null) throw new UnsatisfiedLinkError(failure);
      List<String> tried = new ArrayList<>();
      String jniFile = System.mapLibraryName(JNI_LIBRARY);
      String dir = System.getProperty("datahike.native.dir");
      if (dir != null && !dir.isEmpty()) {
        if (tryDirectory(new File(dir), jniFile, tried, "-Ddatahike.native.dir=" + dir)) return;
      } else {
        tried.add("-Ddatahike.native.dir: not set");
      }
      if (tryJar(jniFile, tried)) return;
      try {
        System.loadLibrary(JNI_LIBRARY);
        loaded = true;
        return;
      } catch (UnsatisfiedLinkError | SecurityException e) {
        tried.add("System.loadLibrary(\"" + JNI_LIBRARY + "\") with java.library.path="
            + System.getProperty("java.library.path") + ": " + e.getMessage());
      }
      failure = "Datahike: cannot load the native library " + jniFile + " (with " + ENGINE_FILE
          + "). Tried:\n  - " + String.join("\n  - ", tried)
          + "\nBuild it with bindings/java/pom.xml (mvn package) or cmake -S bindings/java, and put"
          + " the jar on the classpath, or point -Ddatahike.native.dir at the directory holding both files.";
      throw new UnsatisfiedLinkError(failure);
    }
  }

  private static boolean tryDirectory(File dir, String jniFile, List<String> tried, String what) {
    File jni = new File(dir, jniFile);
    File engine = new File(dir, ENGINE_FILE);
    if (!jni.isFile()) {
      tried.add(what + ": no " + jni);
      return false;
    }
    try {
      if (engine.isFile()) System.load(engine.getAbsolutePath());
      System.load(jni.getAbsolutePath());
      loaded = true;
      return true;
    } catch (UnsatisfiedLinkError | SecurityException e) {
      tried.add(what + ": " + e.getMessage());
      return false;
    }
  }

  private static boolean tryJar(String jniFile, List<String> tried) {
    String what = "the jar's " + RESOURCE_DIR + jniFile;
    if (NativeLoader.class.getResource(RESOURCE_DIR + jniFile) == null) {
      tried.add(what + ": not in the jar (or classpath)");
      return false;
    }
    try {
      Path tmp = Files.createTempDirectory("datahike-native");
      tmp.toFile().deleteOnExit();
      extract(RESOURCE_DIR + ENGINE_FILE, tmp.resolve(ENGINE_FILE));
      extract(RESOURCE_DIR + jniFile, tmp.resolve(jniFile));
      return tryDirectory(tmp.toFile(), jniFile, tried, what + " extracted to " + tmp);
    } catch (IOException e) {
      tried.add(what + ": cannot extract: " + e);
      return false;
    }
  }

  private static void extract(String resource, Path to) throws IOException {
    try (InputStream in = NativeLoader.class.getResourceAsStream(resource)) {
      if (in == null) return;
      Files.copy(in, to, StandardCopyOption.REPLACE_EXISTING);
      to.toFile().deleteOnExit();
    }
  }
}
