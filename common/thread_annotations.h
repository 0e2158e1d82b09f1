// Macros for clang's thread-safety analysis (-Wthread-safety): they say which
// mutex guards a field and which locks a function needs, so that clang can
// check it at compile time. Under other compilers (the build uses gcc) they
// expand to nothing; scripts/thread_safety_check.sh runs clang over the
// files that use them.
//
// See https://clang.llvm.org/docs/ThreadSafetyAnalysis.html.
#pragma once

#if defined(__clang__) && defined(__has_attribute)
#if __has_attribute(guarded_by)
#define EMBEDPS_THREAD_ANNOTATION(x) __attribute__((x))
#endif
#endif
#ifndef EMBEDPS_THREAD_ANNOTATION
#define EMBEDPS_THREAD_ANNOTATION(x)
#endif

// On a class: its objects are locks ("mutex" names the kind in messages).
#define CAPABILITY(name) EMBEDPS_THREAD_ANNOTATION(capability(name))
// On an RAII class: constructing it acquires, destroying it releases.
#define SCOPED_CAPABILITY EMBEDPS_THREAD_ANNOTATION(scoped_lockable)

// On a field: read or written only with `mu` held.
#define GUARDED_BY(mu) EMBEDPS_THREAD_ANNOTATION(guarded_by(mu))
// On a pointer field: what it points to is read or written only with `mu`
// held (the pointer itself is not guarded).
#define PT_GUARDED_BY(mu) EMBEDPS_THREAD_ANNOTATION(pt_guarded_by(mu))

// On a function: its callers must hold these locks...
#define REQUIRES(...) EMBEDPS_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
// ...or must not (it takes them itself).
#define EXCLUDES(...) EMBEDPS_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))

// On a function: it takes or gives back these locks (none named: `this`).
#define ACQUIRE(...) EMBEDPS_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define RELEASE(...) EMBEDPS_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
// It takes the lock when it returns `ret` (true).
#define TRY_ACQUIRE(...) EMBEDPS_THREAD_ANNOTATION(try_acquire_capability(__VA_ARGS__))
// It checks that the lock is held (dies otherwise), so it is from then on.
#define ASSERT_CAPABILITY(x) EMBEDPS_THREAD_ANNOTATION(assert_capability(x))

// On a function: it returns (a reference to) the lock `x`.
#define RETURN_CAPABILITY(x) EMBEDPS_THREAD_ANNOTATION(lock_returned(x))

// On a function: not analysed. Only where the analysis cannot follow the
// locking (say why at the use).
#define NO_THREAD_SAFETY_ANALYSIS EMBEDPS_THREAD_ANNOTATION(no_thread_safety_analysis)
