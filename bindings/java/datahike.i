/* The SWIG interface of the Java binding: capi/include/datahike/datahike.h and nothing else.
 *
 * The generated class io.datahike.internal.DatahikeNative has one static method per C function,
 * with the C types mapped so that the hand-written layer (io.datahike) needs no other native code:
 *  - text in (const char*): byte[] of UTF-8 without a terminator (null for NULL); copied and
 *    NUL-terminated here, so any Unicode text crosses intact (JNI's own strings are modified UTF-8);
 *  - text out (char** out_error, out_result, out_report, ...): a byte[][] of length 1 that
 *    receives the UTF-8 bytes (or stays null); the library's string is freed here with
 *    datahike_free, so Java never owns native memory for text; null for an optional NULL;
 *  - handles (datahike_conn*, datahike_db*): long; handle outputs (T** out_...): long[1];
 *    release functions (T** conn / T** db): the handle as a long;
 *  - the dbs of datahike_q (pointer array and count): long[];
 *  - int* and int64_t* outputs: int[1] and long[1];
 *  - a listener (callback and user pointer): a long id; the library calls back into
 *    io.datahike.ListenerBridge.dispatch(id, report bytes) on the transacting thread;
 *  - datahike_status and datahike_format: int constants;
 *  - static strings returned (datahike_version, datahike_status_name): byte[].
 * datahike_free is not wrapped: every string is freed here. */
%module DatahikeNative

%include "enumsimple.swg"

/* The generated JNI class loads the native libraries itself (io.datahike.NativeLoader: from
 * -Ddatahike.native.dir, the jar, or java.library.path). */
%pragma(java) jniclasscode=%{
  static {
    io.datahike.NativeLoader.load();
  }
%}
%include "stdint.i"

%{
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "datahike/datahike.h"

namespace {

JavaVM* g_vm = nullptr;
jclass g_bridge_class = nullptr;   // io.datahike.ListenerBridge (a global reference)
jmethodID g_dispatch = nullptr;    // static void dispatch(long id, byte[] report)
jmethodID g_dispatch_dbs = nullptr;  // static void dispatchDbs(long, byte[], long, long)

jbyteArray NewBytes(JNIEnv* env, const char* text) {
  jsize n = static_cast<jsize>(strlen(text));
  jbyteArray arr = env->NewByteArray(n);
  if (arr != nullptr) env->SetByteArrayRegion(arr, 0, n, reinterpret_cast<const jbyte*>(text));
  return arr;
}

// The JNIEnv of the calling thread, attaching it (as a daemon) when the library calls back on a
// thread the JVM does not know. *attached says whether to detach afterwards.
JNIEnv* CallbackEnv(bool* attached) {
  *attached = false;
  if (g_vm == nullptr) return nullptr;
  void* env = nullptr;
  jint rc = g_vm->GetEnv(&env, JNI_VERSION_1_8);
  if (rc == JNI_EDETACHED) {
    if (g_vm->AttachCurrentThreadAsDaemon(&env, nullptr) != JNI_OK) return nullptr;
    *attached = true;
  } else if (rc != JNI_OK) {
    return nullptr;
  }
  return static_cast<JNIEnv*>(env);
}

// A Java exception must not cross into the library: the bridge catches everything it can, and
// whatever still escapes (an Error thrown while reporting) is cleared here.
void FinishCallback(JNIEnv* env, bool attached) {
  if (env->ExceptionCheck()) env->ExceptionClear();
  if (attached) g_vm->DetachCurrentThread();
}

void ListenerTrampoline(const char* report, void* user) {
  bool attached = false;
  JNIEnv* env = CallbackEnv(&attached);
  if (env == nullptr || g_dispatch == nullptr) return;
  jbyteArray bytes = NewBytes(env, report);
  if (bytes != nullptr) {
    env->CallStaticVoidMethod(g_bridge_class, g_dispatch,
                              static_cast<jlong>(reinterpret_cast<intptr_t>(user)), bytes);
    env->DeleteLocalRef(bytes);
  }
  FinishCallback(env, attached);
}

void DbListenerTrampoline(const char* report, const datahike_db* before, const datahike_db* after,
                          void* user) {
  bool attached = false;
  JNIEnv* env = CallbackEnv(&attached);
  if (env == nullptr || g_dispatch_dbs == nullptr) return;
  jbyteArray bytes = NewBytes(env, report);
  if (bytes != nullptr) {
    env->CallStaticVoidMethod(g_bridge_class, g_dispatch_dbs,
                              static_cast<jlong>(reinterpret_cast<intptr_t>(user)), bytes,
                              static_cast<jlong>(reinterpret_cast<intptr_t>(before)),
                              static_cast<jlong>(reinterpret_cast<intptr_t>(after)));
    env->DeleteLocalRef(bytes);
  }
  FinishCallback(env, attached);
}

}  // namespace

// Caches the callback target while the class loader that loads this library is at hand.
extern "C" JNIEXPORT jint JNICALL JNI_OnLoad(JavaVM* vm, void*) {
  g_vm = vm;
  void* raw = nullptr;
  if (vm->GetEnv(&raw, JNI_VERSION_1_8) != JNI_OK) return JNI_ERR;
  JNIEnv* env = static_cast<JNIEnv*>(raw);
  jclass local = env->FindClass("io/datahike/ListenerBridge");
  if (local == nullptr) {
    env->ExceptionClear();  // loaded without the Java layer: listeners are then unavailable
    return JNI_VERSION_1_8;
  }
  g_bridge_class = static_cast<jclass>(env->NewGlobalRef(local));
  env->DeleteLocalRef(local);
  g_dispatch = env->GetStaticMethodID(g_bridge_class, "dispatch", "(J[B)V");
  if (g_dispatch == nullptr) env->ExceptionClear();
  g_dispatch_dbs = env->GetStaticMethodID(g_bridge_class, "dispatchDbs", "(J[BJJ)V");
  if (g_dispatch_dbs == nullptr) env->ExceptionClear();
  return JNI_VERSION_1_8;
}
%}

