//! A join that waits awake.
//!
//! [`rayon::join`]'s caller, once its own half is done and the other half is still running on
//! another thread, looks for other work for a few dozen rounds and then sleeps until the other
//! half wakes it. Waking costs a system call on one side and the scheduler's latency on the
//! other, and the halves of a small network's batch end within a few microseconds of each
//! other often enough that this is a visible share of a batch on two threads. [`join`] runs the
//! same two halves but waits for the other half awake, for at most [`AWAKE`], before it lets
//! rayon put it to sleep. Like `rayon::join`, it decides only which thread runs each half,
//! never what a half computes.

use core::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// How long [`join`] waits awake: many times the gap between the ends of two halves of a
/// batch of LeNet-5 on two threads (`BENCHMARKS.md`, LeNet-5, the step of c213134), short
/// enough that a caller whose other half runs long spends little on it before rayon's
/// ordinary, sleeping wait takes over.
const AWAKE: Duration = Duration::from_micros(500);

/// `a()` on this thread and `b()` on another of the pool's threads if one takes it (else on
/// this one, after `a`), as [`rayon::join`], then waiting for `b` awake (running the pool's
/// other work meanwhile, or yielding the CPU to whatever else wants it) for up to [`AWAKE`].
/// Called on one of the pool's threads.
pub(super) fn join<A, B>(a: A, b: B)
where
    A: FnOnce() + Send,
    B: FnOnce() + Send,
{
    /// Sets the flag when `b` ends, however it ends (a panicking `b` ends the wait at once).
    struct Done<'a>(&'a AtomicBool);
    impl Drop for Done<'_> {
        fn drop(&mut self) {
            self.0.store(true, Ordering::Release);
        }
    }
    let done = AtomicBool::new(false);
    rayon::scope(|s| {
        s.spawn(|_| {
            let _done = Done(&done);
            b()
        });
        a();
        let start = Instant::now();
        while !done.load(Ordering::Acquire) && start.elapsed() < AWAKE {
            match rayon::yield_now() {
                Some(rayon::Yield::Executed) => {}
                Some(rayon::Yield::Idle) => std::thread::yield_now(),
                None => break,
            }
        }
        // The end of the scope waits for `b` as rayon does, if it is still running.
    });
}

#[cfg(test)]
mod tests {
    use super::join;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn pool(threads: usize) -> rayon::ThreadPool {
        match rayon::ThreadPoolBuilder::new().num_threads(threads).build() {
            Ok(pool) => pool,
            Err(e) => panic!("a pool of {threads} threads: {e}"),
        }
    }

    /// Both halves run once, nested joins too, on pools of one and of several threads.
    #[test]
    fn runs_both_halves_once() {
        for threads in [1, 2, 3] {
            let count = AtomicUsize::new(0);
            let leaf = || {
                count.fetch_add(1, Ordering::Relaxed);
            };
            let half = || join(leaf, leaf);
            pool(threads).install(|| join(half, half));
            assert_eq!(count.load(Ordering::Relaxed), 4, "{threads} threads");
        }
    }

    /// A half that panics ends the join with its panic, after the other half has run.
    #[test]
    fn a_panicking_half_is_reported() {
        let other = AtomicUsize::new(0);
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            pool(2).install(|| {
                join(
                    || {
                        other.fetch_add(1, Ordering::Relaxed);
                    },
                    || panic!("the second half"),
                )
            })
        }));
        assert!(result.is_err());
        assert_eq!(other.load(Ordering::Relaxed), 1);
    }
}
