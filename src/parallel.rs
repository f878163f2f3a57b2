//! An ordered parallel map for CPU-bound work fed by a sequential reader:
//! the caller's thread produces items (e.g. blobs read from git, whose
//! repository handle cannot be shared between threads) while one worker per
//! core transforms them (parse, extract). Results come back in input order,
//! so output does not depend on scheduling.

use std::sync::mpsc;
use std::sync::Mutex;

/// Items in flight per worker: enough to keep workers busy, few enough to
/// bound the memory of read-but-unparsed input.
const QUEUE_PER_WORKER: usize = 16;

/// Applies `work` to each item `produce` yields, on up to `threads` worker
/// threads; returns the results in the order the items were produced. The
/// first error of `produce` stops production and is returned once the
/// workers have finished what they were given. A panic in `work` is resumed
/// on the caller's thread.
pub fn ordered_map<I, T, E>(
    threads: usize,
    produce: impl Iterator<Item = Result<I, E>>,
    work: impl Fn(I) -> T + Sync,
) -> Result<Vec<T>, E>
where
    I: Send,
    T: Send,
{
    if threads <= 1 {
        return produce.map(|item| item.map(&work)).collect();
    }
    let (sender, receiver) = mpsc::sync_channel::<(usize, I)>(threads * QUEUE_PER_WORKER);
    let receiver = Mutex::new(receiver);
    let work = &work;
    let receiver = &receiver;
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(move || {
                    let mut done = Vec::new();
                    loop {
                        // The lock is held only to take the next item.
                        let next = match receiver.lock() {
                            Ok(receiver) => receiver.recv(),
                            Err(_) => break, // another worker panicked
                        };
                        match next {
                            Ok((index, item)) => done.push((index, work(item))),
                            Err(_) => break, // the producer is done
                        }
                    }
                    done
                })
            })
            .collect();
        let mut failure = None;
        for (index, item) in produce.enumerate() {
            match item {
                // A send fails only when every worker is gone (a panic,
                // resumed below).
                Ok(item) => {
                    if sender.send((index, item)).is_err() {
                        break;
                    }
                }
                Err(error) => {
                    failure = Some(error);
                    break;
                }
            }
        }
        drop(sender);
        let mut results = Vec::new();
        for worker in workers {
            match worker.join() {
                Ok(done) => results.extend(done),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        if let Some(error) = failure {
            return Err(error);
        }
        results.sort_unstable_by_key(|(index, _)| *index);
        Ok(results.into_iter().map(|(_, result)| result).collect())
    })
}

/// Worker threads for CPU-bound work: one per available core.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_input_order_whatever_the_thread_count() {
        for threads in [1, 2, 3, 8] {
            let items = (0..1000).map(Ok::<u64, ()>);
            let squares = ordered_map(threads, items, |n| n * n).unwrap();
            assert_eq!(squares, (0..1000).map(|n| n * n).collect::<Vec<_>>());
        }
    }

    #[test]
    fn stops_at_the_first_producer_error() {
        let items = (0..100).map(|n| if n == 10 { Err(n) } else { Ok(n) });
        assert_eq!(ordered_map(2, items, |n| n), Err(10));
        let items = (0..5).map(|n| if n == 0 { Err(n) } else { Ok(n) });
        assert_eq!(ordered_map(1, items, |n| n), Err(0));
    }

    #[test]
    fn empty_input_gives_empty_output() {
        let items = std::iter::empty::<Result<u8, ()>>();
        assert_eq!(ordered_map(4, items, |n| n), Ok(vec![]));
    }

    #[test]
    #[should_panic(expected = "worker failed")]
    fn a_worker_panic_reaches_the_caller() {
        let items = (0..100).map(Ok::<u32, ()>);
        let _ = ordered_map(2, items, |n| {
            assert!(n != 50, "worker failed");
            n
        });
    }
}