/* ---- text in ---------------------------------------------------------------------------------- */
%typemap(jni) const char* "jbyteArray"
%typemap(jtype) const char* "byte[]"
%typemap(jstype) const char* "byte[]"
%typemap(javain) const char* "$javainput"
%typemap(javaout) const char* { return $jnicall; }
%typemap(in) const char* (char* buf = nullptr) {
  if ($input != nullptr) {
    jsize n = jenv->GetArrayLength($input);
    buf = static_cast<char*>(malloc(static_cast<size_t>(n) + 1));
    if (buf == nullptr) {
      SWIG_JavaThrowException(jenv, SWIG_JavaOutOfMemoryError, "datahike: out of memory copying text");
      return $null;
    }
    jenv->GetByteArrayRegion($input, 0, n, reinterpret_cast<jbyte*>(buf));
    buf[n] = '\0';
  }
  $1 = buf;
}
%typemap(freearg) const char* { free(buf$argnum); }
/* Static strings returned by the library (version, status names). */
%typemap(out) const char* {
  $result = $1 != nullptr ? NewBytes(jenv, $1) : nullptr;
}

/* ---- text out --------------------------------------------------------------------------------- */
%typemap(jni) char** "jobjectArray"
%typemap(jtype) char** "byte[][]"
%typemap(jstype) char** "byte[][]"
%typemap(javain) char** "$javainput"
%typemap(in) char** (char* text = nullptr) { $1 = $input != nullptr ? &text : nullptr; }
%typemap(argout) char** {
  if (text$argnum != nullptr) {
    if (!jenv->ExceptionCheck() && jenv->GetArrayLength($input) > 0) {
      jbyteArray bytes = NewBytes(jenv, text$argnum);
      if (bytes != nullptr) {
        jenv->SetObjectArrayElement($input, 0, bytes);
        jenv->DeleteLocalRef(bytes);
      }
    }
    datahike_free(text$argnum);
  }
}

/* ---- handles ---------------------------------------------------------------------------------- */
%define DATAHIKE_HANDLE_IN(TYPE)
%typemap(jni) TYPE* "jlong"
%typemap(jtype) TYPE* "long"
%typemap(jstype) TYPE* "long"
%typemap(javain) TYPE* "$javainput"
%typemap(in) TYPE* { $1 = ($1_ltype)(intptr_t)$input; }
%enddef
DATAHIKE_HANDLE_IN(datahike_conn)
DATAHIKE_HANDLE_IN(datahike_db)
DATAHIKE_HANDLE_IN(const datahike_db)

/* An output handle: long[1]. */
%define DATAHIKE_HANDLE_OUT(TYPE)
%typemap(jni) TYPE** "jlongArray"
%typemap(jtype) TYPE** "long[]"
%typemap(jstype) TYPE** "long[]"
%typemap(javain) TYPE** "$javainput"
%typemap(in) TYPE** (TYPE* handle = nullptr) { $1 = $input != nullptr ? &handle : nullptr; }
%typemap(argout) TYPE** {
  if ($input != nullptr && jenv->GetArrayLength($input) > 0) {
    jlong value = static_cast<jlong>(reinterpret_cast<intptr_t>(handle$argnum));
    jenv->SetLongArrayRegion($input, 0, 1, &value);
  }
}
%enddef
DATAHIKE_HANDLE_OUT(datahike_conn)
DATAHIKE_HANDLE_OUT(datahike_db)

/* Release functions take the handle by value from Java (the Java layer forgets it itself). */
%define DATAHIKE_RELEASED(TYPE, NAME)
%typemap(jni) TYPE** NAME "jlong"
%typemap(jtype) TYPE** NAME "long"
%typemap(jstype) TYPE** NAME "long"
%typemap(javain) TYPE** NAME "$javainput"
%typemap(in) TYPE** NAME (TYPE* handle = nullptr) {
  handle = reinterpret_cast<TYPE*>(static_cast<intptr_t>($input));
  $1 = &handle;
}
%typemap(argout) TYPE** NAME ""
%enddef
DATAHIKE_RELEASED(datahike_conn, conn)
DATAHIKE_RELEASED(datahike_db, db)

/* ---- the dbs of a query ----------------------------------------------------------------------- */
%typemap(jni) (const datahike_db* const* dbs, size_t n_dbs) "jlongArray"
%typemap(jtype) (const datahike_db* const* dbs, size_t n_dbs) "long[]"
%typemap(jstype) (const datahike_db* const* dbs, size_t n_dbs) "long[]"
%typemap(javain) (const datahike_db* const* dbs, size_t n_dbs) "$javainput"
%typemap(in) (const datahike_db* const* dbs, size_t n_dbs) (const datahike_db** handles = nullptr) {
  jsize n = $input != nullptr ? jenv->GetArrayLength($input) : 0;
  if (n > 0) {
    handles = static_cast<const datahike_db**>(malloc(sizeof(datahike_db*) * static_cast<size_t>(n)));
    jlong* raw = static_cast<jlong*>(malloc(sizeof(jlong) * static_cast<size_t>(n)));
    if (handles == nullptr || raw == nullptr) {
      free(handles);
      free(raw);
      SWIG_JavaThrowException(jenv, SWIG_JavaOutOfMemoryError, "datahike: out of memory");
      return $null;
    }
    jenv->GetLongArrayRegion($input, 0, n, raw);
    for (jsize i = 0; i < n; ++i) {
      handles[i] = reinterpret_cast<const datahike_db*>(static_cast<intptr_t>(raw[i]));
    }
    free(raw);
  }
  $1 = ($1_ltype)handles;
  $2 = static_cast<size_t>(n);
}
%typemap(argout) (const datahike_db* const* dbs, size_t n_dbs) ""
%typemap(freearg) (const datahike_db* const* dbs, size_t n_dbs) { free(handles$argnum); }

/* ---- scalar outputs --------------------------------------------------------------------------- */
%define DATAHIKE_OUT_SCALAR(CTYPE, JNITYPE, JAVATYPE, JARRAY, SETTER)
%typemap(jni) CTYPE* JARRAY
%typemap(jtype) CTYPE* JAVATYPE
%typemap(jstype) CTYPE* JAVATYPE
%typemap(javain) CTYPE* "$javainput"
%typemap(in) CTYPE* (CTYPE value = 0) { $1 = $input != nullptr ? &value : nullptr; }
%typemap(argout) CTYPE* {
  if ($input != nullptr && jenv->GetArrayLength($input) > 0) {
    JNITYPE out = static_cast<JNITYPE>(value$argnum);
    jenv->SETTER($input, 0, 1, &out);
  }
}
%enddef
DATAHIKE_OUT_SCALAR(int, jint, "int[]", "jintArray", SetIntArrayRegion)
DATAHIKE_OUT_SCALAR(int64_t, jlong, "long[]", "jlongArray", SetLongArrayRegion)

/* ---- listeners -------------------------------------------------------------------------------- */
%typemap(jni) (datahike_listener callback, void* user) "jlong"
%typemap(jtype) (datahike_listener callback, void* user) "long"
%typemap(jstype) (datahike_listener callback, void* user) "long"
%typemap(javain) (datahike_listener callback, void* user) "$javainput"
%typemap(in) (datahike_listener callback, void* user) {
  $1 = ListenerTrampoline;
  $2 = reinterpret_cast<void*>(static_cast<intptr_t>($input));
}
/* A listener with the db values before and after: the bridge gets them as borrowed handles and
 * copies what it keeps (datahike_db_copy) before returning. */
%typemap(jni) (datahike_db_listener callback, void* user) "jlong"
%typemap(jtype) (datahike_db_listener callback, void* user) "long"
%typemap(jstype) (datahike_db_listener callback, void* user) "long"
%typemap(javain) (datahike_db_listener callback, void* user) "$javainput"
%typemap(in) (datahike_db_listener callback, void* user) {
  $1 = DbListenerTrampoline;
  $2 = reinterpret_cast<void*>(static_cast<intptr_t>($input));
}

%ignore datahike_free;

/* The export attribute is for the compiler; SWIG's parser does not read GCC attributes. */
#define __attribute__(x)

%include "datahike/datahike.h"
